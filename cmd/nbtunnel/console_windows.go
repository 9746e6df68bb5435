//go:build windows

package main

import (
	"os"
)

// openConsole opens the process's console for a prompt, as Win32-OpenSSH
// and plink do: CONIN$ to read (with echo control through its console
// mode) and CONOUT$ to write, whatever stdin and stdout are. A process
// without a console (PuTTY's proxy command, a service) gets errNoTTY.
func openConsole() (in, out *os.File, err error) {
	in, err = os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, errNoTTY
	}
	out, err = os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		in.Close()
		return nil, nil, errNoTTY
	}
	return in, out, nil
}
