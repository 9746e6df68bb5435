//go:build linux

package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/internal/testbed"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// These tests drive the real OpenSSH client with nbtunnel's hooks in its
// config: the user types a plain ssh command and sees the link.

var linkRE = regexp.MustCompile(`https?://127\.0\.0\.1:\d+/[^\s]*`)

// sshSession is a running `ssh HOST 'echo ready; cat'`.
type sshSession struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
}

// startSSH starts the real OpenSSH client as startClient does.
func startSSH(t *testing.T, env []string, args ...string) *sshSession {
	t.Helper()
	return startClient(t, env, "ssh", args...)
}

// startShell starts an interactive session as the user does, `ssh HOST`
// (no remote command: the login shell reads its commands from stdin, as no
// terminal is attached), and has the shell print "ready" and run cat.
func startShell(t *testing.T, env []string, args ...string) *sshSession {
	t.Helper()
	s := startClient(t, env, "ssh", args...)
	if _, err := io.WriteString(s.stdin, "echo ready; exec cat\n"); err != nil {
		t.Fatal(err)
	}
	return s
}

// startClient starts an ssh-like client (ssh, plink) in its own session (no
// controlling terminal) with a pipe on stdin; it is killed when the test ends.
func startClient(t *testing.T, env []string, bin string, args ...string) *sshSession {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	s := &sshSession{t: t, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	return s
}

// link waits for a link on ssh's stderr.
func (s *sshSession) link(within time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := linkRE.FindString(s.stderr.String()); m != "" {
			return m
		}
		select {
		case <-s.done:
			s.t.Fatalf("ssh exited before a link appeared; stdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("no link on ssh's stderr within %v; stderr:\n%s", within, s.stderr)
	return ""
}

// finish ends the remote cat and checks the session's output arrived intact.
func (s *sshSession) finish() {
	s.t.Helper()
	io.WriteString(s.stdin, "bye\n")
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("ssh did not exit after stdin closed; stderr:\n%s", s.stderr)
	}
	if got, want := s.stdout.String(), "ready\nbye\n"; got != want {
		s.t.Errorf("remote command output = %q, want %q; stderr:\n%s", got, want, s.stderr)
	}
}

func sshG(t *testing.T, cfg, alias string) string {
	t.Helper()
	out, err := exec.Command("ssh", "-G", "-F", cfg, alias).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G: %v\n%s", err, out)
	}
	return string(out)
}

func TestProxyCommandHook(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, "")
	orig, _ := os.ReadFile(cfg)
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	if g := sshG(t, cfg, h.Alias); !strings.Contains(g, "proxycommand \""+binPath+"\" proxy") {
		t.Errorf("ssh -G after install lacks our ProxyCommand:\n%s", g)
	}
	s := startShell(t, env, "-F", cfg, h.Alias)
	checkLink(t, s.link(60*time.Second), j)
	s.finish()

	// A second install changes nothing; uninstall restores the file.
	before, _ := os.ReadFile(cfg)
	runCmd(t, env, "install", "-F", cfg, h.Alias)
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Errorf("a second install changed the config")
	}
	if _, errOut, code := runCmd(t, env, "uninstall", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(cfg); !bytes.Equal(orig, after) {
		t.Errorf("uninstall did not restore the config:\n%s", after)
	}
}

