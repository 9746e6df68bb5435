//go:build windows

package sshclient

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// defaultAgent is the Windows OpenSSH agent's named pipe, used when neither
// IdentityAgent nor SSH_AUTH_SOCK names an agent.
const defaultAgent = `\\.\pipe\openssh-ssh-agent`

// dialAgent connects to the agent: a named pipe (\\.\pipe\...), as the
// Windows OpenSSH agent and Pageant's OpenSSH-compatible pipe offer, or a
// unix socket (Windows 10 1803 and later have AF_UNIX).
//
// "pageant" means PuTTY's agent (see dialPageant).
func dialAgent(ctx context.Context, sock string) (net.Conn, error) {
	if strings.EqualFold(sock, "pageant") {
		return dialPageant()
	}
	if strings.HasPrefix(sock, `\\.\pipe\`) || strings.HasPrefix(sock, `//./pipe/`) {
		f, err := os.OpenFile(sock, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		return pipeConn{f}, nil
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	return d.DialContext(ctx, "unix", sock)
}

// pipeConn presents a named pipe as a net.Conn for the agent client.
type pipeConn struct{ f *os.File }

func (p pipeConn) Read(b []byte) (int, error)  { return p.f.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return p.f.Write(b) }
func (p pipeConn) Close() error                { return p.f.Close() }
func (p pipeConn) LocalAddr() net.Addr         { return pipeAddr{} }
func (p pipeConn) RemoteAddr() net.Addr        { return pipeAddr{} }
func (p pipeConn) SetDeadline(t time.Time) error {
	return errors.Join(p.f.SetReadDeadline(t), p.f.SetWriteDeadline(t))
}
func (p pipeConn) SetReadDeadline(t time.Time) error  { return p.f.SetReadDeadline(t) }
func (p pipeConn) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

var _ io.ReadWriteCloser = pipeConn{}
