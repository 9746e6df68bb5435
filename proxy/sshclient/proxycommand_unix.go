//go:build !windows

package sshclient

import "os/exec"

// proxyCommandCmd runs a ProxyCommand as OpenSSH does on Unix: through
// /bin/sh as "exec COMMAND".
func proxyCommandCmd(command string) (*exec.Cmd, error) {
	return exec.Command("/bin/sh", "-c", "exec "+command), nil
}
