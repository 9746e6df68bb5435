package testbed

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Jupyter kinds.
const (
	// KindNotebook is classic Notebook 6 (jupyter-notebook); its runtime file is nbserver-PID.json (mode 0644).
	KindNotebook = "notebook"
	// KindServer is jupyter_server 1.x (jupyter-server); its runtime file is jpserver-PID.json (mode 0600).
	KindServer = "server"
)

// JupyterOptions configures StartJupyter.
type JupyterOptions struct {
	// Kind is KindNotebook or KindServer; "" means KindNotebook.
	Kind string
	// BaseURL is the server's base_url, e.g. "/lab/x/"; "" means "/". Slashes are added at both ends.
	BaseURL string
	// Token is the server token; "" means a random one. Ignored when Password is set.
	Token string
	// Password makes a password-only server: empty token, a random password (Jupyter.Password) whose hash is
	// set with --NotebookApp.password / --ServerApp.password.
	Password bool
	// Sock makes the server listen on a unix socket (--sock) in the user's home instead of a TCP port.
	Sock bool
	// Port is the TCP port on 127.0.0.1 inside the namespace; 0 picks a free one.
	Port int
	// RootDir is the notebook directory; "" means the user's home.
	RootDir string
}

// Jupyter is a running Jupyter server on a Host.
type Jupyter struct {
	Kind        string
	PID         int    // the server's pid; the runtime file is named after it
	Port        int    // TCP port on 127.0.0.1 in the host's namespace (0 with Sock)
	Sock        string // unix socket path, or ""
	Token       string // "" for a password-only server
	Password    string // the plain password of a password-only server, or ""
	BaseURL     string // always starts and ends with "/"
	RuntimeFile string // .../jupyter/runtime/nbserver-PID.json or jpserver-PID.json
	Log         string // the server's stdout and stderr
	// URL is the base URL as seen inside the namespace, e.g. "http://127.0.0.1:8888/lab/x/" (with Sock:
	// "http://localhost/lab/x/", to be dialed through the socket).
	URL string

	host *Host
	proc *proc
}

// StartJupyter starts a Jupyter server as the host's user inside the host's namespace, bound to 127.0.0.1 (or a
// unix socket), with the token passed through JUPYTER_TOKEN (never in argv). It waits, at most 45 seconds,
// until the runtime file exists and api/status answers 200 with the token (a password-only server: until /api
// answers 200 and api/status 403). Close stops the server if Stop or Kill was not called.
func (h *Host) StartJupyter(ctx context.Context, o JupyterOptions) (*Jupyter, error) {
	kind := o.Kind
	if kind == "" {
		kind = KindNotebook
	}
	var bin, app, prefix string
	switch kind {
	case KindNotebook:
		bin, app, prefix = "jupyter-notebook", "NotebookApp", "nbserver"
	case KindServer:
		bin, app, prefix = "jupyter-server", "ServerApp", "jpserver"
	default:
		return nil, fmt.Errorf("starting jupyter on host %q: unknown kind %q", h.Alias, o.Kind)
	}
	binPath, err := lookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("starting jupyter on host %q: %w", h.Alias, err)
	}
	base := "/" + strings.Trim(o.BaseURL, "/") + "/"
	if base == "//" {
		base = "/"
	}
	h.mu.Lock()
	h.njup++
	n := h.njup
	h.mu.Unlock()

	j := &Jupyter{Kind: kind, BaseURL: base, host: h}
	j.Log = filepath.Join(h.dir, fmt.Sprintf("jupyter-%d-%s.log", n, kind))
	rootDir := o.RootDir
	if rootDir == "" {
		rootDir = h.Home
	}
	args := []string{binPath, "--no-browser", "--ip=127.0.0.1", "--port-retries=0",
		"--" + app + ".base_url=" + base}
	if kind == KindNotebook {
		args = append(args, "--notebook-dir="+rootDir)
	} else {
		args = append(args, "--ServerApp.root_dir="+rootDir)
	}
	env := h.Env()
	if o.Password {
		pw, err := randomHex(12)
		if err != nil {
			return nil, err
		}
		hash, err := passwordHash(pw)
		if err != nil {
			return nil, err
		}
		j.Password = pw
		args = append(args, "--"+app+".token=", "--"+app+".password="+hash)
	} else {
		j.Token = o.Token
		if j.Token == "" {
			if j.Token, err = randomHex(24); err != nil {
				return nil, err
			}
		}
		env = append(env, "JUPYTER_TOKEN="+j.Token)
	}
	if o.Sock {
		j.Sock = filepath.Join(h.Home, fmt.Sprintf(".nbt-jupyter-%d.sock", n))
		args = append(args, "--sock="+j.Sock)
		j.URL = "http://localhost" + base
	} else {
		j.Port = o.Port
		if j.Port == 0 {
			if j.Port, err = freePort(h.Netns); err != nil {
				return nil, err
			}
		}
		args = append(args, "--port="+strconv.Itoa(j.Port))
		j.URL = fmt.Sprintf("http://127.0.0.1:%d%s", j.Port, base)
	}

	argv, err := h.userCommand(args...)
	if err != nil {
		return nil, fmt.Errorf("starting jupyter on host %q: %w", h.Alias, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = h.Home
	p, err := startProc(fmt.Sprintf("jupyter %s on %s", kind, h.Alias), cmd, j.Log)
	if err != nil {
		return nil, err
	}
	if err := h.bed.addProc(p); err != nil {
		return nil, err
	}
	j.proc = p
	j.PID = p.pid()
	j.RuntimeFile = filepath.Join(h.Home, ".local/share/jupyter/runtime", fmt.Sprintf("%s-%d.json", prefix, j.PID))

	if err := j.waitReady(ctx); err != nil {
		p.signalGroup(syscall.SIGKILL)
		return nil, fmt.Errorf("starting jupyter %s on host %q: %w; %s", kind, h.Alias, err, logTail(j.Log))
	}
	return j, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// passwordHash returns a "sha1:SALT:HEX" hash that notebook.auth.passwd_check and
// jupyter_server.auth.passwd_check accept: HEX = sha1(password + SALT).
func passwordHash(pw string) (string, error) {
	salt, err := randomHex(6)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum([]byte(pw + salt))
	return "sha1:" + salt + ":" + hex.EncodeToString(sum[:]), nil
}

// HTTPClient returns a client whose connections go to the server inside the host's namespace (or through its
// socket), whatever the URL's host. It follows no redirects.
func (j *Jupyter) HTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if j.Sock != "" {
					var d net.Dialer
					return d.DialContext(ctx, "unix", j.Sock)
				}
				return j.host.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(j.Port)))
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// Get requests path (relative to BaseURL, e.g. "api/status") inside the namespace, with the token in an
// Authorization header when withToken, and returns the status code and body.
func (j *Jupyter) Get(ctx context.Context, path string, withToken bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.URL+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return 0, "", err
	}
	if withToken && j.Token != "" {
		req.Header.Set("Authorization", "token "+j.Token)
	}
	resp, err := j.HTTPClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

