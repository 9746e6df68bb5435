package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"runtime"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/ppk"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

const usageText = `nbtunnel reaches Jupyter on a remote machine over SSH.

Usage:
  nbtunnel open [flags] HOST      find the running Jupyter server, forward a local port, print the link
  nbtunnel list [flags] HOST      show every live Jupyter server on HOST
  nbtunnel start [flags] HOST     start Jupyter on HOST (detached) and say where it runs
  nbtunnel stop [flags] HOST      stop the server nbtunnel started last on HOST
  nbtunnel pip [flags] HOST ARG.. pip install ARG... into the env of the server's kernels
  nbtunnel config [flags] HOST    print the ssh settings nbtunnel uses for HOST, as 'ssh -G' does
  nbtunnel help                   show this text

HOST is an alias from your ssh config (as for 'ssh HOST'), or use --putty SESSION.

Flags (before HOST):
  -F FILE              read this ssh config instead of ~/.ssh/config (as ssh -F)
  --putty SESSION      use a PuTTY saved session instead of ssh config
  --server SEL         pick a server by port, pid, socket path or root dir
  --local-port N       listen on 127.0.0.1:N (default: the port used last time)
  --json               (list) print a JSON array; (start) print the started server
  --start              (open) start Jupyter when none runs (a terminal user is asked)
  --venv PATH          (open, start) run Jupyter with PATH/bin/python (a virtualenv or
                       conda prefix on HOST; relative to the remote $HOME)
  --create             (open, start) create --venv when missing and pip install Jupyter
  --lab, --notebook, --jupyter-server
                       (open, start) the front end (default: JupyterLab if installed,
                       else Notebook, else jupyter_server)
  --dir DIR            (open, start) the started server's root directory
  --all                (stop) stop every server of yours (that --server matches)
  --slurm              (open, list, stop) HOST is a SLURM login host: run Jupyter in a
                       batch job on a compute node, attach to it, list or cancel the jobs
  --sbatch "OPTS"      (open) sbatch options for a new job (implies --slurm; default:
                       the HOST line of ~/.config/nbtunnel/slurm)
  --job ID             (open, stop with --slurm) the job to use
  -v                   show progress on stderr

stop picks, without --server, the server nbtunnel started most recently on HOST.
pip takes its flags before HOST and passes everything after HOST to pip unchanged
(nbtunnel pip HOST -r requirements.txt); with --putty SESSION, leave HOST out.
`

// env is the process state a command may use, handed down from main.
type env struct {
	ui     *ui
	stdin  io.Reader
	getenv func(string) string
}

func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	e := &env{ui: &ui{out: io.out, err: io.err}, stdin: io.in, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(io.err, usageText)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "open":
		return cmdOpen(ctx, e, rest)
	case "list", "ls":
		return cmdList(ctx, e, rest)
	case "proxy":
		return cmdProxy(ctx, e, rest)
	case "attach":
		return cmdAttach(ctx, e, rest)
	case "install":
		return cmdInstall(ctx, e, rest, false)
	case "uninstall":
		return cmdInstall(ctx, e, rest, true)
	case "forward":
		return cmdForward(ctx, e, rest)
	case "start":
		return cmdStart(ctx, e, rest)
	case "stop":
		return cmdStop(ctx, e, rest)
	case "pip":
		return cmdPip(ctx, e, rest)
	case "config":
		return cmdConfig(ctx, e, rest)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(io.out, usageText)
		return 0
	default:
		return e.ui.fail("", "", usagef("unknown command %q", cmd))
	}
}

// hostFlags are the flags every command that reaches a host takes.
type hostFlags struct {
	config  string
	putty   string
	verbose bool
	// skipHooks: resolve as if our own hook blocks were absent (we are
	// the hook).
	skipHooks bool
}

func newFlagSet(name string, hf *hostFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&hf.config, "F", "", "ssh config file")
	fs.StringVar(&hf.putty, "putty", "", "PuTTY saved session")
	fs.BoolVar(&hf.verbose, "v", false, "verbose")
	return fs
}

// parseHostArgs parses flags and the single HOST argument (optional when
// --putty names a session).
func parseHostArgs(fs *flag.FlagSet, hf *hostFlags, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", usagef("%s: flags come before HOST; see 'nbtunnel help'", fs.Name())
		}
		return "", usagef("%s: %v", fs.Name(), err)
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

// resolve turns the host argument into connection settings.
func (e *env) resolve(ctx context.Context, alias string, hf *hostFlags) (*hostconf.Host, error) {
	if hf.putty != "" {
		return e.resolvePutty(ctx, hf.putty)
	}
	p := &ttyPrompter{}
	return hostconf.Resolve(ctx, alias, hostconf.ResolveOptions{
		ConfigFile: hf.config,
		Home:       homeDir(e.getenv),
		LocalUser:  e.localUser(),
		Getenv:     e.getenv,
		Ask: func(ctx context.Context, question string) (bool, error) {
			if !hasTTY() {
				return false, nil
			}
			return p.confirm(ctx, question)
		},
		Warn:      func(msg string) { e.ui.warn("%s", msg) },
		SkipHooks: hf.skipHooks,
	})
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
