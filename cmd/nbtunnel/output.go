package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// This file owns everything the user reads: the link, help, doctor's
// checklist and the JSON events on stdout, and status, warnings, errors and
// hints on stderr. No token reaches stderr; the link
// (which carries the token) goes only where the user asked for it.

type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

type ui struct {
	mu      sync.Mutex
	out     io.Writer
	err     io.Writer
	verbose bool
	quiet   bool
	// tty: stderr is a terminal, where progress lines go.
	tty bool
	// helped is the FlagSet whose help was last shown (completion reads
	// a command's flags this way).
	helped *flag.FlagSet
}

// link prints a link on its own stdout line.
func (u *ui) link(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintln(u.out, printable(s))
}

// text prints lines of plain output (nbtunnel config) on stdout.
func (u *ui) text(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintln(u.out, printable(s))
}

// status is progress: shown with -v only.
func (u *ui) status(format string, args ...any) {
	if !u.verbose {
		return
	}
	u.say(format, args...)
}

// progress is a step of a command at work: shown when stderr is a
// terminal (or with -v), never with -q.
func (u *ui) progress(format string, args ...any) {
	if !u.tty && !u.verbose {
		return
	}
	u.say(format, args...)
}

// say is a line the user should see even without -v: a result, or a change
// in a long-running session. -q silences it.
func (u *ui) say(format string, args ...any) {
	if u.quiet {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.err, "nbtunnel: %s\n", printable(fmt.Sprintf(format, args...)))
}

func (u *ui) warn(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.err, "nbtunnel: warning: %s\n", printable(fmt.Sprintf(format, args...)))
}

func (u *ui) hint(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.err, "nbtunnel: hint: %s\n", printable(fmt.Sprintf(format, args...)))
}

// The command overview and each command's help (from the command table
// and the command's FlagSet).

const helpIntro = `nbtunnel reaches Jupyter on a remote machine over SSH.

Usage:
  nbtunnel COMMAND [flags] HOST

HOST is an alias from your ssh config (as for 'ssh HOST'), or use --putty SESSION
instead. Flags come before HOST.
`

const helpCommon = `Flags every command that reaches a host takes:
  -F FILE            read this ssh config instead of ~/.ssh/config (as ssh -F)
  --putty SESSION    use a PuTTY saved session instead of the ssh config
  -v                 show what a support request needs: each step, the files read
  -q                 quiet: only errors and warnings

Exit status: 0 on success (and after Ctrl-C), 1 on failure, 2 on a usage error.
Something does not work? Start with 'nbtunnel doctor HOST'.
`

// writeMainHelp prints the command overview.
func writeMainHelp(w io.Writer) {
	fmt.Fprint(w, helpIntro)
	fmt.Fprintln(w, "\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		if c.hidden {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nExamples:")
	for _, name := range []string{"open", "list", "start", "install", "doctor"} {
		fmt.Fprintf(w, "  %s\n", lookupCommand(name).examples[0])
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, helpCommon)
	fmt.Fprintln(w, "\nRun 'nbtunnel help COMMAND' (or 'nbtunnel COMMAND -h') for a command's flags and examples.")
}

// writeCommandHelp prints the help of the command whose FlagSet is fs.
func writeCommandHelp(w io.Writer, fs *flag.FlagSet) {
	c := &command{name: fs.Name()}
	if found := lookupCommand(fs.Name()); found != nil {
		copied := *found
		c = &copied
	}
	lines := flagLines(fs)
	c.noFlags = len(lines) == 0
	fmt.Fprintf(w, "Usage: %s\n", c.usageLine())
	if len(c.aliases) > 0 {
		fmt.Fprintf(w, "       (also: %s)\n", strings.Join(c.aliases, ", "))
	}
	if c.summary != "" {
		fmt.Fprintf(w, "\n%s%s.\n", strings.ToUpper(c.summary[:1]), c.summary[1:])
	}
	if c.details != "" {
		fmt.Fprintf(w, "%s\n", c.details)
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, l := range lines {
			fmt.Fprintf(tw, "  %s\t%s\n", l[0], l[1])
		}
		tw.Flush()
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, ex := range c.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
}

// flagLines lists fs's flags as (name, description) pairs: "-F FILE" for
// one-letter flags, "--name VALUE" for the others, the placeholder taken
// from a `quoted` word in the usage text. A flag whose usage starts with
// "internal:" is not shown.
func flagLines(fs *flag.FlagSet) [][2]string {
	var lines [][2]string
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, "internal:") {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		switch name {
		case "int":
			name = "N"
		case "string", "value":
			name = "VALUE"
		case "duration":
			name = "DURATION"
		}
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		left := dashes + f.Name
		if name != "" {
			left += " " + name
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			usage += fmt.Sprintf(" (default %s)", def)
		}
		lines = append(lines, [2]string{left, usage})
	})
	return lines
}

// renderDoctorHeader starts doctor's checklist.
func (e *env) renderDoctorHeader(host string) {
	e.ui.mu.Lock()
	defer e.ui.mu.Unlock()
	fmt.Fprintf(e.ui.out, "nbtunnel doctor %s\n", printable(host))
}

