package tunnel

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// ErrNoServer is returned when a host has no live Jupyter server.
var ErrNoServer = errors.New("no running Jupyter server was found")

// ErrMasterGone is returned by Tunnel.Run when the ControlMaster it rode
// has exited.
var ErrMasterGone = errors.New("the ControlMaster connection ended")

// Tunnel keeps a local forward pointed at a Jupyter server on one host: it
// connects, discovers, forwards, and then watches. When the SSH connection
// drops it reconnects with backoff, keeping the same local listener; when
// the server restarts with a new token, port or socket it points the forward
// at the new one and reports the new link.
type Tunnel struct {
	Host *hostconf.Host
	// Connect opens the SSH connection; nil means Dial(ctx, Host, Options).
	Connect func(ctx context.Context) (*sshclient.Client, error)
	Options sshclient.Options
	// Select picks a server among several (jupyter.Select syntax).
	Select string
	// Listen creates the local forward once the first server is chosen;
	// nil means Listen(ctx, 0), any free port on 127.0.0.1.
	Listen func(ctx context.Context, s jupyter.Server) (*proxy.Forwarder, error)
	// NoServer is called when discovery finds nothing live; it may start a
	// server and return it. nil means Run fails with ErrNoServer.
	NoServer func(ctx context.Context, c *sshclient.Client, f *Found) (*jupyter.Server, error)
	// OnLink is called with each new link: the first, and after a change.
	OnLink func(link string, s jupyter.Server, others []jupyter.Server)
	// Logf receives status lines, with remote text unescaped.
	Logf func(format string, args ...any)
	// OnEvent, when set, is told of each change of the connection or the
	// server besides a new link (OnLink). It is called from Run's
	// goroutine and must not block for long.
	OnEvent func(Event)
	// Reconnect makes Run survive connection drops; without it Run returns
	// when the connection ends.
	Reconnect bool
	// Watch is how often the chosen server is re-probed; 0 means 5s.
	Watch time.Duration

	fwd *proxy.Forwarder
}

// EventKind says what happened to a tunnel.
type EventKind string

// The events besides a new link.
const (
	// EventConnectionLost: the SSH connection ended; Err says why.
	EventConnectionLost EventKind = "connection_lost"
	// EventReconnectFailed: an attempt to reconnect failed (said when its
	// error first happens or changes); Err says why.
	EventReconnectFailed EventKind = "reconnect_failed"
	// EventReconnected: the connection is back.
	EventReconnected EventKind = "reconnected"
	// EventServerGone: the server stopped answering and none was found
	// to take its place; Err says why.
	EventServerGone EventKind = "server_gone"
	// EventServerBack: after EventServerGone, a server answers again at
	// the same link (a new link is reported through OnLink instead).
	EventServerBack EventKind = "server_back"
)

// Event is one change reported to Tunnel.OnEvent.
type Event struct {
	Kind EventKind
	Err  error
}

func (t *Tunnel) event(k EventKind, err error) {
	if t.OnEvent != nil {
		t.OnEvent(Event{Kind: k, Err: err})
	}
}

// logf reports a status line. Lines carry text from the remote host (file
// names, paths, server answers) as it is: whoever shows them on a terminal
// escapes them (cmd/nbtunnel's ui does).
func (t *Tunnel) logf(format string, args ...any) {
	if t.Logf != nil {
		t.Logf(format, args...)
	}
}

// debugf logs through Options.Logf: details shown with -v only.
func (t *Tunnel) debugf(format string, args ...any) {
	if t.Options.Logf != nil {
		t.Options.Logf(format, args...)
	}
}

// Forwarder returns the local forward, once Run has created it.
func (t *Tunnel) Forwarder() *proxy.Forwarder { return t.fwd }

func (t *Tunnel) connect(ctx context.Context) (*sshclient.Client, error) {
	if t.Connect != nil {
		return t.Connect(ctx)
	}
	return sshclient.Dial(ctx, t.Host, t.Options)
}

