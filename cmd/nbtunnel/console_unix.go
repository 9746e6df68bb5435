//go:build !windows

package main

import (
	"os"
)

// openConsole opens the controlling terminal for a prompt: one file to
// read from and write to, returned twice (close both).
func openConsole() (in, out *os.File, err error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, errNoTTY
	}
	g, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		f.Close()
		return nil, nil, errNoTTY
	}
	return f, g, nil
}
