package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// stopTarget is one process stop will signal.
type stopTarget struct {
	pid  int
	name string // for messages
}

// cmdStop stops Jupyter servers of the remote user: by default the one
// nbtunnel started most recently (its record in ~/.nbtunnel/servers on the
// remote); with --server SEL the one SEL picks (refusing when several
// match, unless --all); with --all every one of the user's live servers
// (that SEL matches). The remote script sends SIGTERM only to the user's
// own processes that run Jupyter, repeats it while waiting, and reports.
func cmdStop(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("stop", &hf)
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	all := fs.Bool("all", false, "stop every server of yours (that --server matches)")
	var sl slurmFlags
	addSlurmFlags(fs, &sl)
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.ui.verbose = hf.verbose
	if sl.on {
		return e.stopSlurm(ctx, alias, &hf, &sl)
	}
	h, c, code := e.connect(ctx, alias, &hf)
	if c == nil {
		return code
	}
	defer c.Close()
	targets, err := e.stopTargets(ctx, c, alias, *sel, *all)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	failed := 0
	for _, tg := range targets {
		if err := stopOne(ctx, c, tg.pid); err != nil {
			if errors.Is(err, jupyter.ErrNotRunning) {
				e.ui.say("%s had already exited", tg.name)
				continue
			}
			failed++
			e.ui.fail(alias, h.Source, explainStop(alias, tg, err))
			continue
		}
		e.ui.say("stopped %s on %s", tg.name, alias)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// stopTargets decides what to stop.
func (e *env) stopTargets(ctx context.Context, c *sshclient.Client, alias, sel string, all bool) ([]stopTarget, error) {
	found, err := tunnel.Discover(ctx, c)
	if err != nil {
		return nil, err
	}
	// Candidates: the user's own servers whose process is alive, whether
	// or not they answered (a hung server is worth stopping too).
	var cands []jupyter.Server
	for _, s := range found.Live {
		if mine(s) {
			cands = append(cands, s)
		}
	}
	for _, sk := range found.Skipped {
		if sk.Server.Alive && mine(sk.Server) {
			cands = append(cands, sk.Server)
		}
	}
	named := func(ss []jupyter.Server) []stopTarget {
		var ts []stopTarget
		for _, s := range ss {
			ts = append(ts, stopTarget{pid: s.PID, name: s.String()})
		}
		return ts
	}
	switch {
	case sel != "":
		s, _, err := jupyter.Select(cands, sel)
		var amb *jupyter.AmbiguousError
		if errors.As(err, &amb) && all {
			return named(amb.Matches), nil
		}
		if errors.As(err, &amb) {
			return nil, withHint(err, "give a port or pid with --server, or add --all to stop every match")
		}
		if errors.Is(err, jupyter.ErrNoServers) {
			return nil, fmt.Errorf("stopping %q: no running Jupyter server of yours", sel)
		}
		if err != nil {
			return nil, withHint(err, fmt.Sprintf("'nbtunnel list %s' shows every server", shellArg(alias)))
		}
		return named([]jupyter.Server{s}), nil
	case all:
		if len(cands) == 0 {
			return nil, errors.New("no running Jupyter server of yours to stop")
		}
		return named(cands), nil
	}
	started, err := listStarted(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(started) > 0 {
		last := started[len(started)-1]
		for _, s := range cands {
			if s.PID == last.PID {
				return named([]jupyter.Server{s}), nil
			}
		}
		// Started by us and alive, but without a live runtime file (still
		// starting, or hung): the remote script checks it runs Jupyter.
		return []stopTarget{{pid: last.PID, name: fmt.Sprintf("Jupyter pid %d (log %s)", last.PID, last.Log)}}, nil
	}
	if len(cands) == 0 {
		return nil, errors.New("no running Jupyter server of yours to stop")
	}
	var names []string
	for _, s := range cands {
		names = append(names, describeChoice(s))
	}
	return nil, withHint(fmt.Errorf("no running server was started by nbtunnel; %d other(s) run: %s", len(cands), strings.Join(names, "; ")),
		"pick one with --server PORT, --server PID or --server ROOTDIR, or stop them all with --all")
}

// mine reports whether s belongs to the remote user (or ownership is
// unknown; the stop script checks again).
func mine(s jupyter.Server) bool { return s.User != "" || s.UID < 0 }

// listStarted reads nbtunnel's records of the servers it started.
func listStarted(ctx context.Context, c *sshclient.Client) ([]jupyter.Started, error) {
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return nil, err
	}
	out, err := c.Output(ctx, jupyter.LaunchCommand(), jupyter.StartedScript("", nonce))
	var exit *sshclient.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("reading nbtunnel's records: %w", err)
	}
	list, err := jupyter.ParseStarted(out, nonce)
	if err != nil {
		return nil, fmt.Errorf("reading nbtunnel's records: %w", err)
	}
	return list, nil
}

// stopOne runs the stop script for pid.
func stopOne(ctx context.Context, c *sshclient.Client, pid int) error {
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return err
	}
	out, err := c.Output(ctx, jupyter.LaunchCommand(), jupyter.StopScript(pid, true, nonce))
	var exit *sshclient.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("stopping pid %d: %w", pid, err)
	}
	return jupyter.ParseStop(out, pid, nonce)
}

func explainStop(alias string, tg stopTarget, err error) error {
	switch {
	case errors.Is(err, jupyter.ErrStillRunning):
		return withHint(err, fmt.Sprintf("it may be busy shutting down kernels; check again with 'nbtunnel list %s', or kill it on the host (kill -9 %d)", shellArg(alias), tg.pid))
	case errors.Is(err, jupyter.ErrNotOwner):
		return withHint(err, "nbtunnel never signals another user's process")
	case errors.Is(err, jupyter.ErrNotJupyterProcess):
		return withHint(err, "that pid no longer runs Jupyter; nothing was signalled")
	}
	return err
}