// pick discovers on c and chooses a server.
func (t *Tunnel) pick(ctx context.Context, c *sshclient.Client, first bool) (jupyter.Server, []jupyter.Server, error) {
	f, err := Discover(ctx, c)
	if err != nil {
		return jupyter.Server{}, nil, err
	}
	for _, p := range f.Problems {
		t.logf("skipping a runtime file: %v", p)
	}
	for _, sk := range f.Skipped {
		t.debugf("skipping %s (%s): %v", sk.Server.File, sk.Server, sk.Why)
	}
	if len(f.Live) == 0 {
		if first && t.NoServer != nil {
			s, err := t.NoServer(ctx, c, f)
			if err != nil {
				return jupyter.Server{}, nil, err
			}
			return *s, nil, nil
		}
		return jupyter.Server{}, nil, &NoServerError{Found: f}
	}
	s, others, err := jupyter.Select(f.Live, t.Select)
	return s, others, err
}

// NoServerError says no live server was found, with what was skipped.
type NoServerError struct{ Found *Found }

func (e *NoServerError) Error() string {
	if e.Found == nil || len(e.Found.Skipped) == 0 {
		return ErrNoServer.Error()
	}
	return fmt.Sprintf("%v (%d runtime file(s) skipped: %v)", ErrNoServer, len(e.Found.Skipped), e.Found.Skipped[0].Why)
}

func (e *NoServerError) Unwrap() error { return ErrNoServer }

// Run connects, forwards and watches until ctx ends (nil error) or, without
// Reconnect, until the connection ends.
func (t *Tunnel) Run(ctx context.Context) error {
	c, err := t.connect(ctx)
	if err != nil {
		return err
	}
	s, others, err := t.pick(ctx, c, true)
	if err != nil {
		c.Close()
		return err
	}
	listen := t.Listen
	if listen == nil {
		listen = func(ctx context.Context, _ jupyter.Server) (*proxy.Forwarder, error) { return proxy.Listen(ctx, 0) }
	}
	t.fwd, err = listen(ctx, s)
	if err != nil {
		c.Close()
		return err
	}
	network, addr := s.Target()
	t.fwd.SetTarget(c, network, addr)
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- t.fwd.Serve(serveCtx) }()
	defer func() {
		stopServe()
		t.fwd.Close()
		<-served
	}()
	if err := t.confirmLocal(ctx, s); err != nil {
		c.Close()
		return err
	}
	if t.OnLink != nil {
		t.OnLink(s.Link(t.fwd.Port()), s, others)
	}
	gone := false
	for {
		err := t.watch(ctx, c, &s, gone)
		c.Close()
		if ctx.Err() != nil {
			return nil
		}
		if c.ViaMaster {
			return fmt.Errorf("%w: %v", ErrMasterGone, err)
		}
		if !t.Reconnect {
			return err
		}
		t.fwd.SetTarget(nil, "", "")
		t.event(EventConnectionLost, err)
		t.logf("connection to %s lost (%v); reconnecting", t.Host.Alias, err)
		c = t.reconnect(ctx)
		if c == nil {
			return nil
		}
		gone = t.refresh(ctx, c, &s)
	}
}

// confirmLocal checks that the link answers through the local forward.
func (t *Tunnel) confirmLocal(ctx context.Context, s jupyter.Server) error {
	return ConfirmLink(ctx, t.fwd.Port(), s)
}

// ConfirmLink checks that Jupyter server s answers, with its token, through the local forward on
// 127.0.0.1:port. It gives up after 15 seconds or when ctx is done.
func ConfirmLink(ctx context.Context, port int, s jupyter.Server) error {
	local := "127.0.0.1:" + strconv.Itoa(port)
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", local)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := jupyter.ProbeUsable(pctx, dial, s); err != nil {
		return fmt.Errorf("checking the link through %s: %w", local, err)
	}
	return nil
}

