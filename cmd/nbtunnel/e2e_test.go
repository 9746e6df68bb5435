//go:build linux

package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// The end-to-end suite drives the real nbtunnel binary against real sshd
// and real Jupyter servers living in network namespaces (internal/testbed),
// so Jupyter is reachable only through SSH.

var (
	binPath string // the nbtunnel binary under test

	bedOnce sync.Once
	bed     *testbed.Bed
	bedErr  error
	hostSeq atomic.Int32
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nbtunnel-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "nbtunnel")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building nbtunnel: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if err := testbed.CloseWine(); err != nil {
		fmt.Fprintf(os.Stderr, "closing the Wine prefix: %v\n", err)
	}
	if bed != nil {
		if err := bed.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "closing test bed: %v\n", err)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedBed returns the package's test bed, started on first use.
func sharedBed(t *testing.T) *testbed.Bed {
	t.Helper()
	testbed.Require(t)
	bedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		bed, bedErr = testbed.Start(ctx, testbed.Options{})
	})
	if bedErr != nil {
		t.Fatalf("starting test bed: %v", bedErr)
	}
	return bed
}

// newHost adds a host of the test's own (own user, own runtime files).
func newHost(t *testing.T, o testbed.HostOptions) *testbed.Host {
	t.Helper()
	b := sharedBed(t)
	if o.Alias == "" {
		o.Alias = fmt.Sprintf("h%d", hostSeq.Add(1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := b.AddHost(ctx, o)
	if err != nil {
		t.Fatalf("adding host %s: %v", o.Alias, err)
	}
	return h
}

func startJupyter(t *testing.T, h *testbed.Host, o testbed.JupyterOptions) *testbed.Jupyter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := h.StartJupyter(ctx, o)
	if err != nil {
		t.Fatalf("starting %s Jupyter on %s: %v", o.Kind, h.Alias, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		j.Stop(ctx)
	})
	return j
}

// proc is a running nbtunnel.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// userEnv is a clean environment for nbtunnel: its own HOME, no agent.
func userEnv(t *testing.T, home string) []string {
	t.Helper()
	if home == "" {
		home = t.TempDir()
	}
	return []string{"HOME=" + home, "USER=root", "PATH=" + os.Getenv("PATH")}
}

// start runs nbtunnel with args in its own session (no controlling
// terminal, as under a service manager), reading stdout line by line.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = env
	return startProc(t, cmd, false)
}

// startProc starts cmd in its own session and reads its stdout line by
// line (crlf: a Windows program's lines, whose "\r" is dropped). The test's
// cleanup kills it and waits for it.
func startProc(t *testing.T, cmd *exec.Cmd, crlf bool) *proc {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 16), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l := sc.Text()
			if crlf {
				l = strings.TrimSuffix(l, "\r")
			}
			p.lines <- l
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// line waits for the next stdout line.
func (p *proc) line(within time.Duration) string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			p.t.Fatalf("nbtunnel exited (%v) before printing a line; stderr:\n%s", p.err, p.stderr)
		}
		return l
	case <-time.After(within):
		p.t.Fatalf("no line from nbtunnel within %v; stderr:\n%s", within, p.stderr)
	}
	return ""
}

// interrupt sends SIGINT and returns the exit status.
func (p *proc) interrupt() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Fatalf("nbtunnel did not exit within 15s of SIGINT; stderr:\n%s", p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// wait waits for exit and returns the status.
func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.t.Fatalf("nbtunnel did not exit within %v; stderr:\n%s", within, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// runCmd runs nbtunnel to completion.
func runCmd(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := start(t, env, args...)
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	code = p.wait(2 * time.Minute)
	return strings.Join(out, "\n"), p.stderr.String(), code
}

// get fetches u (following redirects) and returns status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	// No keep-alive: an idle forwarded connection would keep an OpenSSH
	// master (LocalCommand mode) from exiting, as with ssh -L.
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", redact(u), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

func redact(u string) string {
	if i := strings.Index(u, "token="); i >= 0 {
		return u[:i] + "token=REDACTED"
	}
	return u
}

// checkLink asserts that link is a loopback link to j that answers.
func checkLink(t *testing.T, link string, j *testbed.Jupyter) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q does not parse: %v", redact(link), err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("link host = %q, want 127.0.0.1", u.Hostname())
	}
	if got, want := u.Path, j.BaseURL; got != want {
		t.Errorf("link path = %q, want the base_url %q", got, want)
	}
	if got, want := u.Query().Get("token"), j.Token; got != want {
		t.Errorf("link token = %q, want %q", got, want)
	}
	if code, body := get(t, link); code != 200 {
		t.Errorf("GET link = %d, want 200; body: %.200s", code, body)
	}
	status := u.Scheme + "://" + u.Host + j.BaseURL + "api/status"
	if j.Token != "" {
		status += "?token=" + url.QueryEscape(j.Token)
		if code, body := get(t, status); code != 200 {
			t.Errorf("GET api/status with token = %d, want 200; body: %.200s", code, body)
		}
	}
}

