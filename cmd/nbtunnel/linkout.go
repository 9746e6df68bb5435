package main

import (
	"io"
	"runtime"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// proxyTerminal is where proxy mode shows the link. For a PuTTY session
// that prints proxy diagnostics in the terminal (ProxyLogToTerm=0, which
// install --putty sets) it is stderr: PuTTY shows each line there as
// "proxy: ..." in its window and plink on its stderr, whether they were
// started from a desktop or a terminal (which /dev/tty would be: the wrong
// place for a PuTTY window). Lines for PuTTY's window start a line of
// their own (ownLineWriter). plink strips the control characters that
// takes from what it writes to a terminal, so a plink on a terminal gets
// the link on that terminal directly, framed by CR LF as termLine does for
// ssh. Otherwise it is e.terminal().
func (e *env) proxyTerminal(session string) io.Writer {
	if session != "" {
		if store, err := e.puttyStore(); err == nil {
			if s, err := store.Load(session); err == nil && s.Int("ProxyLogToTerm", 1) == 0 {
				switch puttyParent() {
				case "putty":
					return ownLineWriter{e.ui.err}
				case "plink-tty":
					return e.terminal()
				}
				return e.ui.err
			}
		}
	}
	return e.terminal()
}

// shellArg quotes s, a host alias or PuTTY session name in a hint, so that
// the hint pastes into the user's shell: as it is when it needs no
// quoting, else in double quotes when that is safe in every common shell
// (and on Windows), else in POSIX single quotes.
func shellArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@+=,", r))
	}) < 0 {
		return s
	}
	if runtime.GOOS == "windows" || !strings.ContainsAny(s, "\"$`\\!") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hostArg is how a command in a hint names the host: "--putty SESSION"
// for a PuTTY session, else the alias, quoted by shellArg.
func hostArg(alias string, h *hostconf.Host) string {
	if h != nil && strings.HasPrefix(h.Source, "PuTTY") {
		return "--putty " + shellArg(alias)
	}
	return shellArg(alias)
}

// ownLineWriter writes lines for PuTTY's window so that none lands on the
// shell's prompt. PuTTY writes each line of its proxy command's stderr as
// "proxy: LINE" CR LF wherever the cursor is: after the prompt when the
// login was faster than the hook. Each line therefore starts by taking
// PuTTY's "proxy: " back (cursor left 7, erase to the end of the line) and
// moving to the start of the next line (NEL), then writes "proxy: LINE"
// itself. Before the prompt this leaves a blank line above the link;
// after it, the prompt stays as it was, with the link on the next line.
// Each Write must be one whole line (termLine writes so).
type ownLineWriter struct{ w io.Writer }

const ownLineStart = "\x1b[7D\x1b[K\x1bEproxy: "

func (o ownLineWriter) Write(p []byte) (int, error) {
	if _, err := o.w.Write(append([]byte(ownLineStart), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
