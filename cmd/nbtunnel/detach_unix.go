//go:build !windows

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// detach starts this program again with args in a new session, its stderr
// on the controlling terminal so it can still show the link, and returns
// without waiting for it.
func detach(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		cmd.Stderr = tty
	} else {
		cmd.Stderr = os.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