func (j *Jupyter) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	var last error
	for {
		if j.proc.exited() {
			return fmt.Errorf("server exited: %v", j.proc.err)
		}
		last = j.ready(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the server: %w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (j *Jupyter) ready(ctx context.Context) error {
	data, err := os.ReadFile(j.RuntimeFile)
	if err != nil {
		return err
	}
	var info struct {
		Port  int    `json:"port"`
		Token string `json:"token"`
		Sock  string `json:"sock"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return fmt.Errorf("parsing %s: %w", j.RuntimeFile, err)
	}
	if info.Token != j.Token {
		return fmt.Errorf("%s has token %q, want %q", j.RuntimeFile, info.Token, j.Token)
	}
	if j.Token != "" {
		code, _, err := j.Get(ctx, "api/status", true)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET api/status with token: status %d", code)
		}
		return nil
	}
	code, _, err := j.Get(ctx, "api", false)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET api: status %d", code)
	}
	if code, _, err = j.Get(ctx, "api/status", false); err != nil {
		return err
	}
	if code != http.StatusForbidden {
		return fmt.Errorf("GET api/status without credentials: status %d, want 403", code)
	}
	return nil
}

// Stop sends SIGTERM and waits (at most 15 seconds, then SIGKILL) for the server to exit. A server stopped this
// way removes its runtime file. SIGTERM is repeated every 2 seconds: Notebook 6 and jupyter_server 1.x lose a
// SIGTERM that arrives while they write a log line (their handler's own log call fails with "reentrant call").
func (j *Jupyter) Stop(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		j.proc.signal(syscall.SIGTERM)
		next := time.Now().Add(2 * time.Second)
		if next.After(deadline) {
			next = deadline
		}
		if j.proc.waitUntil(next) {
			break
		}
		if !time.Now().Before(deadline) {
			j.proc.signalGroup(syscall.SIGKILL)
			j.proc.waitUntil(time.Now().Add(5 * time.Second))
			return fmt.Errorf("stopping jupyter pid %d on host %q: no exit after SIGTERM; killed; %s", j.PID, j.host.Alias, logTail(j.Log))
		}
	}
	// Kernels live in the server's session; make sure none outlives it.
	_ = syscall.Kill(-j.PID, syscall.SIGKILL)
	return nil
}

// Kill SIGKILLs the server (and its kernels) and waits for it to exit: its runtime file stays behind, stale.
func (j *Jupyter) Kill(ctx context.Context) error {
	j.proc.signalGroup(syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if !j.proc.waitUntil(deadline) {
		return fmt.Errorf("killing jupyter pid %d on host %q: no exit; %s", j.PID, j.host.Alias, logTail(j.Log))
	}
	return nil
}

// Exited reports whether the server process has exited.
func (j *Jupyter) Exited() bool { return j.proc.exited() }
