package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/install"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// cmdForward writes a LocalForward (OpenSSH) or PortForwardings entry
// (PuTTY) for the host's live server, so that a plain ssh or plink serves
// the printed link with no nbtunnel running.
func cmdForward(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("forward", &hf)
	write := fs.Bool("write", false, "write a LocalForward (PuTTY: PortForwardings) for the server into the config")
	remove := fs.Bool("remove", false, "remove the forward nbtunnel wrote")
	dryRun := fs.Bool("dry-run", false, "print the diff and change nothing")
	localPort := fs.Int("local-port", 0, "the forward's local port `N` (default: a free one no other host's LocalForward uses)")
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	if !*write && !*remove {
		return e.ui.fail(alias, "", usagef("forward: say --write (or --remove)"))
	}
	e.useFlags(&hf)
	cfgPath := hf.config
	if cfgPath == "" {
		cfgPath = filepath.Join(homeDir(e.getenv), ".ssh", "config")
	}
	if *remove {
		if hf.putty != "" {
			return e.removePuttyForward(ctx, hf.putty, *dryRun)
		}
		changed, diff, err := install.RemoveLocalForward(ctx, cfgPath, alias, fileedit.EditOptions{DryRun: *dryRun})
		if err != nil {
			return e.ui.fail(alias, cfgPath, err)
		}
		e.report(alias, cfgPath, changed, diff, "", *dryRun, nil)
		return 0
	}
	h, c, code := e.connect(ctx, alias, &hf)
	if c == nil {
		return code
	}
	defer c.Close()
	found, err := tunnel.Discover(ctx, c)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	if len(found.Live) == 0 {
		return e.exitCode(alias, h, explainTunnelError(hostArg(alias, h), &tunnel.NoServerError{Found: found}))
	}
	s, others, err := jupyter.Select(found.Live, *sel)
	if err != nil {
		return e.exitCode(alias, h, explainTunnelError(hostArg(alias, h), err))
	}
	network, addr := s.Target()
	state := loadPortState(e.getenv)
	port := *localPort
	if port == 0 {
		var others []int
		if hf.putty == "" {
			others = configForwardPorts(cfgPath, alias, homeDir(e.getenv))
		}
		port = pickForwardPort(h.LocalForwards, others, addr, state.get(alias, serverID(s)), s.Port)
	}
	if hf.putty != "" {
		if network == "unix" {
			return e.ui.fail(alias, h.Source, withHint(fmt.Errorf("the server listens on a unix socket (%s), and PuTTY cannot forward to one", s.Sock),
				fmt.Sprintf("use the proxy hook instead: nbtunnel install --putty %s", shellArg(hf.putty))))
		}
		if code := e.writePuttyForward(ctx, hf.putty, port, addr, *dryRun); code != 0 {
			return code
		}
	} else {
		changed, diff, err := install.WriteLocalForward(ctx, cfgPath, alias, hostconf.Forward{Listen: "127.0.0.1:" + strconv.Itoa(port), Target: addr}, fileedit.EditOptions{DryRun: *dryRun})
		if err != nil {
			return e.ui.fail(alias, cfgPath, err)
		}
		e.report(alias, cfgPath, changed, diff, "", *dryRun, nil)
	}
	if *dryRun {
		return 0
	}
	if err := state.set(alias, serverID(s), port); err != nil {
		e.ui.warn("%v", err)
	}
	e.ui.link(s.Link(port))
	if hf.putty != "" {
		e.ui.say("'plink -N -load %s' (or PuTTY) now serves this link; the link changes when the server restarts: run this again then", shellArg(hf.putty))
	} else {
		e.ui.say("'ssh -N %s' now serves this link; the link changes when the server restarts: run this again then", shellArg(alias))
	}
	if len(others) > 0 {
		e.announce(alias, s, others)
	}
	return 0
}

// configForwardPorts lists the ports the LocalForward lines of the config
// file and the files it includes (any host's, our own forward block for
// alias left out) listen on.
func configForwardPorts(path, alias, home string) []int {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	ports, err := hostconf.LocalForwardPorts(path, data, alias, home)
	if err != nil {
		return nil // a damaged block is reported by the write itself
	}
	return ports
}

// pickForwardPort chooses the local port of a written forward: the one
// remembered, else the remote port, else a free one; never a port another
// LocalForward in the config already listens on, and never one in use now
// (unless it is ours from an earlier run, to the same target).
func pickForwardPort(existing []hostconf.Forward, others []int, target string, candidates ...int) int {
	taken := map[int]bool{}
	for _, p := range others {
		taken[p] = true
	}
	ours := map[int]bool{}
	for _, f := range existing {
		_, p, err := net.SplitHostPort(f.Listen)
		if err != nil {
			p = f.Listen
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			continue
		}
		if f.Target == target {
			ours[n] = true
		} else {
			taken[n] = true
		}
	}
	for _, p := range candidates {
		if p <= 0 || p > 65535 || taken[p] {
			continue
		}
		if ours[p] || portFree(p) {
			return p
		}
	}
	for {
		p := freePort()
		if p == 0 || !taken[p] {
			return p
		}
	}
}

func portFree(p int) bool {
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func freePort() int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
