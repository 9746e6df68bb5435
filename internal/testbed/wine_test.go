package testbed_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// TestWine proves the prefix runs a Go ≥ 1.24 Windows program (the bcryptprimitives stand-in works), passes
// arguments and extra environment, maps Z:\ to / and sets registry values a program can read back.
func TestWine(t *testing.T) {
	w := testbed.SharedWine(t)
	defer testbed.CloseWine()
	w.Lock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "winprobe.exe")
	if err := testbed.BuildWindows(ctx, "./internal/testbed/testdata/winprobe", exe); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "some file.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := w.Output(ctx, []string{"NBTUNNEL_PROBE=x y"}, exe, testbed.WindowsPath(file), "a b")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"arg0=" + testbed.WindowsPath(file) + "\n", "arg1=a b\n", "NBTUNNEL_PROBE=x y\n", "file=hello\n",
		"USERPROFILE=" + w.ProfilePath() + "\n",
	} {
		if !strings.Contains(strings.ReplaceAll(out, "\r\n", "\n"), want) {
			t.Errorf("winprobe output lacks %q:\n%s", want, out)
		}
	}
	if got := w.LinuxPath(w.ProfilePath("x")); got != filepath.Join(w.Profile, "x") {
		t.Errorf("LinuxPath(ProfilePath(x)) = %s, want %s", got, filepath.Join(w.Profile, "x"))
	}
	key := `HKCU\Software\SimonTatham\PuTTY\Sessions\probe`
	if err := w.RegAdd(ctx, key, "PortNumber", "REG_DWORD", "2222"); err != nil {
		t.Fatal(err)
	}
	q, err := w.RegQuery(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, "PortNumber") || !strings.Contains(q, "0x8ae") {
		t.Errorf("reg query %s = %q, want PortNumber 0x8ae", key, q)
	}
}
