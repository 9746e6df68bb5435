//go:build !windows

package sshclient

import (
	"context"
	"net"
	"time"
)

// defaultAgent is the agent used when neither IdentityAgent nor
// SSH_AUTH_SOCK names one: none on Unix.
const defaultAgent = ""

// dialAgent connects to the agent's unix socket.
func dialAgent(ctx context.Context, sock string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	return d.DialContext(ctx, "unix", sock)
}
