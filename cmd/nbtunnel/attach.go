package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// cmdAttach is nbtunnel as an OpenSSH LocalCommand riding the connection's
// ControlMaster. ssh runs it synchronously before its own mux loop, so it
// detaches at once (a copy of itself in the background, holding the
// terminal) and returns; the copy connects to the ControlPath socket (no
// second authentication ever), finds Jupyter, forwards and prints the link.
// It ends when the master goes away.
func cmdAttach(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("attach", &hf)
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	detached := fs.Bool("detached", false, "internal: run in the foreground")
	fs.BoolVar(&e.browse, "open", false, "also open the link in your browser (the token never on a command line)")
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.ui.verbose = hf.verbose
	if !*detached {
		if err := detach(append([]string{"attach", "--detached"}, args...)); err != nil {
			e.ui.warn("starting the Jupyter forward for %s in the background: %v", alias, err)
			return 0 // never fail the user's ssh
		}
		return 0
	}
	h, err := e.resolve(ctx, alias, &hf)
	if err != nil {
		return e.exitCode(alias, nil, err)
	}
	if err := e.attachTunnel(ctx, alias, h, *sel); err != nil && ctx.Err() == nil {
		termLine(e.ui.err, "nbtunnel: no Jupyter link for %s: %v", alias, err)
		return 1
	}
	return 0
}

// attachTunnel finds the server over a short mux session, forwards with a
// fresh mux session per connection (sshclient.MasterDialer), and ends when the
// master does. Between connections it holds nothing open, so the user's
// ssh exits at logout as it would without nbtunnel.
func (e *env) attachTunnel(ctx context.Context, alias string, h *hostconf.Host, sel string) error {
	s, _, err := discoverOverMaster(ctx, h, sel, e.dialOptions(false))
	if err != nil {
		return err
	}
	state := loadPortState(e.getenv)
	remembered := state.get(alias, serverID(s))
	if network, addr := s.Target(); clientForwardPort(h.LocalForwards, network, addr) != 0 {
		// ssh's own LocalForward serves it (share.go).
		termLine(e.ui.err, "Jupyter on %s: %s", alias, s.Link(clientForwardPort(h.LocalForwards, network, addr)))
		return sshclient.WaitMasterGone(ctx, h, time.Second)
	}
	if remembered != 0 && localAnswers(ctx, remembered, s) {
		termLine(e.ui.err, "Jupyter on %s: %s (shared with another nbtunnel)", alias, s.Link(remembered))
		return sshclient.WaitMasterGone(ctx, h, time.Second)
	}
	fwd, err := proxy.ListenPreferred(ctx, remembered, s.Port)
	if err != nil {
		return err
	}
	// Hooks sharing this forward take it over when this ends (share.go):
	// the claim goes after the listener.
	claim, _ := tryClaim(e.getenv, fwd.Port())
	defer func() {
		fwd.Close()
		claim.release()
	}()
	network, addr := s.Target()
	fwd.SetTarget(sshclient.MasterDialer{Host: h}, network, addr)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	go fwd.Serve(serveCtx)
	if !localAnswers(ctx, fwd.Port(), s) {
		return fmt.Errorf("the link through 127.0.0.1:%d does not answer", fwd.Port())
	}
	termLine(e.ui.err, "Jupyter on %s: %s", alias, s.Link(fwd.Port()))
	if err := state.set(alias, serverID(s), fwd.Port()); err != nil {
		e.ui.status("%v", err)
	}
	gone := make(chan error, 1)
	go func() { gone <- sshclient.WaitMasterGone(serveCtx, h, time.Second) }()
	watch := time.NewTicker(5 * time.Second)
	defer watch.Stop()
	lost := false
	for {
		select {
		case err := <-gone:
			return err
		case <-watch.C:
		}
		// Look again through a short mux session (one exec; discovery opens
		// channels only to ports that listen: a refused channel through an
		// OpenSSH 9.2 master in proxy mode ends the master), and point the
		// forward at a restarted server (new token, port, socket).
		ns, live, err := discoverOverMaster(serveCtx, h, sel, e.dialOptions(false))
		if err != nil {
			if !lost && serveCtx.Err() == nil && !errors.Is(err, sshclient.ErrNoMaster) {
				termLine(e.ui.err, "nbtunnel: the Jupyter server on %s is gone (%v); watching for a new one", alias, err)
			}
			lost = true
			// Hold new connections here rather than send them through the
			// master to a port that closed (a refused channel can end it).
			fwd.SetTarget(nil, "", "")
			continue
		}
		if stillLive(s, live) {
			if lost {
				network, addr := s.Target()
				fwd.SetTarget(sshclient.MasterDialer{Host: h}, network, addr)
			}
			lost = false
			continue
		}
		lost = false
		network, addr := ns.Target()
		fwd.SetTarget(sshclient.MasterDialer{Host: h}, network, addr)
		if ns.Link(fwd.Port()) != s.Link(fwd.Port()) {
			termLine(e.ui.err, "Jupyter on %s: %s", alias, ns.Link(fwd.Port()))
		}
		s = ns
	}
}

// discoverOverMaster finds the live servers through a short mux session on
// the host's ControlMaster, and selects one.
func discoverOverMaster(ctx context.Context, h *hostconf.Host, sel string, opts sshclient.Options) (jupyter.Server, []jupyter.Server, error) {
	opts.MasterOnly = true
	c, err := sshclient.Dial(ctx, h, opts)
	if err != nil {
		return jupyter.Server{}, nil, err
	}
	found, err := tunnel.Discover(ctx, c)
	c.Close()
	if err != nil {
		return jupyter.Server{}, nil, err
	}
	if len(found.Live) == 0 {
		return jupyter.Server{}, nil, &tunnel.NoServerError{Found: found}
	}
	s, _, err := jupyter.Select(found.Live, sel)
	return s, found.Live, err
}

// stillLive reports whether s (same process, address and token) is among
// the live servers.
func stillLive(s jupyter.Server, live []jupyter.Server) bool {
	for _, l := range live {
		if l.PID == s.PID && l.Port == s.Port && l.Sock == s.Sock && l.Token == s.Token {
			return true
		}
	}
	return false
}
