package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// Starting Jupyter: `nbtunnel start` and `nbtunnel open --start` share the
// flags and the launch below. The launch is one remote exec of
// jupyter.LaunchScript (sent on stdin, so no value of ours is on any command
// line); the token is generated here and reaches Jupyter only through
// JUPYTER_TOKEN in the script. The remote side records each server it starts
// in ~/.nbtunnel/servers/PID, which is how `nbtunnel stop` knows the most
// recent one.

// startFlags say how to start Jupyter.
type startFlags struct {
	start    bool // open --start: start one without asking when none runs
	venv     string
	create   bool
	lab      bool
	notebook bool
	server   bool
	dir      string
}

// addStartFlags registers the launch flags (not --start) on fs.
func addStartFlags(fs *flag.FlagSet, sf *startFlags) {
	fs.StringVar(&sf.venv, "venv", "", "run Jupyter with `PATH`/bin/python (a virtualenv or conda prefix on HOST, relative to the remote $HOME)")
	fs.BoolVar(&sf.create, "create", false, "create --venv when missing and pip install Jupyter into it")
	fs.BoolVar(&sf.lab, "lab", false, "start JupyterLab (default: JupyterLab if installed, else Notebook, else jupyter_server)")
	fs.BoolVar(&sf.notebook, "notebook", false, "start the classic Notebook")
	fs.BoolVar(&sf.server, "jupyter-server", false, "start a bare jupyter_server")
	fs.StringVar(&sf.dir, "dir", "", "the started server's root `DIR` (relative to the remote $HOME)")
}

// options checks the flags and returns the launch options (no token yet).
func (sf *startFlags) options(cmd string) (jupyter.LaunchOptions, error) {
	o := jupyter.LaunchOptions{Venv: sf.venv, Create: sf.create, Dir: sf.dir}
	n := 0
	for _, f := range []struct {
		on   bool
		name string
	}{{sf.lab, "lab"}, {sf.notebook, "notebook"}, {sf.server, "server"}} {
		if f.on {
			n++
			o.Frontend = f.name
		}
	}
	if n > 1 {
		return o, usagef("%s: pick one of --lab, --notebook, --jupyter-server", cmd)
	}
	if sf.create && sf.venv == "" {
		return o, usagef("%s: --create needs --venv PATH (the environment to create)", cmd)
	}
	for _, v := range []string{sf.venv, sf.dir} {
		if strings.ContainsRune(v, 0) {
			return o, usagef("%s: a path cannot contain a NUL byte", cmd)
		}
	}
	return o, nil
}

// newToken returns a fresh access token from crypto/rand.
func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// launchTimeout bounds a launch: creating a venv and installing JupyterLab
// may take minutes; a plain start waits 30 s for the runtime file.
func launchTimeout(o jupyter.LaunchOptions) time.Duration {
	if o.Create {
		return 20 * time.Minute
	}
	return 2 * time.Minute
}

// launch starts Jupyter on c's host with o, waits until it answers through
// c, and returns it. Progress (venv creation, pip) streams to stderr; the
// token never reaches stderr.
func (e *env) launch(ctx context.Context, c *sshclient.Client, alias string, o jupyter.LaunchOptions) (jupyter.LaunchResult, error) {
	token, err := newToken()
	if err != nil {
		return jupyter.LaunchResult{}, err
	}
	o.Token = token
	nonce, err := jupyter.NewNonce()
	if err != nil {
		return jupyter.LaunchResult{}, err
	}
	what := "Jupyter"
	if o.Venv != "" {
		what += " from " + o.Venv
	}
	e.ui.progress("starting %s on %s", what, alias)
	lctx, cancel := context.WithTimeout(ctx, launchTimeout(o))
	defer cancel()
	var out bytes.Buffer
	status, runErr := c.Run(lctx, jupyter.LaunchCommand(), jupyter.LaunchScript(o, nonce), &limitWriter{w: &out, n: 16 << 20}, uiWriter{e.ui, false})
	res, err := jupyter.ParseLaunch(out.Bytes(), nonce)
	if err != nil {
		var le *jupyter.LaunchError
		switch {
		case errors.As(err, &le):
			return res, e.explainLaunch(alias, le)
		case ctx.Err() != nil:
			return res, ctx.Err()
		case lctx.Err() != nil:
			return res, fmt.Errorf("starting jupyter: no answer from the launch script within %v", launchTimeout(o))
		case runErr != nil:
			return res, fmt.Errorf("starting jupyter: %w", runErr)
		case status != 0:
			return res, fmt.Errorf("starting jupyter: %w (launch script exit status %d)", err, status)
		}
		return res, fmt.Errorf("starting jupyter: %w", err)
	}
	if res.Created {
		e.ui.say("created %s", o.Venv)
	}
	if res.Installed {
		e.ui.say("installed %s into %s", res.Frontend, o.Venv)
	}
	if err := waitAnswer(ctx, c, res.Server); err != nil {
		return res, withHint(fmt.Errorf("starting jupyter: %s (pid %d) does not answer: %w", res.Server, res.Server.PID, err),
			fmt.Sprintf("its log is %s on %s", res.Log, alias),
			fmt.Sprintf("stop it with: nbtunnel stop --server %d %s", res.Server.PID, alias))
	}
	e.ui.say("started %s %s (pid %d) on %s with %s, %s; log %s",
		frontendName(res.Frontend), res.Version, res.Server.PID, alias, res.Python, where(res.Server), res.Log)
	return res, nil
}

