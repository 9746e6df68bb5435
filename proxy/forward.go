package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/fastio"
	"golang.org/x/crypto/ssh"
)

// Dialer opens one stream to the remote end of a forward. *ssh.Client satisfies it: its DialContext opens a
// "direct-tcpip" channel for network "tcp" and a "direct-streamlocal@openssh.com" channel for "unix".
//
// DialContext must return when ctx is done. The returned net.Conn belongs to the caller, who closes it;
// when it has a CloseWrite method (ssh channels, TCP and unix connections do) the Forwarder uses it to
// pass on a half-close.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Default timings of a Forwarder.
const (
	// DefaultGrace is how long an accepted connection waits for a Dialer while none is set.
	DefaultGrace = 10 * time.Second
	// DefaultDialTimeout bounds one Dialer.DialContext call.
	DefaultDialTimeout = 30 * time.Second
)

// ErrNoTarget is the failure of a connection that waited the grace period with no Dialer set.
var ErrNoTarget = errors.New("no ssh connection to forward over")

// ForwardStats is a snapshot of a Forwarder's counters.
type ForwardStats struct {
	Active     int64 // connections being served now, waiting ones included
	Waiting    int64 // connections waiting now for a Dialer to be set
	Total      int64 // connections accepted so far
	DialErrors int64 // connections closed because no stream could be opened
	CopyErrors int64 // connections that ended with a read or write error (a reset, a dropped channel)
	BytesOut   int64 // bytes from local clients to the remote end
	BytesIn    int64 // bytes from the remote end to local clients
}

// Forwarder is a local port forward: it listens on 127.0.0.1 only and turns each accepted connection into
// one stream from the current Dialer, copying both ways with half-close.
//
// The listener outlives any one SSH connection: SetTarget swaps the Dialer when the connection is
// replaced. While no Dialer is set, accepted connections wait up to Grace for one instead of being reset,
// so a browser does not notice a quick reconnect. A connection whose stream cannot be opened is closed,
// counted and reported to Logf; the Forwarder goes on.
//
// Methods are safe for concurrent use. Set the exported fields before calling Serve and do not change
// them afterwards.
type Forwarder struct {
	// Logf, when set, receives one line for each connection that could not be forwarded and for each
	// accept error. It is called from the connections' goroutines, possibly at the same time.
	Logf func(format string, args ...any)
	// Grace is how long an accepted connection waits for a Dialer while none is set. Zero means
	// DefaultGrace.
	Grace time.Duration
	// DialTimeout bounds each Dialer.DialContext call. Zero means DefaultDialTimeout.
	DialTimeout time.Duration

	ln   *net.TCPListener
	port int

	mu        sync.Mutex
	target    target
	gen       uint64        // incremented by each SetTarget
	targetSet chan struct{} // closed and replaced by each SetTarget, to wake waiting connections
	conns     map[net.Conn]struct{}
	serving   bool
	closed    bool
	done      chan struct{} // closed by shutdown
	wg        sync.WaitGroup

	active, waiting, total, dialErrors, copyErrors atomic.Int64
	bytesOut, bytesIn                              atomic.Int64
}

type target struct {
	d       Dialer
	network string
	addr    string
}

// Listen starts a Forwarder on 127.0.0.1:port; port 0 picks any free port. It never binds another address.
// ctx bounds the listen call only. No Dialer is set yet: connections accepted before SetTarget wait.
func Listen(ctx context.Context, port int) (*Forwarder, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("listening on 127.0.0.1:%d: port out of range", port)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	tl := ln.(*net.TCPListener)
	return &Forwarder{
		ln:        tl,
		port:      tl.Addr().(*net.TCPAddr).Port,
		targetSet: make(chan struct{}),
		conns:     make(map[net.Conn]struct{}),
		done:      make(chan struct{}),
	}, nil
}

// ListenPreferred starts a Forwarder on the first of ports that is free on 127.0.0.1, skipping zeros and
// ports out of range, and on any free port when none is. A busy port is never an error; the error is
// ctx's, or that of listening on a free port.
func ListenPreferred(ctx context.Context, ports ...int) (*Forwarder, error) {
	for _, p := range ports {
		if p <= 0 || p > 65535 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("listening on 127.0.0.1:%d: %w", p, err)
		}
		if f, err := Listen(ctx, p); err == nil {
			return f, nil
		}
	}
	return Listen(ctx, 0)
}

// Port returns the local port the Forwarder listens on.
func (f *Forwarder) Port() int { return f.port }

// Addr returns the listening address, "127.0.0.1:PORT".
func (f *Forwarder) Addr() string { return f.ln.Addr().String() }

// SetTarget sets, atomically, the Dialer and the remote end that new connections are forwarded to:
// network "tcp" with addr "HOST:PORT", or "unix" with a socket path. A nil d means the SSH connection is
// being replaced: new connections wait up to Grace for a later SetTarget. Connections already forwarded
// keep their streams; waiting ones proceed with the new Dialer.
func (f *Forwarder) SetTarget(d Dialer, network, addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = target{d: d, network: network, addr: addr}
	f.gen++
	close(f.targetSet)
	f.targetSet = make(chan struct{})
}

