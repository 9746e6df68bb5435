package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The command table: every command's name, arguments, summary and
// examples, in one place. Help comes from here and from each command's own
// flag.FlagSet (so a flag added anywhere shows up): `nbtunnel help CMD` runs
// the command with -h, its flag parsing returns a *helpRequest carrying the
// FlagSet, and ui.fail renders it with writeCommandHelp.

// command is one entry of the table.
type command struct {
	name     string
	aliases  []string
	args     string // what follows "nbtunnel NAME [flags]"
	summary  string
	details  string
	examples []string
	hidden   bool
	noFlags  bool // set by writeCommandHelp from the FlagSet
	run      func(ctx context.Context, e *env, args []string) int
}

// commands is the table, in the order `nbtunnel help` lists it. It is set
// in init: the help command refers to it.
var commands []*command

func init() {
	commands = []*command{
		{
			name: "open", args: "HOST",
			summary: "find the running Jupyter server, forward a local port, print the link",
			details: "The link goes to stdout once it answers; the forward stays up (reconnecting when the network or sshd drops,\n" +
				"following a restarted server) until Ctrl-C. The local port is the one used last time for this server when free.",
			examples: []string{
				"nbtunnel open gpu-box",
				"nbtunnel open --open gpu-box                  # and open it in the browser",
				"nbtunnel open --server 8888 --local-port 9999 gpu-box",
				"nbtunnel open --start --venv envs/ml gpu-box  # start Jupyter when none runs",
				"nbtunnel open --json gpu-box                  # one JSON event per line, for scripts and editors",
				"nbtunnel open --putty lab",
			},
			run: cmdOpen,
		},
		{
			name: "list", aliases: []string{"ls"}, args: "HOST",
			summary:  "show every live Jupyter server on HOST",
			examples: []string{"nbtunnel list gpu-box", "nbtunnel list --json gpu-box"},
			run:      cmdList,
		},
		{
			name: "start", args: "HOST",
			summary: "start Jupyter on HOST (detached) and say where it runs",
			details: "The token is generated locally and reaches Jupyter on stdin, never on a command line.",
			examples: []string{
				"nbtunnel start gpu-box",
				"nbtunnel start --venv envs/ml --create --lab gpu-box",
				"nbtunnel start --json --dir projects gpu-box",
			},
			run: cmdStart,
		},
		{
			name: "stop", args: "HOST",
			summary:  "stop the server nbtunnel started last on HOST",
			details:  "Without --server, the server nbtunnel started most recently; --all stops every server of yours that --server matches.",
			examples: []string{"nbtunnel stop gpu-box", "nbtunnel stop --server 8888 gpu-box", "nbtunnel stop --all gpu-box"},
			run:      cmdStop,
		},
		{
			name: "pip", args: "HOST PIP-ARG...",
			summary: "pip install into the environment of the server's kernels",
			details: "nbtunnel's flags come before HOST; everything after HOST goes to pip unchanged.\n" +
				"With --putty SESSION, leave HOST out.",
			examples: []string{"nbtunnel pip gpu-box pandas==2.2", "nbtunnel pip gpu-box -r requirements.txt", "nbtunnel pip --putty lab numpy"},
			run:      cmdPip,
		},
		{
			name: "forward", args: "HOST",
			summary: "write (or remove) a LocalForward for HOST's server into your ssh config or PuTTY session",
			details: "After --write, plain 'ssh -N HOST' (or 'plink -N -load SESSION') serves the link.",
			examples: []string{
				"nbtunnel forward --write gpu-box",
				"nbtunnel forward --write --dry-run gpu-box   # show the diff only",
				"nbtunnel forward --remove gpu-box",
				"nbtunnel forward --write --putty lab",
			},
			run: cmdForward,
		},
		{
			name: "install", args: "HOST",
			summary: "hook nbtunnel into your ssh config or PuTTY session: plain 'ssh HOST' prints the link",
			details: "The default hook is a ProxyCommand; --local-command rides your ControlMaster instead (one login on 2FA hosts).\n" +
				"Edits are atomic, backed up (FILE.nbtunnel.bak), inside marked blocks; running it twice changes nothing.",
			examples: []string{
				"nbtunnel install gpu-box",
				"nbtunnel install --local-command gpu-box",
				"nbtunnel install --dry-run gpu-box",
				"nbtunnel install --putty lab",
			},
			run: func(ctx context.Context, e *env, args []string) int { return cmdInstall(ctx, e, args, false) },
		},
		{
			name: "uninstall", args: "HOST",
			summary:  "take nbtunnel's hook out again, leaving the rest of the file as it was",
			examples: []string{"nbtunnel uninstall gpu-box", "nbtunnel uninstall --putty lab"},
			run:      func(ctx context.Context, e *env, args []string) int { return cmdInstall(ctx, e, args, true) },
		},
		{
			name: "proxy", args: "HOST [PORT]",
			summary: "run as ssh's ProxyCommand (what 'install' writes): relay the session, show the link",
			details: "stdout carries the SSH stream and nothing else; the link goes to the terminal.",
			examples: []string{
				"ProxyCommand nbtunnel proxy %n %p          # in ~/.ssh/config",
				"nbtunnel proxy --putty lab %host %port      # a PuTTY session's local proxy command (install --putty writes it)",
			},
			run: cmdProxy,
		},
		{
			name: "attach", args: "HOST",
			summary:  "run as ssh's LocalCommand (what 'install --local-command' writes): forward over the ControlMaster",
			examples: []string{"LocalCommand nbtunnel attach %n          # in ~/.ssh/config, with ControlMaster"},
			run:      cmdAttach,
		},
		{
			name: "config", args: "HOST",
			summary:  "print the settings nbtunnel resolved for HOST, in 'ssh -G' format",
			examples: []string{"nbtunnel config gpu-box", "nbtunnel config --putty lab"},
			run:      cmdConfig,
		},
		{
			name: "doctor", args: "HOST",
			summary: "check each step from config to link and say how to fix what fails",
			details: "Run this first when something does not work; paste its -v output into a support request.",
			examples: []string{
				"nbtunnel doctor gpu-box",
				"nbtunnel doctor --putty lab",
				"nbtunnel doctor --json gpu-box",
			},
			run: cmdDoctor,
		},
		{
			name: "completion", args: "bash|zsh|fish|powershell",
			summary: "print a shell completion script (commands, flags, your ssh hosts and PuTTY sessions)",
			examples: []string{
				"source <(nbtunnel completion bash)                       # bash, in ~/.bashrc",
				"nbtunnel completion zsh > \"${fpath[1]}/_nbtunnel\"        # zsh",
				"nbtunnel completion fish > ~/.config/fish/completions/nbtunnel.fish",
				"nbtunnel completion powershell | Out-String | Invoke-Expression",
			},
			run: cmdCompletion,
		},
		{
			name:     "version",
			summary:  "print nbtunnel's version, Go version and platform",
			examples: []string{"nbtunnel version", "nbtunnel --version", "nbtunnel version --json"},
			run:      cmdVersion,
		},
		{
			name: "help", args: "[COMMAND]",
			summary:  "show this text, or a command's flags and examples",
			examples: []string{"nbtunnel help", "nbtunnel help open", "nbtunnel open -h"},
			run:      cmdHelp,
		},
		{
			name: "__complete", hidden: true, args: "KIND [-F FILE]",
			summary: "list completion candidates (used by the completion scripts)",
			run:     cmdComplete,
		},
	}
}