// watch returns when the connection ends, probing the server meanwhile.
// gone says the server was already reported gone (it is said once).
func (t *Tunnel) watch(ctx context.Context, c *sshclient.Client, s *jupyter.Server, gone bool) error {
	every := t.Watch
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Done():
			if err := c.Err(); err != nil {
				return err
			}
			return errors.New("the server closed the connection")
		case <-tick.C:
		}
		if !c.ViaMaster {
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				return c.DialContext(ctx, network, addr)
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := jupyter.ProbeUsable(pctx, dial, *s)
			cancel()
			if err == nil {
				if gone {
					t.event(EventServerBack, nil)
				}
				gone = false
				continue
			}
		}
		// Over a ControlMaster the check is a discovery (one exec), never a
		// channel to a port that may have closed: a refused channel through
		// an OpenSSH 9.2 master in proxy mode ends the master.
		select {
		case <-c.Done():
			continue
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ns, others, perr := t.pick(ctx, c, false)
		if perr != nil {
			select {
			case <-c.Done():
				// Discovery failed because the connection died: that
				// is reported as a lost connection, not a lost server.
				continue
			default:
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !gone {
				t.event(EventServerGone, perr)
				t.logf("the Jupyter server on %s is gone (%v); watching for a new one", t.Host.Alias, perr)
				gone = true
			}
			if c.ViaMaster {
				// Hold new connections here rather than send them to a
				// closed port through the master (see above).
				t.fwd.SetTarget(nil, "", "")
			}
			continue
		}
		wasGone := gone
		gone = false
		if c.ViaMaster && sameServer(*s, append([]jupyter.Server{ns}, others...)) {
			if wasGone {
				network, addr := s.Target()
				t.fwd.SetTarget(c, network, addr)
				t.event(EventServerBack, nil)
			}
			continue
		}
		if !t.switchTo(c, s, ns, others) && wasGone {
			t.event(EventServerBack, nil)
		}
	}
}

// sameServer reports whether s is among live: the same process, address
// and token.
func sameServer(s jupyter.Server, live []jupyter.Server) bool {
	for _, l := range live {
		if l.PID == s.PID && l.Port == s.Port && l.Sock == s.Sock && l.Token == s.Token && l.BaseURL == s.BaseURL {
			return true
		}
	}
	return false
}

// switchTo points the forward at ns and reports a changed link (and
// whether it changed).
func (t *Tunnel) switchTo(c *sshclient.Client, s *jupyter.Server, ns jupyter.Server, others []jupyter.Server) bool {
	network, addr := ns.Target()
	t.fwd.SetTarget(c, network, addr)
	oldLink, newLink := s.Link(t.fwd.Port()), ns.Link(t.fwd.Port())
	*s = ns
	if oldLink != newLink && t.OnLink != nil {
		t.OnLink(newLink, ns, others)
	}
	return oldLink != newLink
}

// refresh re-discovers after a reconnect and points the forward anew. It
// reports whether no server was found (and said so).
func (t *Tunnel) refresh(ctx context.Context, c *sshclient.Client, s *jupyter.Server) (gone bool) {
	ns, others, err := t.pick(ctx, c, false)
	if err != nil {
		// Keep the old target: the server may come back on the same port.
		network, addr := s.Target()
		t.fwd.SetTarget(c, network, addr)
		t.event(EventReconnected, nil)
		t.event(EventServerGone, err)
		t.logf("reconnected to %s, but %v; watching for a server", t.Host.Alias, err)
		return true
	}
	t.event(EventReconnected, nil)
	t.logf("reconnected to %s", t.Host.Alias)
	t.switchTo(c, s, ns, others)
	return false
}

// Reconnect backoff: the first retry is immediate, then the pause doubles
// from reconnectMin up to reconnectMax, plus up to half again of jitter. The
// cap is low so that a host back from a reboot or an sshd restart answers
// again within seconds; one TCP connect every few seconds costs it nothing.
const (
	reconnectMin = 250 * time.Millisecond
	reconnectMax = 8 * time.Second
)

// reconnect dials until it succeeds or ctx ends (nil), with exponential
// backoff and jitter. A failure is reported to Logf when it first happens
// and whenever its message changes; repeats go to Options.Logf only, so an
// hour offline is not an hour of log lines.
func (t *Tunnel) reconnect(ctx context.Context) *sshclient.Client {
	delay := reconnectMin
	last := ""
	for {
		c, err := t.connect(ctx)
		if err == nil {
			return c
		}
		if ctx.Err() != nil {
			return nil
		}
		jitter := time.Duration(rand.Int64N(int64(delay)/2 + 1))
		msg := err.Error()
		if msg != last {
			// A host key that changed while we were away is never
			// retried into acceptance: the error stays the same and is
			// said once.
			t.event(EventReconnectFailed, err)
			t.logf("reconnecting to %s: %v; retrying", t.Host.Alias, err)
			last = msg
		} else {
			t.debugf("reconnecting to %s: %v (next try in %v)", t.Host.Alias, err, (delay + jitter).Round(10*time.Millisecond))
		}
		wait := time.NewTimer(delay + jitter)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil
		case <-wait.C:
		}
		delay = min(2*delay, reconnectMax)
	}
}
