package fileedit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

func TestEditFileMissingAndSymlink(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".ssh", "config")
	ctx := context.Background()
	res, err := fileedit.EditFile(ctx, cfg, fileedit.EditOptions{}, func(old []byte) ([]byte, error) {
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
	res, err = fileedit.EditFile(ctx, link, fileedit.EditOptions{}, func(old []byte) ([]byte, error) {
		return append(old, "Host c\n"...), nil
	})
	if err != nil || res.Path != real || res.Backup != real+fileedit.BackupSuffix {
		t.Fatalf("EditFile(link) = %+v, %v; want path %s", res, err, real)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink", link)
	}
	if got, _ := os.ReadFile(real); string(got) != "Host b\nHost c\n" {
		t.Errorf("target = %q, want %q", got, "Host b\nHost c\n")
	}
	if fi, _ := os.Stat(real + fileedit.BackupSuffix); fi.Mode().Perm() != 0o644 {
		t.Errorf("backup mode = %v, want the original's 0644", fi.Mode().Perm())
	}

	// An edit that changes nothing of a missing file creates nothing.
	none := filepath.Join(home, "none")
	res, err = fileedit.EditFile(ctx, none, fileedit.EditOptions{}, func(old []byte) ([]byte, error) { return old, nil })
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
	_, err := fileedit.EditFileCrashing(context.Background(), cfg, fileedit.EditOptions{},
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
	if err := fileedit.WriteFileAtomicCrashing(cfg, []byte("x"), 0, func(string) error { return crash }); !errors.Is(err, crash) {
		t.Fatalf("got %v, want the crash", err)
	}
	if err := fileedit.WriteFileAtomic(cfg, []byte("new\n"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "new\n" {
		t.Fatalf("file = %q, want %q", got, "new\n")
	}
	if got, _ := os.ReadFile(cfg + fileedit.BackupSuffix); string(got) != "old\r\n" {
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
	l, err := fileedit.LockFile(ctx, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fileedit.EditFile(ctx, cfg, fileedit.EditOptions{LockTimeout: 50 * time.Millisecond},
		func(old []byte) ([]byte, error) { return []byte("x"), nil })
	if !errors.Is(err, fileedit.ErrLocked) || !strings.Contains(err.Error(), cfg) {
		t.Fatalf("edit while locked: got %v, want ErrLocked naming %s", err, cfg)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fileedit.LockFile(cctx, cfg, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("LockFile with a cancelled context: got %v, want context.Canceled", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := fileedit.EditFile(ctx, cfg, fileedit.EditOptions{}, func([]byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
		t.Fatalf("edit after unlock: %v", err)
	}
}
