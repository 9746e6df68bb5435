package hostconf_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWriteLocalForwardGolden(t *testing.T) {
	tests := []struct {
		name  string
		alias string
		fwd   hostconf.Forward
	}{
		{"crlf", "gpu-box", hostconf.Forward{Listen: "127.0.0.1:18888", Target: "127.0.0.1:8888"}},
		{"pattern", "gpu-7", hostconf.Forward{Listen: "18889", Target: "/run/user/1000/jupyter sock/j.sock"}},
		{"empty", "gpu-box", hostconf.Forward{Listen: "127.0.0.1:18888", Target: "localhost:8888"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "edit", tt.name+".in"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(cfg, in, 0o640); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			// An earlier forward is replaced, not added to.
			if _, _, err := hostconf.WriteLocalForward(ctx, cfg, tt.alias, hostconf.Forward{Listen: "1", Target: "h:2"}, hostconf.EditOptions{}); err != nil {
				t.Fatal(err)
			}
			// Dry run: a diff, no write.
			before, _ := os.ReadFile(cfg)
			changed, diff, err := hostconf.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, hostconf.EditOptions{DryRun: true})
			if err != nil || !changed || !strings.Contains(diff, "+    LocalForward") {
				t.Fatalf("dry run: changed=%v diff=%q err=%v; want a change with a diff", changed, diff, err)
			}
			if after, _ := os.ReadFile(cfg); string(after) != string(before) {
				t.Fatalf("dry run wrote the file")
			}
			changed, _, err = hostconf.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, hostconf.EditOptions{})
			if err != nil || !changed {
				t.Fatalf("WriteLocalForward: changed=%v err=%v; want a change", changed, err)
			}
			got, _ := os.ReadFile(cfg)
			golden := filepath.Join("testdata", "edit", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("config:\ngot  %q\nwant %q", got, want)
			}
			if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
			}
			if bak, _ := os.ReadFile(cfg + hostconf.BackupSuffix); string(bak) != string(before) {
				t.Errorf("backup = %q, want the previous version %q", bak, before)
			}
			changed, diff, err = hostconf.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, hostconf.EditOptions{})
			if err != nil || changed || diff != "" {
				t.Fatalf("second run: changed=%v diff=%q err=%v; want no change", changed, diff, err)
			}
			if _, _, err := hostconf.RemoveLocalForward(ctx, cfg, tt.alias, hostconf.EditOptions{}); err != nil {
				t.Fatal(err)
			}
			if back, _ := os.ReadFile(cfg); string(back) != string(in) {
				t.Fatalf("after RemoveLocalForward:\ngot  %q\nwant %q", back, in)
			}
		})
	}
}