// Stats returns a snapshot of the Forwarder's counters.
func (f *Forwarder) Stats() ForwardStats {
	return ForwardStats{
		Active:     f.active.Load(),
		Waiting:    f.waiting.Load(),
		Total:      f.total.Load(),
		DialErrors: f.dialErrors.Load(),
		CopyErrors: f.copyErrors.Load(),
		BytesOut:   f.bytesOut.Load(),
		BytesIn:    f.bytesIn.Load(),
	}
}

// Serve accepts and forwards connections until ctx is done or Close is called, then closes the listener
// and every connection it serves, waits for their goroutines and returns nil. It may be called once; a
// second call returns an error, and a call after Close returns nil at once. Accept errors other than the
// listener's closing (too many open files) are logged and retried after a pause.
func (f *Forwarder) Serve(ctx context.Context) error {
	f.mu.Lock()
	if f.serving {
		f.mu.Unlock()
		return fmt.Errorf("serving 127.0.0.1:%d: already serving", f.port)
	}
	f.serving = true
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.wg.Add(1) // the watcher below
	f.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer f.wg.Done()
		select {
		case <-ctx.Done():
		case <-f.done:
		}
		cancel() // stops dials in flight
		f.shutdown()
	}()

	var pause time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if f.isDone() {
				break
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			f.logf("accepting on 127.0.0.1:%d: %v; retrying in %v", f.port, err, pause)
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-f.done:
			}
			t.Stop()
			continue
		}
		pause = 0
		if !f.track(c) {
			c.Close()
			break
		}
		f.total.Add(1)
		f.active.Add(1)
		f.wg.Add(1)
		go f.handle(ctx, c)
	}
	cancel()
	f.wg.Wait()
	return nil
}

// Close stops the Forwarder: it closes the listener and every connection, and waits for Serve's
// connection goroutines to end. It is idempotent and returns nil.
func (f *Forwarder) Close() error {
	f.shutdown()
	f.wg.Wait()
	return nil
}

func (f *Forwarder) shutdown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	close(f.done)
	f.ln.Close()
	for c := range f.conns {
		c.Close()
	}
}

func (f *Forwarder) isDone() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// track registers c to be closed by shutdown. It reports false if the Forwarder is already shut down.
func (f *Forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *Forwarder) logf(format string, args ...any) {
	if f.Logf != nil {
		f.Logf(format, args...)
	}
}

// handle forwards one accepted connection and closes it.
func (f *Forwarder) handle(ctx context.Context, c net.Conn) {
	defer f.wg.Done()
	defer f.active.Add(-1)
	defer f.untrack(c)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	remote, t, err := f.dial(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.dialErrors.Add(1)
			f.logf("forwarding 127.0.0.1:%d from %s to %s %s: %v", f.port, c.RemoteAddr(), t.network, t.addr, err)
		}
		return
	}
	if !f.track(remote) {
		remote.Close()
		return
	}
	defer f.untrack(remote)
	// The local socket, like the SSH transport under remote, is read and written with raw system calls
	// (package fastio).
	if err := join(fastio.Wrap(c), remote, &f.bytesOut, &f.bytesIn); err != nil {
		f.copyErrors.Add(1)
	}
}

// dial opens a stream from the current target, waiting up to the grace period while none is set. When a
// dial fails because the SSH connection has died, it waits, within the same grace period, for a new
// target and tries that; any other failure (the remote end refused, a timeout) is final.
func (f *Forwarder) dial(ctx context.Context) (net.Conn, target, error) {
	grace := f.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	dialTimeout := f.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = DefaultDialTimeout
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	var lastErr error // a dial failure that may be cured by a new target
	var failedGen uint64
	for {
		f.mu.Lock()
		t, gen, changed := f.target, f.gen, f.targetSet
		f.mu.Unlock()
		if lastErr != nil && gen != failedGen {
			lastErr = nil
		}
		if t.d == nil || lastErr != nil {
			if err := f.wait(ctx, changed, deadline.C); err != nil {
				if lastErr != nil && err == ErrNoTarget {
					return nil, t, lastErr
				}
				return nil, t, err
			}
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		conn, err := t.d.DialContext(dctx, t.network, t.addr)
		cancel()
		if err == nil {
			return conn, t, nil
		}
		if ctx.Err() != nil || !connectionGone(err) {
			return nil, t, err
		}
		lastErr, failedGen = err, gen
	}
}

// wait blocks until changed is closed (a new SetTarget), the grace period expires or ctx is done.
func (f *Forwarder) wait(ctx context.Context, changed <-chan struct{}, expired <-chan time.Time) error {
	f.waiting.Add(1)
	defer f.waiting.Add(-1)
	select {
	case <-changed:
		return nil
	case <-expired:
		return ErrNoTarget
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connectionGone reports whether a dial error means the SSH connection under the Dialer has died, as
// opposed to the remote end refusing the stream (*ssh.OpenChannelError) or a bad target.
func connectionGone(err error) bool {
	var refused *ssh.OpenChannelError
	if errors.As(err, &refused) {
		return false
	}
	var opErr *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &opErr)
}