func openLink(t *testing.T, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, env, append([]string{"open"}, args...)...)
	return p, p.line(90 * time.Second)
}

func TestOpenNotebook(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit status after SIGINT = %d, want 0; stderr:\n%s", code, p.stderr)
	}
}

func TestOpenJupyterServerBaseURL(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "/lab/x/"})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	p.interrupt()
}

func TestOpenUnixSocketServer(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, Sock: true})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	p.interrupt()
}

func TestOpenPasswordOnly(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook, Password: true})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	if strings.Contains(link, "token=") {
		t.Errorf("link for a password-only server = %q, want no token", link)
	}
	// Without the password the API refuses, with a login it answers: the
	// link reaches the server's login page.
	if code, body := get(t, link); code != 200 || !strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("GET link = %d, want 200 with a password form; body: %.300s", code, body)
	}
	_ = j
	p.interrupt()
	if !strings.Contains(p.stderr.String(), "password") {
		t.Errorf("stderr does not say a password is needed:\n%s", p.stderr)
	}
}

func TestOpenSkipsStaleAndSelects(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	stale := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stale.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale.RuntimeFile); err != nil {
		t.Fatalf("a killed server should leave its runtime file: %v", err)
	}
	older := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	time.Sleep(1100 * time.Millisecond) // runtime file mtimes order the servers
	newer := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})

	env := userEnv(t, "")
	p, link := openLink(t, env, "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, newer)
	p.interrupt()
	if !strings.Contains(p.stderr.String(), "--server") {
		t.Errorf("stderr does not say how to pick another server:\n%s", p.stderr)
	}

	p, link = openLink(t, env, "-F", bed.SSHConfig, "--server", fmt.Sprint(older.Port), h.Alias)
	checkLink(t, link, older)
	p.interrupt()

	out, errOut, code := runCmd(t, env, "list", "-F", bed.SSHConfig, "--json", h.Alias)
	if code != 0 {
		t.Fatalf("list exit = %d; stderr:\n%s", code, errOut)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("list --json output does not parse: %v\n%s", err, out)
	}
	if len(entries) != 2 {
		t.Fatalf("list --json has %d servers, want 2 (the stale one skipped): %s", len(entries), out)
	}
	if entries[0]["pid"] != float64(newer.PID) || entries[1]["pid"] != float64(older.PID) {
		t.Errorf("list order = %v, %v; want pids %d then %d", entries[0]["pid"], entries[1]["pid"], newer.PID, older.PID)
	}
	if strings.Contains(out, newer.Token) || strings.Contains(out, older.Token) {
		t.Errorf("list --json prints a token:\n%s", out)
	}
}

