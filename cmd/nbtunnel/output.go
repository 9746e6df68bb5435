package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// This file owns everything the user reads: the link on stdout, and status,
// warnings, errors and hints on stderr. No token reaches stderr; the link
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

// say is a line the user should see even without -v.
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
	var ue *usageError
	if errors.As(err, &ue) {
		u.mu.Lock()
		fmt.Fprintf(u.err, "nbtunnel: %s\n", ue.msg)
		fmt.Fprintln(u.err, "nbtunnel: hint: run 'nbtunnel help' for usage")
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