// Two ssh sessions to the same host at once share one forward: the second
// notices the first's live forward and shows the same link; when the first
// ends, the second takes the port over and the link goes on answering.
func TestProxyCommandHookTwoSessions(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	cfg := configWith(t, "")
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	first := startShell(t, env, "-F", cfg, h.Alias)
	link := first.link(60 * time.Second)
	second := startShell(t, env, "-F", cfg, h.Alias)
	if got := second.link(60 * time.Second); got != link {
		t.Errorf("second session's link = %q, want the first's %q", redact(got), redact(link))
	}
	if !strings.Contains(second.stderr.String(), "shared with another nbtunnel") {
		t.Errorf("second session does not say it shares the first's forward:\n%s", second.stderr)
	}
	checkLink(t, link, j)
	if n := hookProcesses(h.Alias); n != 2 {
		t.Errorf("%d hook processes for %s run, want 2", n, h.Alias)
	}
	first.finish()
	waitFor(t, 30*time.Second, func() bool { return hookProcesses(h.Alias) == 1 })
	waitLinkAnswers(t, link, 30*time.Second)
	checkLink(t, link, j) // the second session took the port over
	third := startShell(t, env, "-F", cfg, h.Alias)
	if got := third.link(60 * time.Second); got != link {
		t.Errorf("third session's link = %q, want the same %q", redact(got), redact(link))
	}
	third.finish()
	checkLink(t, link, j) // the second session's forward outlives the third
	second.finish()
	if got := strings.Count(second.stderr.String(), "Jupyter on"); got != 1 {
		t.Errorf("second session showed %d link lines, want 1 (a takeover that keeps the link says nothing):\n%s", got, second.stderr)
	}
}

func TestProxyCommandHookThroughJump(t *testing.T) {
	jump := newHost(t, testbed.HostOptions{})
	hidden := newHost(t, testbed.HostOptions{BehindJump: jump.Alias})
	j := startJupyter(t, hidden, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	cfg := configWith(t, "")
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, hidden.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	logins := func() int {
		data, _ := os.ReadFile(jump.SSHDLog)
		return strings.Count(string(data), "Accepted publickey")
	}
	before := logins()
	s := startShell(t, env, "-F", cfg, hidden.Alias)
	checkLink(t, s.link(60*time.Second), j)
	s.finish()
	// nbtunnel's own connection rode the user's jump chain: one login on
	// the jump host, not two.
	if got := logins() - before; got != 1 {
		t.Errorf("logins on the jump host = %d, want 1 (shared by the ssh stream and nbtunnel)", got)
	}
}

func TestProxyStdoutCarriesOnlyRelayBytes(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	cmd := exec.Command(binPath, "proxy", "-v", "-F", bed.SSHConfig, h.Alias, "22")
	cmd.Env = userEnv(t, "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	pr, pw := io.Pipe()
	cmd.Stdin = pr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the link (on stderr: no terminal here) while the relay runs,
	// then end the relay by closing stdin.
	waitFor(t, 60*time.Second, func() bool { return linkRE.MatchString(stderr.String()) })
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("proxy did not exit after stdin closed; stderr:\n%s", stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "SSH-2.0-") {
		t.Errorf("stdout = %q, want only the sshd's bytes (its banner first)", out)
	}
	if strings.Contains(out, "nbtunnel") || strings.Contains(out, "http://") {
		t.Errorf("stdout carries diagnostics: %q", out)
	}
}

func TestLocalCommandHook(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	dir := t.TempDir()
	cfg := configWith(t, "Host "+h.Alias+"\n  ControlPath "+dir+"/cm-%C\n")
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias, "--local-command"); code != 2 {
		t.Fatalf("install with a flag after HOST: exit %d, want 2 (usage)\n%s", code, errOut)
	}
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, "--local-command", h.Alias); code != 0 {
		t.Fatalf("install --local-command: exit %d\n%s", code, errOut)
	}
	g := sshG(t, cfg, h.Alias)
	for _, want := range []string{"permitlocalcommand yes", "controlmaster auto", "localcommand \"" + binPath + "\" attach"} {
		if !strings.Contains(g, want) {
			t.Errorf("ssh -G after install lacks %q:\n%s", want, g)
		}
	}
	s := startSSH(t, env, "-F", cfg, h.Alias, "echo ready; cat")
	checkLink(t, s.link(60*time.Second), j)
	s.finish()
}

// localCommandHook returns a copy of the bed's config with a ControlPath
// short enough for a unix socket and nbtunnel's LocalCommand hook installed
// for h, and the environment to run ssh and nbtunnel with.
func localCommandHook(t *testing.T, h *testbed.Host) (cfg string, env []string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "cm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg = configWith(t, "Host "+h.Alias+"\n  ControlPath "+dir+"/cm-%C\n")
	env = userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, "--local-command", h.Alias); code != 0 {
		t.Fatalf("install --local-command: exit %d\n%s", code, errOut)
	}
	return cfg, env
}

