//go:build windows

package sshclient

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// proxyCommandCmd runs a ProxyCommand as Win32-OpenSSH and PuTTY for
// Windows do: no shell; the whole command is the CreateProcess command
// line, so the program splits its own arguments (CommandLineToArgvW rules
// for most programs). The program is the first word: up to the closing
// quote when it starts with '"', else up to the first space or tab.
func proxyCommandCmd(command string) (*exec.Cmd, error) {
	command = strings.TrimLeft(command, " \t")
	prog := programOf(command)
	if prog == "" {
		return nil, errors.New("the command is empty")
	}
	path, err := exec.LookPath(prog)
	if err != nil && !errors.Is(err, exec.ErrDot) {
		return nil, fmt.Errorf("finding the program %s: %w", prog, err)
	}
	cmd := exec.Command(path)
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: command}
	return cmd, nil
}
