package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// cmdProxy is nbtunnel as the user's ProxyCommand: stdin and stdout carry
// the user's SSH stream, relayed at once like `ssh -W`; meanwhile, for an
// interactive session, a control connection of our own finds Jupyter,
// forwards a local port for as long as the ssh session lasts, and shows the
// link on the user's terminal. Which sessions count as interactive: see
// parentSession and sideDelay (README, "Which sessions show the link"). Nothing
// but relay bytes ever goes to stdout, and a failure of the Jupyter part
// never disturbs the session.
func cmdProxy(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("proxy", &hf)
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	onSlurm := fs.Bool("slurm", false, "the host is a SLURM login host (install --slurm)")
	fs.BoolVar(&e.browse, "open", false, "also open the link in your browser (the token never on a command line)")
	if err := parseFlags(fs, args); err != nil {
		return e.ui.fail("", "", err)
	}
	rest := fs.Args()
	if len(rest) == 0 && hf.putty == "" || len(rest) > 2 {
		return e.ui.fail("", "", usagef("proxy: want HOST [PORT] (as ProxyCommand: nbtunnel proxy %%n %%p)"))
	}
	hf.skipHooks = true
	alias := hf.putty
	if len(rest) > 0 && hf.putty == "" {
		alias = rest[0] // PuTTY passes %host: the session names the host
	}
	e.ui.verbose = hf.verbose
	// ProxyCommand mode never asks anything: ssh owns the terminal.
	h, err := e.resolve(ctx, alias, &hf)
	if err != nil {
		return e.exitCode(alias, nil, err)
	}
	dropOwnHook(h)
	if len(rest) == 2 {
		port, err := strconv.Atoi(rest[1])
		if err != nil || port < 1 || port > 65535 {
			return e.ui.fail(alias, h.Source, usagef("proxy: %q is not a port", rest[1]))
		}
		h.Port = port
	}
	opts := e.dialOptions(false)
	transport, closers, err := sshclient.DialTransport(ctx, h, opts)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	term := e.proxyTerminal(hf.putty)
	if noConsoleForLink(h, term) {
		e.browse = true
	}
	tunnelCtx, stopTunnel := context.WithCancel(ctx)
	tunnelDone := make(chan struct{})
	// Through a jump chain, our control connection rides the same chain as
	// the user's stream: no second login on the jump hosts.
	var via *sshclient.Client
	if len(closers) > 0 {
		via, _ = closers[len(closers)-1].(*sshclient.Client)
	}
	kind := parentSession()
	go func() {
		defer close(tunnelDone)
		switch kind {
		case sessionBatch:
			e.ui.status("not looking for Jupyter for %s: the ssh command line is no interactive session", alias)
			return
		case sessionUnknown:
			select {
			case <-time.After(sideDelay):
			case <-tunnelCtx.Done():
				return
			}
		}
		if *onSlurm {
			e.sideSlurm(tunnelCtx, alias, &hf, h, opts, term, via)
			return
		}
		e.sideTunnel(tunnelCtx, alias, h, *sel, opts, term, via)
	}()
	stdin, stdout := relayStdio(e.stdin, e.ui.out)
	relayErr := proxy.Relay(ctx, stdin, stdout, transport)
	stopTunnel()
	select {
	case <-tunnelDone:
	case <-time.After(5 * time.Second):
	}
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i].Close()
	}
	if relayErr != nil && ctx.Err() == nil {
		e.ui.status("relay to %s ended: %v", h.Addr(), relayErr)
		return 1
	}
	return 0
}

// sideDelay is how long proxy mode waits before it looks for Jupyter when
// it cannot read the client's command line (plink, PuTTY, no /proc): a
// session that ends sooner (a command, a copy) never makes a second login
// or prints a link, and an interactive one is still at its prompt.
const sideDelay = 700 * time.Millisecond

// dropOwnHook forgets a ProxyCommand that is our own hook: we are that
// command, and the host's real route (direct or ProxyJump) is what we take.
func dropOwnHook(h *hostconf.Host) {
	if isOwnHook(h.ProxyCommand) {
		h.ProxyCommand = ""
	}
	for _, j := range h.ProxyJump {
		dropOwnHook(j)
	}
}

func isOwnHook(cmd string) bool {
	return strings.Contains(cmd, "nbtunnel") && (strings.Contains(cmd, " proxy ") || strings.HasSuffix(cmd, " proxy"))
}

