package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/putty"
	"github.com/nbtunnel/nbtunnel/install"
)

// PuTTY sessions (--putty SESSION): the store, the hook, written forwards,
// and showing the link when PuTTY gives the proxy command no terminal.

func (e *env) puttyStore() (putty.Store, error) {
	return putty.NewStore(homeDir(e.getenv), e.getenv)
}

func (e *env) resolvePutty(ctx context.Context, session string) (*hostconf.Host, error) {
	store, err := e.puttyStore()
	if err != nil {
		return nil, err
	}
	return hostconf.ResolvePutty(ctx, store, session)
}

// installPutty makes session run `nbtunnel proxy --putty SESSION` as its
// local proxy command, or with remove restores what it was.
func (e *env) installPutty(ctx context.Context, session string, remove, dryRun bool) int {
	store, err := e.puttyStore()
	if err != nil {
		return e.ui.fail(session, "", err)
	}
	where := store.Where(session)
	var diff string
	if remove {
		diff, err = install.UninstallPutty(ctx, store, session, dryRun)
	} else {
		var bin string
		if bin, err = selfPath(); err != nil {
			return e.ui.fail(session, where, err)
		}
		// A session nbtunnel cannot use (not SSH, an unsupported proxy)
		// is refused before it is changed.
		if _, err := hostconf.ResolvePutty(ctx, store, session); err != nil {
			return e.ui.fail(session, where, err)
		}
		diff, err = install.InstallPutty(ctx, store, session, bin, dryRun)
	}
	if err != nil {
		return e.ui.fail(session, where, err)
	}
	e.report("PuTTY session "+session, where, diff != "", diff, puttyBackup(store, session, diff != "" && !dryRun), dryRun, nil)
	if !remove {
		if s, err := store.Load(session); err == nil {
			if v, _ := s.Get("ProxyExcludeList"); strings.TrimSpace(v) != "" {
				e.ui.warn("PuTTY session %q excludes hosts from its proxy (ProxyExcludeList=%s): if its host is one of them, PuTTY never runs nbtunnel", session, v)
			}
		}
	}
	if !remove && !dryRun {
		e.ui.say("PuTTY now shows the Jupyter link in its window (a line \"proxy: Jupyter on %s: ...\"), and 'plink -load %s' on its terminal; undo with 'nbtunnel uninstall --putty %s'", session, shellArg(session), shellArg(session))
		if runtime.GOOS == "windows" {
			e.ui.say("PuTTY runs the hook without a console, so it also opens the link in your browser (through a private redirect page: the token is never on a command line)")
		}
	}
	return 0
}

// puttyBackup names the copy of the session file the store kept before
// an edit, if there is one.
func puttyBackup(store putty.Store, session string, changed bool) string {
	fs, ok := store.(*putty.FileStore)
	if !ok || !changed {
		return ""
	}
	p := filepath.Join(fs.Dir, "nbtunnel-backup", filepath.Base(fs.Where(session)))
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// writePuttyForward adds L<port>=<target> to session's PortForwardings.
func (e *env) writePuttyForward(ctx context.Context, session string, port int, target string, dryRun bool) int {
	store, err := e.puttyStore()
	if err != nil {
		return e.ui.fail(session, "", err)
	}
	where := store.Where(session)
	var diff string
	var changed bool
	if dryRun {
		diff, err = install.DiffPuttyForward(ctx, store, session, port, target)
	} else {
		changed, err = install.WritePuttyForward(ctx, store, session, port, target)
	}
	if err != nil {
		return e.ui.fail(session, where, err)
	}
	e.report("PuTTY session "+session, where, changed, diff, "", dryRun, nil)
	return 0
}

// removePuttyForward takes out the PortForwardings entry nbtunnel wrote.
func (e *env) removePuttyForward(ctx context.Context, session string, dryRun bool) int {
	store, err := e.puttyStore()
	if err != nil {
		return e.ui.fail(session, "", err)
	}
	where := store.Where(session)
	diff, err := install.RemovePuttyForward(ctx, store, session, dryRun)
	if err != nil {
		return e.ui.fail(session, where, err)
	}
	e.report("PuTTY session "+session, where, diff != "", diff, "", dryRun, nil)
	return 0
}

// noConsoleForLink reports whether a user of PuTTY's GUI could miss the
// link: on Windows PuTTY runs its proxy command with no console, so when
// term is not a terminal the link is also opened in the default browser
// (through openBrowserOnce: a private redirect page, removed at exit).
// Elsewhere, and for OpenSSH hosts, the link on term is enough.
func noConsoleForLink(h *hostconf.Host, term io.Writer) bool {
	if runtime.GOOS != "windows" || !strings.HasPrefix(h.Source, "PuTTY") {
		return false
	}
	f, ok := term.(*os.File)
	return !ok || !isTTY(f)
}
