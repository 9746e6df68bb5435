package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

func cmdOpen(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("open", &hf)
	localPort := fs.Int("local-port", 0, "listen on 127.0.0.1:`N` (default: the port used last time)")
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	var sf startFlags
	fs.BoolVar(&sf.start, "start", false, "start Jupyter when none runs (a terminal user is asked otherwise)")
	addStartFlags(fs, &sf)
	asJSON := fs.Bool("json", false, "print one JSON object per event on stdout (link, reconnecting, reconnected, server restarted, closed) instead of the link")
	fs.BoolVar(&e.browse, "open", false, "open the link in your browser ($BROWSER, else the system's default); the token is never on a command line")
	var sl slurmFlags
	addSlurmFlags(fs, &sl)
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	launch, err := sf.options("open")
	if err != nil {
		return e.ui.fail("", "", err)
	}
	if *localPort < 0 || *localPort > 65535 {
		return e.ui.fail("", "", usagef("open: --local-port %d is not a port number", *localPort))
	}
	e.ui.verbose = hf.verbose
	if sl.on {
		return e.openSlurm(ctx, alias, &hf, &sl, launch, *localPort)
	}
	h, err := e.resolve(ctx, alias, &hf)
	if err != nil {
		if *asJSON {
			(&eventWriter{ui: e.ui, host: alias}).closed(err)
		}
		return e.exitCode(alias, nil, err)
	}
	state := loadPortState(e.getenv)
	// The port's claim lets hooks sharing this forward take it over when
	// this ends (share.go).
	var claim *portClaim
	defer func() { claim.release() }()
	var events *eventWriter
	if *asJSON {
		events = &eventWriter{ui: e.ui, host: alias}
	}
	t := &tunnel.Tunnel{
		Host:      h,
		Options:   e.dialOptions(true),
		Select:    *sel,
		Reconnect: true,
		Logf:      e.ui.say,
		NoServer:  e.clusterAware(alias, e.startHook(alias, &sf, launch)),
		Listen: func(ctx context.Context, s jupyter.Server) (*proxy.Forwarder, error) {
			f, err := listenFor(ctx, *localPort, state.get(alias, serverID(s)), s)
			if err == nil {
				claim, _ = tryClaim(e.getenv, f.Port())
			}
			return f, err
		},
		OnLink: func(link string, s jupyter.Server, others []jupyter.Server) {
			if events != nil {
				events.link(link, s)
			} else {
				e.ui.link(link)
			}
			e.announce(alias, s, others)
			e.openBrowserOnce(link)
			if err := state.set(alias, serverID(s), portOf(link)); err != nil {
				e.ui.warn("%v", err)
			}
		},
	}
	if events != nil {
		t.OnEvent = events.tunnel
	}
	err = t.Run(ctx)
	if events != nil {
		events.closed(err)
	}
	if err != nil {
		return e.exitCode(alias, h, explainTunnelError(hostArg(alias, h), err))
	}
	return 0
}

// listenFor binds the local end: the port the user asked for (an error if
// busy), else the port used last time, else the remote port, else any.
func listenFor(ctx context.Context, explicit, remembered int, s jupyter.Server) (*proxy.Forwarder, error) {
	if explicit != 0 {
		f, err := proxy.Listen(ctx, explicit)
		if err != nil {
			return nil, withHint(err, "choose another --local-port, or leave it out to let nbtunnel pick a free one")
		}
		return f, nil
	}
	return proxy.ListenPreferred(ctx, remembered, s.Port)
}

// serverID names a server across restarts (a new token or port is still
// "the same server" for the stable local port).
func serverID(s jupyter.Server) string { return s.Kind + ":" + s.RootDir + ":" + s.BaseURL }

func portOf(link string) int {
	var port int
	rest := strings.TrimPrefix(strings.TrimPrefix(link, "http://"), "https://")
	fmt.Sscanf(strings.TrimPrefix(rest, "127.0.0.1:"), "%d", &port)
	return port
}

// announce tells the user, on stderr, what the link points at and what
// else there is.
func (e *env) announce(alias string, s jupyter.Server, others []jupyter.Server) {
	e.ui.progress("forwarding to %s on %s (root %s); Ctrl-C to stop", s, alias, orDash(s.RootDir))
	if s.Token == "" && s.Password {
		e.ui.say("this server is protected by a password: the link asks for it")
	} else if s.Token == "" {
		e.ui.warn("this server has neither token nor password: anyone on %s who can reach its port can use it", alias)
	}
	if len(others) > 0 {
		var names []string
		for _, o := range others {
			names = append(names, describeChoice(o))
		}
		e.ui.say("%d other server(s) run on %s: %s", len(others), alias, strings.Join(names, "; "))
		e.ui.hint("pick another with --server PORT, --server PID or --server ROOTDIR")
	}
}

func describeChoice(s jupyter.Server) string {
	where := fmt.Sprintf("port %d", s.Port)
	if s.Sock != "" {
		where = "socket " + s.Sock
	}
	return fmt.Sprintf("pid %d, %s, root %s", s.PID, where, orDash(s.RootDir))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// explainTunnelError adds the next step to errors a user can act on.
// host is how a command names the host (hostArg).
func explainTunnelError(host string, err error) error {
	var none *tunnel.NoServerError
	if errors.As(err, &none) {
		hints := []string{fmt.Sprintf("'nbtunnel open --start %s' starts one (add --venv PATH to use a virtualenv)", host)}
		if none.Found != nil {
			for _, sk := range none.Found.Skipped {
				hints = append(hints, fmt.Sprintf("skipped %s (%s): %v", sk.Server.File, describeChoice(sk.Server), sk.Why))
			}
		}
		return withHint(err, hints...)
	}
	if errors.Is(err, tunnel.ErrMasterGone) {
		return withHint(err, "the ssh master connection exited; start it again with ssh")
	}
	var nomatch *jupyter.NoMatchError
	var ambiguous *jupyter.AmbiguousError
	if errors.As(err, &nomatch) || errors.As(err, &ambiguous) {
		return withHint(err, fmt.Sprintf("'nbtunnel list %s' shows every server", host))
	}
	return err
}
