//go:build unix

package fileedit_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestEditFileKeepsOwner runs as root (as "sudo nbtunnel" would): the
// user's file, its backup and a new file must stay the user's.
func TestEditFileKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("NBTUNNEL_E2E") == "1" {
			t.Fatal("this test needs root")
		}
		t.Skip("this test needs root")
	}
	const uid, gid = 4321, 4322
	home := t.TempDir()
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := filepath.Join(home, ".ssh", "config")
	if err := appendLine(ctx, cfg, "LocalForward 1 h:2"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(cfg), cfg} {
		if u, g := owner(t, p); u != uid || g != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, u, g, uid, gid)
		}
	}
	if err := appendLine(ctx, cfg, "LocalForward 2 h:2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(cfg + fileedit.LockSuffix); !os.IsNotExist(err) {
		t.Errorf("lock file %s left beside the config (%v)", cfg+fileedit.LockSuffix, err)
	}
	for _, p := range []string{cfg, cfg + fileedit.BackupSuffix} {
		if u, g := owner(t, p); u != uid || g != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, u, g, uid, gid)
		}
	}
}

// appendLine edits path with EditFile, adding one line.
func appendLine(ctx context.Context, path, line string) error {
	_, err := fileedit.EditFile(ctx, path, fileedit.EditOptions{}, func(old []byte) ([]byte, error) {
		return append(old, line+"\n"...), nil
	})
	return err
}
