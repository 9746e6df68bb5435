//go:build linux

package main_test

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// termEcho reports whether the terminal f has echo on.
func termEcho(t *testing.T, f *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		t.Fatalf("TCGETS: %v", e)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// TestPromptInterruptRestoresTerminal: Ctrl-C (and SIGTERM) at a
// passphrase prompt ends nbtunnel and leaves the terminal with echo on, as
// it was before the prompt.
func TestPromptInterruptRestoresTerminal(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	u := newPuttyUser(t)
	u.session(t, "lab", h, ppkKey(t, 3, "s3cret"))
	u.trust(t, h)
	for _, tc := range []struct {
		name string
		stop func(ptm *os.File, cmd *exec.Cmd)
	}{
		{"ctrl-c", func(ptm *os.File, _ *exec.Cmd) { io.WriteString(ptm, "\x03") }},
		{"sigterm", func(_ *os.File, cmd *exec.Cmd) { cmd.Process.Signal(syscall.SIGTERM) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ptm, pts := openPty(t)
			if !termEcho(t, pts) {
				t.Fatal("a new terminal has echo off")
			}
			cmd := exec.Command(binPath, "open", "--putty", "lab")
			cmd.Env = u.env
			cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			t.Cleanup(func() { cmd.Process.Kill(); <-done })
			screen := &syncBuffer{}
			go io.Copy(screen, ptm)
			waitFor(t, 60*time.Second, func() bool { return strings.Contains(screen.String(), "passphrase") })
			waitFor(t, 10*time.Second, func() bool { return !termEcho(t, pts) })
			tc.stop(ptm, cmd)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("nbtunnel did not end; terminal:\n%s", screen)
			}
			if !termEcho(t, pts) {
				t.Errorf("the terminal has echo off after nbtunnel ended; terminal:\n%s", screen)
			}
		})
	}
}