// In LocalCommand mode a restarted server (new token and port) is noticed
// and its new link shown, over short mux sessions only.
func TestLocalCommandHookServerRestart(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	cfg, env := localCommandHook(t, h)
	s := startSSH(t, env, "-F", cfg, h.Alias, "echo ready; cat")
	first := s.link(60 * time.Second)
	checkLink(t, first, j)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := j.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	j2 := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	var second string
	deadline := time.Now().Add(60 * time.Second)
	for second == "" || second == first {
		if time.Now().After(deadline) {
			t.Fatalf("no new link within 60s of the restart; ssh's stderr:\n%s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
		links := linkRE.FindAllString(s.stderr.String(), -1)
		second = links[len(links)-1]
	}
	checkLink(t, second, j2)
	s.finish()
}

func TestForwardWrite(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	// Another host already forwards the remote port's number locally: the
	// forward we write must pick another local port.
	cfg := configWith(t, fmt.Sprintf("Host elsewhere\n  LocalForward %d 127.0.0.1:1\n", j.Port))
	env := userEnv(t, "")
	out, errOut, code := runCmd(t, env, "forward", "--write", "-F", cfg, h.Alias)
	if code != 0 {
		t.Fatalf("forward --write: exit %d\n%s", code, errOut)
	}
	link := strings.TrimSpace(out)
	if !linkRE.MatchString(link) {
		t.Fatalf("forward --write printed %q, want a link", out)
	}
	if strings.Contains(link, fmt.Sprintf("127.0.0.1:%d/", j.Port)) {
		t.Errorf("forward --write took port %d, which another LocalForward in the config uses", j.Port)
	}
	if g := sshG(t, cfg, h.Alias); !strings.Contains(g, "localforward [127.0.0.1]:") {
		t.Errorf("ssh -G lacks the LocalForward:\n%s", g)
	}
	before, _ := os.ReadFile(cfg)
	out2, _, _ := runCmd(t, env, "forward", "--write", "-F", cfg, h.Alias)
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) || strings.TrimSpace(out2) != link {
		t.Errorf("a second forward --write changed the config or the link")
	}
	// A plain ssh -N, with no nbtunnel running, serves the link.
	ssh := exec.Command("ssh", "-F", cfg, "-N", h.Alias)
	ssh.Env = env
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ssh.Process.Kill(); ssh.Wait() }()
	waitFor(t, 30*time.Second, func() bool { return portOpen(link) })
	checkLink(t, link, j)
}

func portOpen(link string) bool {
	m := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(link)
	if m == nil {
		return false
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+m[1], time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestMasterDialerKeepsMasterAlive: many short mux sessions (one per
// forwarded connection, as LocalCommand mode makes) leave the user's
// OpenSSH ControlMaster running. Leaving a 9.2 master right after closing a
// channel could end it.
func TestMasterDialerKeepsMasterAlive(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	dir, _ := os.MkdirTemp("", "cm")
	defer os.RemoveAll(dir)
	sock := dir + "/m"
	cfg := configWith(t, "")
	m := exec.Command("ssh", "-F", cfg, "-o", "ControlMaster=yes", "-o", "ControlPath="+sock, "-N", h.Alias)
	m.Start()
	defer func() { m.Process.Kill(); m.Wait() }()
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
	hh := &hostconf.Host{Alias: h.Alias, ControlPath: sock}
	s := jupyter.Server{Port: j.Port, Token: j.Token, BaseURL: "/"}
	for i := 0; i < 40; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		_, err := jupyter.ProbeUsable(ctx, sshclient.MasterDialer{Host: hh}.DialContext, s)
		cancel()
		if err != nil || time.Since(start) > 2*time.Second {
			t.Fatalf("probe %d: %v after %v", i, err, time.Since(start))
		}
	}
}
