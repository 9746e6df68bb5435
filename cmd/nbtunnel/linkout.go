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
// place for a PuTTY window). Otherwise it is e.terminal().
func (e *env) proxyTerminal(session string) io.Writer {
	if session != "" {
		if store, err := e.puttyStore(); err == nil {
			if s, err := store.Load(session); err == nil && s.Int("ProxyLogToTerm", 1) == 0 {
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