func TestOpenNoServer(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	_, errOut, code := runCmd(t, userEnv(t, ""), "open", "-F", bed.SSHConfig, h.Alias)
	if code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	for _, want := range []string{`host "` + h.Alias + `"`, "no running Jupyter server", "hint:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestStableLocalPort(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	env := userEnv(t, "")
	p, first := openLink(t, env, "-F", bed.SSHConfig, h.Alias)
	checkLink(t, first, j)
	p.interrupt()
	p, second := openLink(t, env, "-F", bed.SSHConfig, h.Alias)
	p.interrupt()
	if first != second {
		t.Errorf("second run's link = %q, want the first run's %q", redact(second), redact(first))
	}
}

func TestProxyJump(t *testing.T) {
	jump := newHost(t, testbed.HostOptions{})
	hidden := newHost(t, testbed.HostOptions{BehindJump: jump.Alias})
	j := startJupyter(t, hidden, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, hidden.Alias)
	checkLink(t, link, j)
	p.interrupt()
}

// A host reached through the user's own ProxyCommand (here `ssh -W` through
// the jump host, run by sh as OpenSSH runs it) gives a link that answers.
func TestUserProxyCommand(t *testing.T) {
	jump := newHost(t, testbed.HostOptions{})
	hidden := newHost(t, testbed.HostOptions{BehindJump: jump.Alias})
	j := startJupyter(t, hidden, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, fmt.Sprintf("Host %s\n  ProxyCommand ssh -F %s -W %%h:%%p %s\n", hidden.Alias, bed.SSHConfig, jump.Alias))
	if g, err := runClient(t, userEnv(t, ""), "ssh", "-G", "-F", cfg, hidden.Alias); err != nil || !strings.Contains(g, "\nproxycommand ssh -F") {
		t.Fatalf("ssh -G does not show the user's ProxyCommand (%v):\n%s", err, g)
	}
	p, link := openLink(t, userEnv(t, ""), "-F", cfg, hidden.Alias)
	checkLink(t, link, j)
	p.interrupt()
}

// copyConfig returns a copy of the bed's ssh config with extra lines first
// (ssh keeps the first value it reads).
func configWith(t *testing.T, extra string) string {
	t.Helper()
	data, err := os.ReadFile(bed.SSHConfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, append([]byte(extra+"\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHostKeyUnknownAndChanged(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configWith(t, fmt.Sprintf("Host %s\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n", h.Alias, empty))
	_, errOut, code := runCmd(t, userEnv(t, ""), "open", "-F", cfg, h.Alias)
	if code != 1 || !strings.Contains(errOut, "host key") || !strings.Contains(errOut, h.Alias) {
		t.Errorf("unknown host: exit %d, stderr:\n%s\nwant exit 1 and a host key error naming the host", code, errOut)
	}

	wrong := filepath.Join(t.TempDir(), "known_hosts")
	other := newHost(t, testbed.HostOptions{})
	line := fmt.Sprintf("%s %s\n", h.Addr, other.HostKey)
	if err := os.WriteFile(wrong, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = configWith(t, fmt.Sprintf("Host %s\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n", h.Alias, wrong))
	_, errOut, code = runCmd(t, userEnv(t, ""), "open", "-F", cfg, h.Alias)
	if code != 1 || !strings.Contains(errOut, "host key") || !strings.Contains(errOut, "SHA256:") {
		t.Errorf("changed key: exit %d, stderr:\n%s\nwant exit 1 and a host key error with the fingerprint", code, errOut)
	}
}

func TestControlMasterReuse(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	data, err := os.ReadFile(bed.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "master.sock")
	cfg := configWith(t, fmt.Sprintf("Host %s\n  IdentityFile %s\n  ControlPath %s\n", h.Alias, key, sock))
	master := exec.Command("ssh", "-F", cfg, "-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N", h.Alias)
	master.Stderr = os.Stderr
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Process.Kill(); master.Wait() })
	waitFor(t, 20*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
	// The master has logged in; without the key a second login would fail.
	os.Remove(key)
	p, link := openLink(t, userEnv(t, ""), "-v", "-F", cfg, h.Alias)
	checkLink(t, link, j)
	if !strings.Contains(p.stderr.String(), "ControlMaster") {
		t.Errorf("stderr does not say the master was used:\n%s", p.stderr)
	}
	// When the master goes away, nbtunnel ends with a message.
	master.Process.Kill()
	if code := p.wait(30 * time.Second); code != 1 {
		t.Errorf("exit after the master died = %d, want 1; stderr:\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "ControlMaster") {
		t.Errorf("stderr does not mention the master ending:\n%s", p.stderr)
	}
}

func TestDefaultIdentityFile(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bed.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, ".ssh", "config")
	known, _ := os.ReadFile(bed.KnownHosts)
	if err := os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), known, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("Host %s\n  HostName %s\n  User %s\n  StrictHostKeyChecking yes\n", h.Alias, h.Addr, h.User)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// No -F: ~/.ssh/config of HOME is read, and ~/.ssh/id_ed25519 used.
	p, link := openLink(t, userEnv(t, home), h.Alias)
	checkLink(t, link, j)
	p.interrupt()
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScripts runs the CLI's behaviour scripts (testdata/script/*.txtar)
// against the built binary.
func TestScripts(t *testing.T) {
	// completion.txtar runs the zsh and fish scripts only where those shells
	// exist ([exec:zsh], [exec:fish]); in CI they must.
	if os.Getenv(testbed.E2EEnv) == "1" {
		for _, sh := range []string{"zsh", "fish"} {
			if _, err := exec.LookPath(sh); err != nil {
				t.Fatalf("%s is not installed, so completion.txtar would not run its completion script (run scripts/install-deps)", sh)
			}
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("USER", "tester")
			return nil
		},
	})
}

// TestAgentKey logs in with a key held only by a real ssh-agent, and checks
// that IdentitiesOnly keeps agent keys that match no IdentityFile out.
func TestAgentKey(t *testing.T) {
	testbed.Require(t, "ssh-agent", "ssh-add")
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
	add := exec.Command("ssh-add", bed.ClientKey)
	add.Env = []string{"SSH_AUTH_SOCK=" + sock}
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	known := filepath.Join(dir, "known_hosts")
	data, _ := os.ReadFile(bed.KnownHosts)
	os.WriteFile(known, data, 0o600)
	cfg := filepath.Join(dir, "config")
	conf := fmt.Sprintf("Host %s\n  HostName %s\n  User %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n", h.Alias, h.Addr, h.User, known)
	os.WriteFile(cfg, []byte(conf), 0o600)
	env := append(userEnv(t, ""), "SSH_AUTH_SOCK="+sock)
	p, link := openLink(t, env, "-F", cfg, h.Alias)
	checkLink(t, link, j)
	p.interrupt()

	// IdentitiesOnly with an unrelated key file: the agent's key is not offered.
	other := filepath.Join(dir, "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	conf += fmt.Sprintf("  IdentitiesOnly yes\n  IdentityFile %s\n", other)
	os.WriteFile(cfg, []byte(conf), 0o600)
	_, errOut, code := runCmd(t, env, "open", "-F", cfg, h.Alias)
	if code != 1 || !strings.Contains(errOut, "no credential was accepted") || strings.Contains(errOut, "agent key") {
		t.Errorf("IdentitiesOnly: exit %d, stderr:\n%s\nwant an authentication failure that tried no agent key", code, errOut)
	}
}

// TestPasswordPrompt logs in with a password typed at the terminal prompt
// (no key anywhere), and checks it is not echoed.
func TestPasswordPrompt(t *testing.T) {
	h := newHost(t, testbed.HostOptions{SSHDConfig: []string{"PasswordAuthentication yes"}})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	const pass = "correct horse battery"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.RunRoot(ctx, "echo '"+h.User+":"+pass+"' | chpasswd"); err != nil {
		t.Fatalf("setting the password: %v", err)
	}
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	data, _ := os.ReadFile(bed.KnownHosts)
	os.WriteFile(known, data, 0o600)
	cfg := filepath.Join(dir, "config")
	conf := fmt.Sprintf("Host %s\n  HostName %s\n  User %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n", h.Alias, h.Addr, h.User, known)
	os.WriteFile(cfg, []byte(conf), 0o600)

	openWithSecret(t, userEnv(t, ""), "password:", pass, j, "open", "-F", cfg, h.Alias)
}

// TestControlMasterSurvivesStaleFile: a runtime file whose pid is alive
// (reused by another process) but whose port nothing listens on must not
// cost the user's ControlMaster: a refused channel through an OpenSSH 9.2
// master in proxy mode can end it (and the user's session with it), so
// discovery must not try that port.
func TestControlMasterSurvivesStaleFile(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.Run(ctx, `(setsid sleep 600 >/dev/null 2>&1 & echo $!)`)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(out)
	t.Cleanup(func() { h.Run(context.Background(), "kill "+pid) })
	file := `{"base_url": "/", "hostname": "127.0.0.1", "notebook_dir": "/tmp", "password": false, "pid": ` + pid +
		`, "port": 1, "secure": false, "sock": "", "token": "stale", "url": "http://127.0.0.1:1/"}`
	if _, err := h.Run(ctx, "d=$HOME/.local/share/jupyter/runtime; mkdir -p $d && touch -d '+1 minute' $d/x 2>/dev/null; cat > $d/nbserver-"+pid+".json <<'EOF'\n"+file+"\nEOF\ntouch $d/nbserver-"+pid+".json"); err != nil {
		t.Fatal(err)
	}
	if alive, _ := h.Run(ctx, "kill -0 "+pid+" && echo alive"); !strings.Contains(alive, "alive") {
		t.Fatalf("the stand-in process %s is not running", pid)
	}
	// LocalCommand mode: discovery runs over a short mux session that closes
	// right after, the case that ended the master.
	cfg, env := localCommandHook(t, h)
	s := startSSH(t, env, "-F", cfg, h.Alias, "echo ready; cat")
	checkLink(t, s.link(60*time.Second), j)
	if out, err := exec.Command("ssh", "-F", cfg, "-O", "check", h.Alias).CombinedOutput(); err != nil {
		t.Errorf("the ControlMaster did not survive discovery: %v\n%s", err, out)
	}
	s.finish()
}