// sideTunnel runs the Jupyter part of proxy and attach modes. It reports
// on term: the link, or at most one line saying why there is none. A link
// another nbtunnel serves is shared, and taken over when that one ends
// (share.go).
func (e *env) sideTunnel(ctx context.Context, alias string, h *hostconf.Host, sel string, opts sshclient.Options, term io.Writer, via *sshclient.Client) {
	share := &forwardShare{e: e, alias: alias, h: h, state: loadPortState(e.getenv)}
	defer share.done()
	t := &tunnel.Tunnel{
		Host:      h,
		Options:   opts,
		Select:    sel,
		Reconnect: true,
		Logf:      e.ui.status,
		Listen:    share.listen,
		OnLink: func(link string, s jupyter.Server, others []jupyter.Server) {
			note, show := share.note(link)
			if !show {
				return
			}
			termLine(term, "Jupyter on %s: %s%s", alias, link, note)
			e.openBrowserOnce(link)
			if err := share.state.set(alias, serverID(s), portOf(link)); err != nil {
				e.ui.status("%v", err)
			}
		},
	}
	if opts.MasterOnly {
		t.Reconnect = false
	}
	if via != nil {
		t.Connect = func(ctx context.Context) (*sshclient.Client, error) {
			select {
			case <-via.Done():
				return sshclient.Dial(ctx, h, opts)
			default:
				return sshclient.DialVia(ctx, via, h, opts)
			}
		}
	}
	for {
		err := t.Run(ctx)
		share.done()
		var sh *sharedLink
		if errors.As(err, &sh) && ctx.Err() == nil {
			link := sh.server.Link(sh.port)
			if sh.client {
				termLine(term, "Jupyter on %s: %s", alias, link)
				e.openBrowserOnce(link)
				if !answersWithin(ctx, sh.port, sh.server, time.Minute) && ctx.Err() == nil {
					termLine(term, "nbtunnel: the Jupyter link for %s does not answer: the forward of 127.0.0.1:%d in %s is not up (is the port taken by another program?)", alias, sh.port, h.Source)
				}
				<-ctx.Done()
				return
			}
			termLine(term, "Jupyter on %s: %s (shared with another nbtunnel; this session takes over if it ends)", alias, link)
			e.openBrowserOnce(link)
			if !share.takeOver(ctx, sh, func(format string, args ...any) { termLine(term, format, args...) }) {
				return
			}
			continue
		}
		took := share.took != ""
		switch {
		case err == nil, ctx.Err() != nil, errors.Is(err, tunnel.ErrMasterGone):
		case took:
			termLine(term, "nbtunnel: the Jupyter link for %s ended with the session that served it: %v", alias, err)
		default:
			var auth *sshclient.AuthError
			if errors.As(err, &auth) && strings.HasPrefix(h.Source, "PuTTY") {
				termLine(term, "nbtunnel: no Jupyter link for %s: no key usable without a prompt (hint: load your key into Pageant or ssh-agent)", alias)
				return
			}
			if errors.As(err, &auth) {
				if masterComing(h) {
					// The user's ssh becomes the ControlMaster once its own login
					// (2FA, a password) is done: ride it, with no login of ours.
					// As the LocalCommand hook does, hold no mux session between
					// connections: the master is our own ssh, which must exit
					// at logout.
					if waitMaster(ctx, h) == nil {
						if err := e.attachTunnel(ctx, alias, h, sel); err != nil && ctx.Err() == nil {
							termLine(term, "nbtunnel: no Jupyter link for %s: %v", alias, err)
						}
					}
					return
				}
				if wantsPrompt(auth) {
					termLine(term, "nbtunnel: no Jupyter link for %s: the host wants more than a key (a password or a one-time code), and nbtunnel never asks inside your ssh (hint: 'nbtunnel install --local-command %s' rides your ssh's own login; or ssh-add a key the host accepts alone)", alias, shellArg(alias))
					return
				}
				termLine(term, "nbtunnel: no Jupyter link for %s: no key usable without a prompt (hint: ssh-add your key, or 'nbtunnel install --local-command %s')", alias, shellArg(alias))
				return
			}
			termLine(term, "nbtunnel: no Jupyter link for %s: %v", alias, err)
		}
		return
	}
}

// wantsPrompt reports whether the server, when our keys ran out, still
// offered a method that prompts (2FA, a password).
func wantsPrompt(a *sshclient.AuthError) bool {
	for _, m := range a.Methods {
		if m == "keyboard-interactive" || m == "password" {
			return true
		}
	}
	return false
}

// masterComing reports whether the user's ssh will offer a ControlMaster
// for h once it has logged in (ControlMaster yes or auto, a ControlPath).
func masterComing(h *hostconf.Host) bool {
	if h.ControlPath == "" || h.ControlPath == "none" {
		return false
	}
	switch strings.ToLower(h.ControlMaster) {
	case "yes", "auto", "ask", "autoask":
		return true
	}
	return false
}

// waitMaster waits until h's ControlMaster socket exists or ctx ends.
func waitMaster(ctx context.Context, h *hostconf.Host) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(h.ControlPath); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// localAnswers reports whether 127.0.0.1:port already serves s (another
// nbtunnel's forward for the same server).
func localAnswers(ctx context.Context, port int, s jupyter.Server) bool {
	// Generous: a Notebook's first answers can take seconds on a busy host.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
	}
	_, err := jupyter.ProbeUsable(ctx, dial, s)
	return err == nil
}

// terminal is where proxy and attach modes show the link: stderr when it is
// a terminal, else the controlling terminal (ssh may point our stderr at
// /dev/null, as with ControlPersist), else stderr.
func (e *env) terminal() io.Writer {
	if f, ok := e.ui.err.(*os.File); ok && isTTY(f) {
		return f
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		return tty
	}
	return e.ui.err
}

func isTTY(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// termLine writes one line that stays readable while ssh has the terminal
// in raw mode: it starts and ends with CR LF. To anything but a terminal
// (plink's event log, which shows each line of the proxy command's stderr
// as "proxy: ..."; a file) it writes a plain line.
func termLine(w io.Writer, format string, args ...any) {
	if f, ok := w.(*os.File); !ok || !isTTY(f) {
		fmt.Fprintf(w, "%s\n", printable(fmt.Sprintf(format, args...)))
		return
	}
	fmt.Fprintf(w, "\r\n%s\r\n", printable(fmt.Sprintf(format, args...)))
}