// renderCheck prints one line of the checklist, with its items and fixes.
func (e *env) renderCheck(c check) {
	w := e.ui.out
	e.ui.mu.Lock()
	defer e.ui.mu.Unlock()
	mark := c.Status
	if c.Status == checkFail {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "  %-4s  %s: %s\n", mark, c.Name, printable(c.Detail))
	for _, it := range c.Items {
		fmt.Fprintf(w, "          - %s\n", printable(it))
	}
	for _, f := range c.Fix {
		fmt.Fprintf(w, "          fix: %s\n", printable(f))
	}
}

func (e *env) renderSummary(r *doctorReport) {
	w := e.ui.out
	e.ui.mu.Lock()
	defer e.ui.mu.Unlock()
	if r.OK {
		fmt.Fprintf(w, "all checks passed for %s\n", printable(r.Host))
	} else {
		fmt.Fprintf(w, "some checks failed for %s: fix the first failure first\n", printable(r.Host))
	}
}

// emit prints one event as a JSON line on stdout.
func (w *eventWriter) emit(ev openEvent) {
	ev.Host = w.host
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	ev.Time = now().UTC().Format(time.RFC3339Nano)
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	w.ui.mu.Lock()
	defer w.ui.mu.Unlock()
	fmt.Fprintf(w.ui.out, "%s\n", data)
}

// hinted is an error with the next steps to suggest.
type hinted struct {
	err   error
	hints []string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hints: hints}
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// fail renders err for host (which may be empty) with its hints and
// returns the exit status.
func (u *ui) fail(host, source string, err error) int {
	if err == nil {
		return 0
	}
	var hr *helpRequest
	if errors.As(err, &hr) {
		u.mu.Lock()
		u.helped = hr.fs
		writeCommandHelp(u.out, hr.fs)
		u.mu.Unlock()
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		u.mu.Lock()
		fmt.Fprintf(u.err, "nbtunnel: %s\n", ue.msg)
		fmt.Fprintf(u.err, "nbtunnel: hint: %s\n", usageHint(ue.msg))
		u.mu.Unlock()
		return 2
	}
	if errors.Is(err, context.Canceled) {
		return 1
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if host != "" {
		fmt.Fprintf(u.err, "nbtunnel: error: host %q: %s\n", host, printable(err.Error()))
	} else {
		fmt.Fprintf(u.err, "nbtunnel: error: %s\n", printable(err.Error()))
	}
	for _, h := range hintsFor(host, source, err) {
		fmt.Fprintf(u.err, "nbtunnel: hint: %s\n", printable(h))
	}
	return 1
}

func hintsFor(host, source string, err error) []string {
	var hints []string
	var h *hinted
	if errors.As(err, &h) {
		hints = append(hints, h.hints...)
	}
	var hk *hostkeys.KeyError
	var auth *sshclient.AuthError
	var op *net.OpError
	var ce *hostconf.ConfigError
	switch {
	case errors.As(err, &hk):
		putty := strings.HasPrefix(source, "PuTTY")
		switch hk.Problem {
		case hostkeys.KeyChanged:
			hints = append(hints, "the server's key differs from the one recorded: this can mean someone is intercepting the connection, or that the host was reinstalled")
			if putty {
				hints = append(hints, "if you have confirmed the new key with the host's administrator, connect once with PuTTY or plink and accept it")
			} else {
				hints = append(hints, fmt.Sprintf("if you have confirmed the new key, remove the old entry with: ssh-keygen -R '%s' -f %s", hk.Host, hk.File))
			}
		case hostkeys.KeyRevoked:
			hints = append(hints, "the key is marked @revoked: ask the host's administrator")
		default:
			if putty {
				hints = append(hints, fmt.Sprintf("connect once with 'plink -load %s' (or PuTTY) to check the key's fingerprint and cache it", shellArg(host)))
			} else {
				hints = append(hints, fmt.Sprintf("connect once with 'ssh %s' to check the key's fingerprint and record it, or set StrictHostKeyChecking accept-new for this host", host))
			}
		}
	case errors.As(err, &auth):
		if strings.HasPrefix(source, "PuTTY") {
			hints = append(hints, "load your key into Pageant, or set the session's private key file (Connection > SSH > Auth in PuTTY)")
		} else {
			hints = append(hints, "load your key into the agent (ssh-add KEYFILE), or set IdentityFile for this host")
		}
		if source != "" {
			hints = append(hints, "settings for this host come from "+source)
		}
	case errors.Is(err, sshclient.ErrNoMaster):
		hints = append(hints, fmt.Sprintf("start the master first (ssh %s), or use 'nbtunnel open %s'", host, host))
	case errors.As(err, &ce) && ce.Line > 0:
		hints = append(hints, fmt.Sprintf("fix %s line %d; 'ssh -G %s' shows how OpenSSH itself reads it", ce.File, ce.Line, host))
	case errors.As(err, &ce) || errors.Is(err, hostconf.ErrUnsupportedConfig):
		hints = append(hints, fmt.Sprintf("fix the file named above; 'ssh -G %s' shows how OpenSSH itself reads it", host))
	case errors.As(err, &op):
		if source != "" {
			hints = append(hints, fmt.Sprintf("check HostName and Port for %s in %s; 'ssh -v %s' shows what ssh does", host, source, host))
		}
	}
	return hints
}

// printable makes text from remote hosts and files safe to show on a
// terminal: control characters other than newline and tab, and the Unicode
// bidi controls, are shown escaped (\x1b, \u202e) instead of acting on the
// terminal. Newlines stay (multi-line JSON, log tails).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unprintable(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unprintable(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func unprintable(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0xfffd:
		return false
	}
	return false
}
