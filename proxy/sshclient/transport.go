package sshclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// DialTransport returns a byte stream to h's SSH server, as the user's ssh
// would reach it before its own handshake: through h's ProxyCommand, through
// its ProxyJump chain (each hop authenticated as its own host), or over TCP.
// The closers release the jump connections or the command; the caller closes
// them after the stream.
func DialTransport(ctx context.Context, h *hostconf.Host, o Options) (net.Conn, []io.Closer, error) {
	switch {
	case h.ProxyCommand != "" && h.ProxyCommand != "none":
		c, err := commandConn(h.ProxyCommand, o.Stderr)
		if err != nil {
			return nil, nil, fmt.Errorf("starting ProxyCommand for %s: %w", h.Alias, err)
		}
		return c, nil, nil
	case len(h.ProxyJump) > 0:
		return dialJumps(ctx, h, o)
	default:
		d := net.Dialer{Timeout: connectTimeout(h), KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, "tcp", h.Addr())
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", h.Addr(), err)
		}
		return c, nil, nil
	}
}

func dialJumps(ctx context.Context, h *hostconf.Host, o Options) (net.Conn, []io.Closer, error) {
	var closers []io.Closer
	first := h.ProxyJump[0]
	jo := o
	jo.MasterOnly = false
	prev, err := Dial(ctx, first, jo)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to jump host %s: %w", first.Alias, err)
	}
	closers = append(closers, prev)
	for _, hop := range h.ProxyJump[1:] {
		conn, err := prev.DialContext(ctx, "tcp", hop.Addr())
		if err != nil {
			closeAll(closers)
			return nil, nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", prev.Host.Alias, hop.Addr(), err)
		}
		next, err := handshake(ctx, conn, hop, jo)
		if err != nil {
			closeAll(closers)
			return nil, nil, fmt.Errorf("connecting to jump host %s: %w", hop.Alias, err)
		}
		closers = append(closers, next)
		prev = next
	}
	conn, err := prev.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		closeAll(closers)
		return nil, nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", prev.Host.Alias, h.Addr(), err)
	}
	return conn, closers, nil
}

// commandConn runs command as the platform's OpenSSH runs a ProxyCommand
// (see proxyCommandCmd) and presents its stdin and stdout as a net.Conn.
// Its ends of the two pipes are *os.File values Go's poller watches
// (Pipes), so proxy.Relay can splice between them and the user's ssh.
func commandConn(command string, stderr io.Writer) (net.Conn, error) {
	cmd, err := proxyCommandCmd(command)
	if err != nil {
		return nil, err
	}
	if stderr == nil {
		stderr = io.Discard
	}
	cmd.Stderr = stderr
	stdinR, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	r, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		w.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = stdinR, stdoutW
	err = cmd.Start()
	stdinR.Close()
	stdoutW.Close()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &cmdConn{cmd: cmd, r: r, w: w}, nil
}

type cmdConn struct {
	cmd  *exec.Cmd
	r    *os.File // the command's stdout
	w    *os.File // the command's stdin
	once sync.Once
}

// Pipes returns our ends of the command's stdout and stdin, for a relay
// that moves bytes between descriptors (proxy.Relay's splice on Linux).
func (c *cmdConn) Pipes() (fromCommand, toCommand *os.File) { return c.r, c.w }

func (c *cmdConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *cmdConn) CloseWrite() error { return c.w.Close() }

func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
	})
	return nil
}

func (c *cmdConn) LocalAddr() net.Addr { return cmdAddr{} }

func (c *cmdConn) RemoteAddr() net.Addr { return cmdAddr{} }

func (c *cmdConn) SetDeadline(t time.Time) error { return nil }

func (c *cmdConn) SetReadDeadline(t time.Time) error { return nil }

func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }

type cmdAddr struct{}

func (cmdAddr) Network() string { return "proxycommand" }

func (cmdAddr) String() string { return "proxycommand" }
