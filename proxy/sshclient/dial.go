package sshclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/internal/fastio"
)

// ErrNoMaster is returned by Dial with MasterOnly when no ControlMaster
// answers on the host's ControlPath.
var ErrNoMaster = errors.New("no ControlMaster is running for this host")

// Dial connects to h as the user's OpenSSH client would and returns the
// authenticated connection. It never forwards the agent.
func Dial(ctx context.Context, h *hostconf.Host, o Options) (*Client, error) {
	if h.HostKeys == nil && !o.MasterOnly {
		return nil, fmt.Errorf("connecting to %s: no host-key database is configured", h.Addr())
	}
	if !o.NoMaster && h.ControlPath != "" && h.ControlPath != "none" {
		c, err := dialMaster(ctx, h)
		if err == nil {
			o.logf("using the ControlMaster at %s", h.ControlPath)
			return c, nil
		}
		if o.MasterOnly {
			return nil, err
		}
		if !errors.Is(err, ErrNoMaster) {
			o.logf("not using the ControlMaster at %s: %v", h.ControlPath, err)
		}
	} else if o.MasterOnly {
		return nil, fmt.Errorf("connecting through the ControlMaster of %s: %w (no ControlPath is configured)", h.Alias, ErrNoMaster)
	}
	transport, closers, err := DialTransport(ctx, h, o)
	if err != nil {
		return nil, err
	}
	c, err := handshake(ctx, transport, h, o)
	if err != nil {
		closeAll(closers)
		return nil, err
	}
	c.closers = append(c.closers, closers...)
	c.startKeepalive(h, o)
	return c, nil
}

func dialMaster(ctx context.Context, h *hostconf.Host) (*Client, error) {
	if _, err := os.Stat(h.ControlPath); err != nil {
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w", h.ControlPath, ErrNoMaster)
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "unix", h.ControlPath)
	if err != nil {
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w (%v)", h.ControlPath, ErrNoMaster, err)
	}
	stop := closeAfter(conn, 10*time.Second)
	sc, chans, reqs, err := ssh.NewControlClientConn(conn)
	if !stop() {
		err = fmt.Errorf("the master did not answer within 10s")
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w", h.ControlPath, err)
	}
	c := newClient(sc, chans, reqs, h)
	c.ViaMaster = true
	return c, nil
}

func connectTimeout(h *hostconf.Host) time.Duration {
	if h.ConnectTimeout > 0 {
		return h.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// DialVia connects to h through a channel of an established connection
// (the last jump host, say), so one jump chain can carry several
// connections to the target: the user's ssh stream and our own.
func DialVia(ctx context.Context, via *Client, h *hostconf.Host, o Options) (*Client, error) {
	conn, err := via.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		return nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", via.Host.Alias, h.Addr(), err)
	}
	c, err := handshake(ctx, conn, h, o)
	if err != nil {
		return nil, err
	}
	c.startKeepalive(h, o)
	return c, nil
}

// preferredCiphers puts AES-GCM first where the CPU has AES instructions and
// ChaCha20-Poly1305 first where it does not.
func preferredCiphers(user []string) []string {
	if len(user) > 0 {
		return user
	}
	hasAES := cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ || cpu.ARM64.HasAES && cpu.ARM64.HasPMULL || cpu.S390X.HasAES
	if hasAES {
		return []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
	}
	return []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
}

func handshake(ctx context.Context, conn net.Conn, h *hostconf.Host, o Options) (*Client, error) {
	user := h.User
	if user == "" {
		user = o.getenv("USER")
	}
	timeout := connectTimeout(h)
	if timeout < DefaultConnectTimeout {
		timeout = DefaultConnectTimeout
	}
	g := &guard{conn: conn, timeout: timeout}
	g.arm()
	defer g.disarm()
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopCtx()

	auth := &authState{h: h, o: o, user: user, guard: g, ctx: ctx}
	defer func() {
		if auth.agentConn != nil {
			auth.agentConn.Close()
		}
	}()
	// Both checkers (known_hosts, PuTTY's cache) take host:port and apply
	// HostKeyAlias themselves.
	name := h.Addr()
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              auth.methods(),
		AuthCallback:      auth.next,
		HostKeyCallback:   h.HostKeys.Callback(name),
		HostKeyAlgorithms: h.HostKeys.Algorithms(name),
		ClientVersion:     "SSH-2.0-nbtunnel",
	}
	if len(cfg.HostKeyAlgorithms) == 0 && len(h.HostKeyAlgorithms) > 0 {
		cfg.HostKeyAlgorithms = h.HostKeyAlgorithms
	}
	cfg.Ciphers = preferredCiphers(h.Ciphers)
	// Raw read and write calls on the socket: see package fastio (about 30 %
	// less CPU per GiB through a forward, BENCHMARKS.md).
	tc := fastio.Wrap(conn)
	sc, chans, reqs, err := ssh.NewClientConn(tc, h.Addr(), cfg)
	if err != nil {
		tc.Close()
		var hk *hostkeys.KeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if g.fired() {
			return nil, fmt.Errorf("connecting to %s: the SSH handshake did not finish within %v", h.Addr(), timeout)
		}
		if aerr := auth.failure(h.Addr(), err); aerr != nil {
			return nil, aerr
		}
		return nil, fmt.Errorf("connecting to %s: %w", h.Addr(), err)
	}
	return newClient(sc, chans, reqs, h), nil
}

// guard closes the connection when the handshake stalls. Prompts pause it:
// a person typing a 2FA code is not a stall.
type guard struct {
	conn    net.Conn
	timeout time.Duration
	mu      sync.Mutex
	t       *time.Timer
	didFire bool
}

func (g *guard) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.t = time.AfterFunc(g.timeout, func() {
		g.mu.Lock()
		g.didFire = true
		g.mu.Unlock()
		g.conn.Close()
	})
}

func (g *guard) disarm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.t != nil {
		g.t.Stop()
	}
}

func (g *guard) fired() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.didFire
}

// pause stops the timer around an interactive prompt.
func (g *guard) pause(f func() error) error {
	g.disarm()
	defer g.arm()
	return f()
}
