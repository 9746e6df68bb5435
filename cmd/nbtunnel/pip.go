package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// cmdPip runs `pip install ARGS...` on the remote host with the interpreter
// of the server's default kernel, streaming pip's output to stdout; the exit
// status is pip's. Flags come before HOST; everything after HOST goes to pip
// unchanged (each argument single-quoted in the remote script, which goes on
// stdin, so no shell interprets it). With --putty SESSION, HOST is left out
// and every argument after the flags goes to pip.
func cmdPip(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("pip", &hf)
	sel := fs.String("server", "", "pick the server `SEL`: its port, pid, socket path or root dir")
	if err := parseFlags(fs, args); err != nil {
		return e.ui.fail("", "", err)
	}
	rest := fs.Args()
	alias := hf.putty
	if alias == "" {
		if len(rest) == 0 {
			return e.ui.fail("", "", usagef("pip: missing HOST"))
		}
		alias, rest = rest[0], rest[1:]
		if strings.HasPrefix(alias, "-") {
			return e.ui.fail("", "", usagef("pip: %q is not a host (flags of nbtunnel come before HOST, pip's after it)", alias))
		}
	}
	if len(rest) == 0 {
		return e.ui.fail("", "", usagef("pip: nothing to install (nbtunnel pip HOST PACKAGE..., or -r FILE)"))
	}
	for _, a := range rest {
		if strings.ContainsRune(a, 0) {
			return e.ui.fail("", "", usagef("pip: an argument cannot contain a NUL byte"))
		}
	}
	e.ui.verbose = hf.verbose
	h, c, code := e.connect(ctx, alias, &hf)
	if c == nil {
		return code
	}
	defer c.Close()
	s, err := pipServer(ctx, c, alias, *sel)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	w := &pipWriter{nonce: nonce, ui: e.ui, alias: alias, server: s}
	status, err := c.Run(ctx, jupyter.LaunchCommand(), jupyter.PipScript(s, rest, nonce), w, uiWriter{e.ui, false})
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	if !w.started() {
		if _, perr := jupyter.ParsePip(w.head.Bytes(), nonce); perr != nil {
			return e.exitCode(alias, h, withHint(perr, fmt.Sprintf("pip ran for %s", s)))
		}
		return e.exitCode(alias, h, fmt.Errorf("running pip: no output from the remote script (exit status %d)", status))
	}
	if w.err != nil {
		e.ui.fail(alias, h.Source, withHint(w.err, fmt.Sprintf("pip was to run for %s", s)))
		if status == 0 {
			status = 1
		}
		return status
	}
	if status != 0 {
		e.ui.warn("pip exited with status %d on %s", status, alias)
	}
	return status
}

// pipServer picks the server whose kernels pip installs for: the one SEL
// names, else the only live one. It refuses to guess among several.
func pipServer(ctx context.Context, c *sshclient.Client, alias, sel string) (jupyter.Server, error) {
	found, err := tunnel.Discover(ctx, c)
	if err != nil {
		return jupyter.Server{}, err
	}
	if len(found.Live) == 0 {
		return jupyter.Server{}, withHint(&tunnel.NoServerError{Found: found},
			fmt.Sprintf("pip installs into the environment of a running server's kernels: start one with 'nbtunnel start %s'", shellArg(alias)))
	}
	if sel == "" && len(found.Live) > 1 {
		var names []string
		for _, s := range found.Live {
			names = append(names, describeChoice(s))
		}
		return jupyter.Server{}, withHint(fmt.Errorf("%d Jupyter servers run (%s): which one's kernels?", len(found.Live), strings.Join(names, "; ")),
			"pick one with --server PORT, --server PID or --server ROOTDIR (before HOST)")
	}
	s, _, err := jupyter.Select(found.Live, sel)
	var nomatch *jupyter.NoMatchError
	var amb *jupyter.AmbiguousError
	if errors.As(err, &nomatch) || errors.As(err, &amb) {
		return s, withHint(err, fmt.Sprintf("'nbtunnel list %s' shows every server", shellArg(alias)))
	}
	return s, err
}

// pipWriter holds the framed header of PipScript's output, announces the
// interpreter once the header is complete, then streams pip's output to
// stdout as it comes.
type pipWriter struct {
	mu     sync.Mutex
	nonce  string
	ui     *ui
	alias  string
	server jupyter.Server
	head   bytes.Buffer
	body   bool
	err    error // the header's error, if it reported one
}

func (w *pipWriter) started() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body
}

func (w *pipWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.body {
		return uiWriter{w.ui, true}.Write(p)
	}
	if w.head.Len() < 1<<20 {
		w.head.Write(p)
	}
	n := jupyter.FrameEnd(w.head.Bytes(), w.nonce)
	if n < 0 {
		return len(p), nil
	}
	w.body = true
	r, err := jupyter.ParsePip(w.head.Bytes(), w.nonce)
	w.err = err
	if err == nil {
		w.ui.say("pip install with %s (the kernels of %s on %s)", r.Python, w.server, w.alias)
	}
	if rest := w.head.Bytes()[n:]; len(rest) > 0 {
		if _, err := (uiWriter{w.ui, true}).Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