// waitAnswer probes s through c until it answers, for at most 30 s.
func waitAnswer(ctx context.Context, c *sshclient.Client, s jupyter.Server) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return c.DialContext(ctx, network, addr)
	}
	for {
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := jupyter.Probe(pctx, dial, s)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func frontendName(f string) string {
	switch f {
	case "lab":
		return "JupyterLab"
	case "notebook":
		return "Notebook"
	case "server":
		return "jupyter_server"
	}
	return "Jupyter"
}

func where(s jupyter.Server) string {
	if s.Sock != "" {
		return "listening on socket " + s.Sock
	}
	return fmt.Sprintf("listening on 127.0.0.1:%d", s.Port)
}

// explainLaunch renders a failed launch: the remote log's last lines on
// stderr, and an error with what to try.
func (e *env) explainLaunch(alias string, le *jupyter.LaunchError) error {
	tail := le.LogTail
	if len(tail) > 20 {
		tail = tail[len(tail)-20:]
	}
	// pip's output has already streamed to stderr.
	if len(tail) > 0 && le.Stage != "pip" {
		e.ui.say("last lines of %s on %s:", le.Log, alias)
		for _, l := range tail {
			e.ui.say("  | %s", l)
		}
	}
	var hints []string
	switch le.Stage {
	case "venv":
		hints = append(hints, "check the path (relative paths are under the remote $HOME), or add --create to make it")
	case "pip":
		hints = append(hints, "pip could not install Jupyter (its output above says why; no package index reachable?)",
			"install Jupyter into that environment yourself, or use one made with --system-site-packages on a host whose Python has Jupyter")
	case "python", "frontend":
		hints = append(hints, "install Jupyter there (pip install jupyterlab), pick an environment that has it with --venv PATH, or pick another front end with --lab, --notebook or --jupyter-server")
	case "start":
		hints = append(hints, "Jupyter exited during start-up: the log lines above say why")
	case "wait":
		if le.PID > 0 {
			hints = append(hints, fmt.Sprintf("Jupyter (pid %d) is left running; stop it with: nbtunnel stop --server %d %s", le.PID, le.PID, alias))
		}
	}
	if le.Log != "" {
		hints = append(hints, fmt.Sprintf("the full log is %s on %s", le.Log, alias))
	}
	return withHint(le, hints...)
}

// uiWriter passes a remote command's output through to our stderr (or,
// with out, stdout) as it comes, between the ui's own lines.
type uiWriter struct {
	u   *ui
	out bool
}

func (w uiWriter) Write(p []byte) (int, error) {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	if w.out {
		return w.u.out.Write(p)
	}
	return w.u.err.Write(p)
}

// limitWriter keeps at most n bytes.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	if _, err := l.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// startHook is open's tunnel.Tunnel.NoServer: with --start it starts a
// server; without, a user at a terminal is asked once.
func (e *env) startHook(alias string, sf *startFlags, o jupyter.LaunchOptions) func(context.Context, *sshclient.Client, *tunnel.Found) (*jupyter.Server, error) {
	return func(ctx context.Context, c *sshclient.Client, f *tunnel.Found) (*jupyter.Server, error) {
		if !sf.start {
			if !hasTTY() {
				return nil, &tunnel.NoServerError{Found: f}
			}
			ok, err := (&ttyPrompter{}).confirm(ctx, fmt.Sprintf("nbtunnel: no Jupyter server runs on %s. Start one?", alias))
			if err != nil || !ok {
				return nil, &tunnel.NoServerError{Found: f}
			}
		}
		res, err := e.launch(ctx, c, alias, o)
		if err != nil {
			return nil, err
		}
		return &res.Server, nil
	}
}

func cmdStart(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	var sf startFlags
	fs := newFlagSet("start", &hf)
	addStartFlags(fs, &sf)
	asJSON := fs.Bool("json", false, "print the started server as JSON")
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	o, err := sf.options("start")
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.ui.verbose = hf.verbose
	h, c, code := e.connect(ctx, alias, &hf)
	if c == nil {
		return code
	}
	defer c.Close()
	res, err := e.launch(ctx, c, alias, o)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	if *asJSON {
		ent := toEntry(res.Server)
		data, _ := json.MarshalIndent(struct {
			listEntry
			Python   string `json:"python"`
			Frontend string `json:"frontend"`
			Log      string `json:"log"`
		}{ent, res.Python, res.Frontend, res.Log}, "", "  ")
		e.ui.link(string(data))
	}
	e.ui.hint("'nbtunnel open --server %d %s' forwards it and prints the link; 'nbtunnel stop %s' stops it", res.Server.PID, shellArg(alias), shellArg(alias))
	return 0
}