// lookupCommand finds a command by name or alias.
func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// helpRequest is what parsing a command's flags returns for -h: not an
// error the user made, so help goes to stdout and the status is 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return h.fs.Name() + ": help requested" }

// parseFlags parses args into fs. -h, -help and --help give a
// *helpRequest; any other mistake a usage error naming the command.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return &helpRequest{fs: fs}
	default:
		return usagef("%s: %v", fs.Name(), err)
	}
}

// usageLine is "nbtunnel NAME [flags] ARGS" ("[flags]" left out for a
// command that has none).
func (c *command) usageLine() string {
	s := "nbtunnel " + c.name
	if !c.noFlags {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// cmdHelp is `nbtunnel help [COMMAND]`.
func cmdHelp(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("help", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := parseFlags(fs, args); err != nil {
		return e.ui.fail("", "", err)
	}
	switch rest := fs.Args(); len(rest) {
	case 0:
		writeMainHelp(e.ui.out)
		return 0
	case 1:
		c := lookupCommand(rest[0])
		if c == nil {
			return e.ui.fail("", "", usagef("help: unknown command %q", rest[0]))
		}
		// The command itself answers -h: its FlagSet is the truth.
		return c.run(ctx, e, []string{"-h"})
	default:
		return e.ui.fail("", "", usagef("help: one COMMAND at most (got %q)", strings.Join(rest, " ")))
	}
}

// usageHint is the hint line under a usage error: the command's own help
// when the message names one.
func usageHint(msg string) string {
	if name, _, ok := strings.Cut(msg, ":"); ok {
		if c := lookupCommand(name); c != nil && !c.hidden {
			return fmt.Sprintf("usage: %s; run 'nbtunnel help %s' for its flags and examples", c.usageLine(), c.name)
		}
	}
	return "run 'nbtunnel help' for usage"
}
