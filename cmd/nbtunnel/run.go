package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/user"
	"runtime"
	"strings"
	"sync"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/ppk"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// env is the process state a command may use, handed down from main.
type env struct {
	ui     *ui
	stdin  io.Reader
	getenv func(string) string

	// browse: open the first link in the browser (--open).
	browse   bool
	browseMu sync.Mutex
	browsed  bool
	// atExit runs when run returns (the browser's redirect file).
	atExit []func()
}

// openBrowserOnce opens link in the browser the first time it is called
// when --open was given; later links (a restarted server) are not opened.
func (e *env) openBrowserOnce(link string) {
	e.browseMu.Lock()
	defer e.browseMu.Unlock()
	if !e.browse || e.browsed {
		return
	}
	e.browsed = true
	done, err := openInBrowser(link, e.getenv, e.ui.warn)
	if err != nil {
		e.ui.warn("%v", err)
		return
	}
	e.atExit = append(e.atExit, done)
}

func (e *env) exit() {
	e.browseMu.Lock()
	fns := e.atExit
	e.atExit = nil
	e.browseMu.Unlock()
	for _, f := range fns {
		f()
	}
}

func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	e := &env{ui: &ui{out: io.out, err: io.err}, stdin: io.in, getenv: getenv}
	if f, ok := io.err.(*os.File); ok && isTTY(f) {
		e.ui.tty = true
	}
	if len(args) == 0 {
		writeMainHelp(io.err)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	case "--version", "-version", "-V":
		name = "version"
	}
	defer e.exit()
	c := lookupCommand(name)
	if c == nil {
		return e.ui.fail("", "", usagef("unknown command %q", name))
	}
	return c.run(ctx, e, rest)
}

// hostFlags are the flags every command that reaches a host takes.
type hostFlags struct {
	config  string
	putty   string
	verbose bool
	quiet   bool
	// noPrompt: never ask (doctor looks, it does not change).
	noPrompt bool
	// skipHooks: resolve as if our own hook blocks were absent (we are
	// the hook).
	skipHooks bool
}

func newFlagSet(name string, hf *hostFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&hf.config, "F", "", "read this ssh config `FILE` instead of ~/.ssh/config (as ssh -F)")
	fs.StringVar(&hf.putty, "putty", "", "use this PuTTY saved `SESSION` instead of the ssh config")
	fs.BoolVar(&hf.verbose, "v", false, "verbose: each step and the files read (what a support request needs)")
	fs.BoolVar(&hf.quiet, "q", false, "quiet: only errors and warnings")
	return fs
}

// parseHostArgs parses flags and the single HOST argument (optional when
// --putty names a session).
func parseHostArgs(fs *flag.FlagSet, hf *hostFlags, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	rest := fs.Args()
	switch {
	case len(rest) == 0 && hf.putty != "":
		return hf.putty, nil
	case len(rest) == 0:
		return "", usagef("%s: missing HOST", fs.Name())
	case len(rest) > 1:
		if strings.HasPrefix(rest[1], "-") {
			return "", usagef("%s: flags must come before HOST (got %q after %q)", fs.Name(), rest[1], rest[0])
		}
		return "", usagef("%s: one HOST only (got %q)", fs.Name(), strings.Join(rest, " "))
	}
	if strings.HasPrefix(rest[0], "-") {
		return "", usagef("%s: %q is not a host", fs.Name(), rest[0])
	}
	return rest[0], nil
}

func (e *env) localUser() string {
	if runtime.GOOS == "windows" {
		// As Win32-OpenSSH: the account name without its MACHINE\ or
		// DOMAIN\ part (user.Current gives "VM\me").
		if u := e.getenv("USERNAME"); u != "" {
			return u
		}
		if u, err := user.Current(); err == nil {
			return u.Username[strings.LastIndexByte(u.Username, '\\')+1:]
		}
		return ""
	}
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// useFlags applies -v and -q.
func (e *env) useFlags(hf *hostFlags) {
	e.ui.verbose = e.ui.verbose || hf.verbose
	e.ui.quiet = e.ui.quiet || hf.quiet
}

// resolve turns the host argument into connection settings.
func (e *env) resolve(ctx context.Context, alias string, hf *hostFlags) (*hostconf.Host, error) {
	e.useFlags(hf)
	e.ui.status("%s; resolving %s", buildVersion(), alias)
	if hf.putty != "" {
		h, err := e.resolvePutty(ctx, hf.putty)
		if err == nil {
			e.describeHost(h)
		}
		return h, err
	}
	p := &ttyPrompter{}
	h, err := hostconf.Resolve(ctx, alias, hostconf.ResolveOptions{
		ConfigFile: hf.config,
		Home:       homeDir(e.getenv),
		LocalUser:  e.localUser(),
		Getenv:     e.getenv,
		Ask: func(ctx context.Context, question string) (bool, error) {
			if hf.noPrompt || !hasTTY() {
				return false, nil
			}
			return p.confirm(ctx, question)
		},
		Warn:      func(msg string) { e.ui.warn("%s", msg) },
		SkipHooks: hf.skipHooks,
	})
	if err == nil {
		e.describeHost(h)
	}
	return h, err
}

// describeHost says, with -v, what a support request needs to know about
// the resolved settings (never a secret).
func (e *env) describeHost(h *hostconf.Host) {
	if !e.ui.verbose {
		return
	}
	e.ui.status("%s: %s@%s (settings from %s)", h.Alias, orDash(h.User), h.Addr(), orDash(h.Source))
	for _, j := range h.ProxyJump {
		e.ui.status("%s: jump host %s@%s", h.Alias, orDash(j.User), j.Addr())
	}
	if h.ProxyCommand != "" {
		e.ui.status("%s: ProxyCommand %s", h.Alias, h.ProxyCommand)
	}
	if h.ControlPath != "" {
		e.ui.status("%s: ControlMaster %s, ControlPath %s", h.Alias, orDash(h.ControlMaster), h.ControlPath)
	}
	if len(h.IdentityFiles) > 0 {
		e.ui.status("%s: identity files %s (IdentitiesOnly %v)", h.Alias, strings.Join(h.IdentityFiles, ", "), h.IdentitiesOnly)
	}
}

// connect resolves alias and logs in, for a command that talks to the host
// once. On failure it renders the error and returns a nil client with the
// exit status.
func (e *env) connect(ctx context.Context, alias string, hf *hostFlags) (*hostconf.Host, *sshclient.Client, int) {
	h, err := e.resolve(ctx, alias, hf)
	if err != nil {
		return nil, nil, e.exitCode(alias, nil, err)
	}
	c, err := sshclient.Dial(ctx, h, e.dialOptions(true))
	if err != nil {
		return h, nil, e.exitCode(alias, h, err)
	}
	return h, c, 0
}

// dialOptions are the connection options for an interactive command.
func (e *env) dialOptions(interactive bool) sshclient.Options {
	o := sshclient.Options{
		Getenv:  e.getenv,
		Logf:    e.ui.status,
		Stderr:  e.ui.err,
		LoadPPK: ppk.Parse,
	}
	if interactive && hasTTY() {
		o.Prompter = &ttyPrompter{}
	}
	return o
}

// exitCode maps err to the process status after rendering it.
func (e *env) exitCode(host string, h *hostconf.Host, err error) int {
	source := ""
	if h != nil {
		source = h.Source
	}
	return e.ui.fail(host, source, err)
}