func TestLocalForwardLine(t *testing.T) {
	tests := []struct {
		fwd     hostconf.Forward
		want    string
		wantErr bool
	}{
		{hostconf.Forward{Listen: "8888", Target: "127.0.0.1:8888"}, "LocalForward 127.0.0.1:8888 127.0.0.1:8888", false},
		{hostconf.Forward{Listen: "[::1]:9", Target: "[::1]:10"}, "LocalForward [::1]:9 [::1]:10", false},
		{hostconf.Forward{Listen: "1", Target: "/a b/100%.sock"}, `LocalForward 127.0.0.1:1 "/a b/100%%.sock"`, false},
		{hostconf.Forward{Listen: "0", Target: "h:1"}, "", true},
		{hostconf.Forward{Listen: "1", Target: "h:70000"}, "", true},
		{hostconf.Forward{Listen: "1", Target: `/a"b`}, "", true},
		{hostconf.Forward{Listen: "::1:5", Target: "h:1"}, "", true},
		{hostconf.Forward{Listen: "1", Target: "h h:1"}, "", true},
	}
	for _, tt := range tests {
		got, err := hostconf.LocalForwardLine(tt.fwd)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("LocalForwardLine(%+v) = %q, %v; want %q, error %v", tt.fwd, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEditFileMissingAndSymlink(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".ssh", "config")
	ctx := context.Background()
	res, err := hostconf.EditFile(ctx, cfg, hostconf.EditOptions{}, func(old []byte) ([]byte, error) {
		return append(old, "Host a\n"...), nil
	})
	if err != nil || !res.Changed || res.Backup != "" || res.Path != cfg {
		t.Fatalf("EditFile = %+v, %v; want a change, no backup, path %s", res, err, cfg)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode = %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(cfg)); fi.Mode().Perm() != 0o700 {
		t.Errorf("new dir mode = %v, want 0700", fi.Mode().Perm())
	}

	// A symlinked config is edited at its target; the link stays.
	real := filepath.Join(home, "dotfiles", "ssh_config")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("Host b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "link")
	if err := os.Symlink("dotfiles/ssh_config", link); err != nil {
		t.Fatal(err)
	}
	res, err = hostconf.EditFile(ctx, link, hostconf.EditOptions{}, func(old []byte) ([]byte, error) {
		return append(old, "Host c\n"...), nil
	})
	if err != nil || res.Path != real || res.Backup != real+hostconf.BackupSuffix {
		t.Fatalf("EditFile(link) = %+v, %v; want path %s", res, err, real)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink", link)
	}
	if got, _ := os.ReadFile(real); string(got) != "Host b\nHost c\n" {
		t.Errorf("target = %q, want %q", got, "Host b\nHost c\n")
	}
	if fi, _ := os.Stat(real + hostconf.BackupSuffix); fi.Mode().Perm() != 0o644 {
		t.Errorf("backup mode = %v, want the original's 0644", fi.Mode().Perm())
	}

	// An edit that changes nothing of a missing file creates nothing.
	none := filepath.Join(home, "none")
	res, err = hostconf.EditFile(ctx, none, hostconf.EditOptions{}, func(old []byte) ([]byte, error) { return old, nil })
	if _, serr := os.Stat(none); err != nil || res.Changed || serr == nil {
		t.Errorf("no-op edit of a missing file: %+v, %v, stat %v; want no change and no file", res, err, serr)
	}
}

func TestEditFileCrashLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("old\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	var sawTmp string
	_, err := hostconf.EditFileCrashing(context.Background(), cfg, hostconf.EditOptions{},
		func([]byte) ([]byte, error) { return []byte("new\n"), nil },
		func(tmp string) error {
			sawTmp = tmp
			if got, _ := os.ReadFile(tmp); string(got) != "new\n" {
				t.Errorf("temp file = %q, want the complete new content", got)
			}
			return crash
		})
	if !errors.Is(err, crash) {
		t.Fatalf("got %v, want the crash", err)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "old\r\n" {
		t.Fatalf("after a crash before rename the file is %q, want the old %q", got, "old\r\n")
	}
	if filepath.Dir(sawTmp) != dir {
		t.Errorf("temp file %s not in the file's directory %s", sawTmp, dir)
	}
	if err := hostconf.WriteFileAtomicCrashing(cfg, []byte("x"), 0, func(string) error { return crash }); !errors.Is(err, crash) {
		t.Fatalf("got %v, want the crash", err)
	}
	if err := hostconf.WriteFileAtomic(cfg, []byte("new\n"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "new\n" {
		t.Fatalf("file = %q, want %q", got, "new\n")
	}
	if got, _ := os.ReadFile(cfg + hostconf.BackupSuffix); string(got) != "old\r\n" {
		t.Fatalf("backup = %q, want %q", got, "old\r\n")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

func TestLockFileContention(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	ctx := context.Background()
	l, err := hostconf.LockFile(ctx, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = hostconf.EditFile(ctx, cfg, hostconf.EditOptions{LockTimeout: 50 * time.Millisecond},
		func(old []byte) ([]byte, error) { return []byte("x"), nil })
	if !errors.Is(err, hostconf.ErrLocked) || !strings.Contains(err.Error(), cfg) {
		t.Fatalf("edit while locked: got %v, want ErrLocked naming %s", err, cfg)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := hostconf.LockFile(cctx, cfg, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("LockFile with a cancelled context: got %v, want context.Canceled", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := hostconf.EditFile(ctx, cfg, hostconf.EditOptions{}, func([]byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
		t.Fatalf("edit after unlock: %v", err)
	}
}
