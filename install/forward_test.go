package install_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/install"
)

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
			if _, _, err := install.WriteLocalForward(ctx, cfg, tt.alias, hostconf.Forward{Listen: "1", Target: "h:2"}, fileedit.EditOptions{}); err != nil {
				t.Fatal(err)
			}
			// Dry run: a diff, no write.
			before, _ := os.ReadFile(cfg)
			changed, diff, err := install.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, fileedit.EditOptions{DryRun: true})
			if err != nil || !changed || !strings.Contains(diff, "+    LocalForward") {
				t.Fatalf("dry run: changed=%v diff=%q err=%v; want a change with a diff", changed, diff, err)
			}
			if after, _ := os.ReadFile(cfg); string(after) != string(before) {
				t.Fatalf("dry run wrote the file")
			}
			changed, _, err = install.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, fileedit.EditOptions{})
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
			if bak, _ := os.ReadFile(cfg + fileedit.BackupSuffix); string(bak) != string(before) {
				t.Errorf("backup = %q, want the previous version %q", bak, before)
			}
			changed, diff, err = install.WriteLocalForward(ctx, cfg, tt.alias, tt.fwd, fileedit.EditOptions{})
			if err != nil || changed || diff != "" {
				t.Fatalf("second run: changed=%v diff=%q err=%v; want no change", changed, diff, err)
			}
			if _, _, err := install.RemoveLocalForward(ctx, cfg, tt.alias, fileedit.EditOptions{}); err != nil {
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
		got, err := install.LocalForwardLine(tt.fwd)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("LocalForwardLine(%+v) = %q, %v; want %q, error %v", tt.fwd, got, err, tt.want, tt.wantErr)
		}
	}
}
