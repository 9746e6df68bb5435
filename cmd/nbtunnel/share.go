package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
)

// Sessions of one host share one forward (proxy mode: ssh or PuTTY's
// "Duplicate Session", two plinks, two ssh).
//
// The nbtunnel that serves a host's forward holds its port's claim
// (claim.go). A hook that finds its remembered port claimed and answering
// for the same server shows that link and waits for the claim: when the
// owner ends, the first waiter takes the claim, binds the same port before
// it logs in (connections meanwhile wait in the forward), and serves the
// same link over its own connection. If the port is taken by then, it
// forwards another one and says the link changed.
//
// A link that answers while no nbtunnel claims it is the client's own
// forward: a PortForwardings or LocalForward entry of the host (forward
// --write writes one). The hook then forwards nothing and shows that link
// at once (the client binds its forward only once logged in, about when
// the shell prints its prompt), and says so if it does not answer.

// sharedLink stops a Tunnel whose link is served by someone else.
type sharedLink struct {
	server jupyter.Server
	port   int
	client bool // the client's own forward, not another nbtunnel
}

func (s *sharedLink) Error() string {
	if s.client {
		return fmt.Sprintf("the client's own forward on 127.0.0.1:%d serves the link", s.port)
	}
	return fmt.Sprintf("another nbtunnel serves the link on 127.0.0.1:%d", s.port)
}

// forwardShare chooses and claims the local port of one proxy-mode hook.
type forwardShare struct {
	e     *env
	alias string
	h     *hostconf.Host
	state *portState

	claim    *portClaim       // held while this process serves the port
	preBound *proxy.Forwarder // bound by takeOver for the next listen
	took     string           // the link taken over, for the next OnLink
}

// listen is the Tunnel's Listen: it returns the forward to serve, or a
// *sharedLink when someone else serves the link.
func (fs *forwardShare) listen(ctx context.Context, s jupyter.Server) (*proxy.Forwarder, error) {
	if f := fs.preBound; f != nil {
		fs.preBound = nil
		return f, nil
	}
	network, addr := s.Target()
	if p := clientForwardPort(fs.h.LocalForwards, network, addr); p != 0 {
		// The client binds it once logged in: the caller shows the link
		// now, before the shell's prompt, and checks it answers after.
		return nil, &sharedLink{server: s, port: p, client: true}
	}
	remembered := fs.state.get(fs.alias, serverID(s))
	if remembered != 0 {
		c, err := tryClaim(fs.e.getenv, remembered)
		if err != nil {
			fs.e.ui.status("%v", err)
		}
		if c == nil && err == nil && answersWithin(ctx, remembered, s, 5*time.Second) {
			return nil, &sharedLink{server: s, port: remembered}
		}
		if c != nil {
			if f, err := proxy.Listen(ctx, remembered); err == nil {
				fs.claim = c
				return f, nil
			}
			c.release()
		}
	}
	f, err := proxy.ListenPreferred(ctx, remembered, s.Port)
	if err != nil {
		return nil, err
	}
	if c, _ := tryClaim(fs.e.getenv, f.Port()); c != nil {
		fs.claim = c
	}
	return f, nil
}

// note is what OnLink adds to a link line; show is false for the link a
// takeover kept as it was: the user has it already, and a line now would
// land on the shell's prompt.
func (fs *forwardShare) note(link string) (note string, show bool) {
	took := fs.took
	fs.took = ""
	switch {
	case took == "":
		return "", true
	case took == link:
		fs.e.ui.status("the session that served %s's link ended; this one serves it now", fs.alias)
		return "", false
	default:
		return " (a new link: the session that served the old one ended)", true
	}
}

// takeOver waits until the nbtunnel serving sh.port ends, then claims and
// binds the port for the next run of the Tunnel. It returns false when ctx
// ended first.
func (fs *forwardShare) takeOver(ctx context.Context, sh *sharedLink, term func(format string, args ...any)) bool {
	c, err := waitClaim(ctx, fs.e.getenv, sh.port)
	if err != nil {
		if ctx.Err() == nil {
			term("nbtunnel: the Jupyter link for %s cannot be taken over: %v", fs.alias, err)
		}
		return false
	}
	fs.took = sh.server.Link(sh.port)
	// The owner's listener closes as it exits, about when its claim goes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := proxy.Listen(ctx, sh.port)
		if err == nil {
			fs.claim, fs.preBound = c, f
			return true
		}
		if ctx.Err() != nil {
			c.release()
			return false
		}
		if time.Now().After(deadline) {
			c.release()
			term("nbtunnel: the session that served the Jupyter link for %s ended, and another program took 127.0.0.1:%d; forwarding another port", fs.alias, sh.port)
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// done lets go of what one run of the Tunnel held.
func (fs *forwardShare) done() {
	if fs.preBound != nil {
		fs.preBound.Close()
		fs.preBound = nil
	}
	fs.claim.release()
	fs.claim = nil
}

// clientForwardPort returns the local port of a forward in the host's own
// settings (PuTTY's PortForwardings, OpenSSH's LocalForward) that reaches
// 127.0.0.1:PORT to network/addr on the remote side, or 0.
func clientForwardPort(fwds []hostconf.Forward, network, addr string) int {
	if network != "tcp" {
		return 0
	}
	th, tp, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	for _, f := range fwds {
		h, p, err := net.SplitHostPort(f.Target)
		if err != nil || p != tp || !sameLoopback(h, th) {
			continue
		}
		lh, lp, err := net.SplitHostPort(f.Listen)
		if err != nil {
			lh, lp = "", f.Listen
		}
		if lh != "" && lh != "*" && lh != "0.0.0.0" && !sameLoopback(lh, "127.0.0.1") {
			continue
		}
		if n, err := strconv.Atoi(lp); err == nil && n > 0 && n <= 65535 {
			return n
		}
	}
	return 0
}

// sameLoopback reports whether host names a, b are the same, counting
// "localhost" and every IPv4 loopback address as one.
func sameLoopback(a, b string) bool {
	loop := func(h string) bool {
		h = strings.ToLower(strings.Trim(h, "[]"))
		ip := net.ParseIP(h)
		return h == "localhost" || ip != nil && ip.IsLoopback() && ip.To4() != nil
	}
	return a == b || loop(a) && loop(b)
}

// answersWithin waits up to d for 127.0.0.1:port to serve s.
func answersWithin(ctx context.Context, port int, s jupyter.Server, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		if localAnswers(ctx, port, s) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}
