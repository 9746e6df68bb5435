//go:build linux

package main_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// logins counts the logins sshd of h has accepted so far.
func logins(t *testing.T, h *testbed.Host) int {
	t.Helper()
	data, err := os.ReadFile(h.SSHDLog)
	if err != nil {
		t.Fatal(err)
	}
	return len(acceptedRE.FindAll(data, -1))
}

var tokenRE = regexp.MustCompile(`token=[0-9a-zA-Z]+`)

// acceptedRE matches sshd's line for a completed login, whatever the method
// ("Accepted publickey for", "Accepted keyboard-interactive/pam for").
var acceptedRE = regexp.MustCompile(`(?m)^Accepted [a-z/-]+ for `)

// runClient runs a client program (ssh, scp, sftp, rsync, git) without a
// controlling terminal and returns its exit error and everything it wrote.
func runClient(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Through the ProxyCommand hook, a session that runs a command or copies a
// file makes one login (the user's own: nbtunnel opens no side connection)
// and nbtunnel prints nothing, while Jupyter runs on the host.
func TestProxyHookBatchSessionsLogInOnce(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, "")
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	// The sessions below go through the hook, or this test proves nothing.
	if g, err := runClient(t, env, "ssh", "-G", "-F", cfg, h.Alias); err != nil || !strings.Contains(g, "\nproxycommand ") || !strings.Contains(g, " proxy ") {
		t.Fatalf("ssh -G shows no nbtunnel ProxyCommand after install (%v):\n%s", err, g)
	}
	ctx := context.Background()
	if _, err := h.Run(ctx, "git init -q --bare repo.git && mkdir -p in && echo remote > in/r.txt"); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(local, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	batch := filepath.Join(t.TempDir(), "sftp.batch")
	if err := os.WriteFile(batch, []byte("put "+local+" sftp.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sshCmd := "ssh -F " + cfg
	gitEnv := append(append([]string{}, env...), "GIT_SSH_COMMAND="+sshCmd)
	tests := []struct {
		name string
		env  []string
		argv []string
		want string // the client's own output
	}{
		{"ssh HOST true", env, []string{"ssh", "-F", cfg, h.Alias, "true"}, ""},
		{"ssh HOST cmd", env, []string{"ssh", "-F", cfg, h.Alias, "echo out"}, "out\n"},
		{"scp upload", env, []string{"scp", "-q", "-F", cfg, local, h.Alias + ":scp.txt"}, ""},
		{"scp -O download", env, []string{"scp", "-O", "-q", "-F", cfg, h.Alias + ":in/r.txt", t.TempDir()}, ""},
		{"sftp", env, []string{"sftp", "-q", "-F", cfg, "-b", batch, h.Alias}, "sftp> put " + local + " sftp.txt\n"},
		{"rsync", env, []string{"rsync", "-e", sshCmd, local, h.Alias + ":rsync.txt"}, ""},
		{"git ls-remote", gitEnv, []string{"git", "ls-remote", h.Alias + ":repo.git"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := logins(t, h)
			out, err := runClient(t, tt.env, tt.argv[0], tt.argv[1:]...)
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(tt.argv, " "), err, out)
			}
			if out != tt.want {
				t.Errorf("output = %q, want %q (nbtunnel must print nothing)", tokenRE.ReplaceAllString(out, "token=REDACTED"), tt.want)
			}
			// A side connection started late would show up here.
			time.Sleep(1500 * time.Millisecond)
			if got := logins(t, h) - before; got != 1 {
				t.Errorf("logins = %d, want 1 (the session's own)", got)
			}
		})
	}
	// The copies through the hook arrived whole.
	if got, err := h.Run(ctx, "cat scp.txt sftp.txt rsync.txt"); err != nil || got != "hello\nhello\nhello\n" {
		t.Errorf("files copied through the hook: %q, %v; want hello three times", got, err)
	}
}

// An interactive session (`ssh HOST`, and `ssh -N HOST` for forwards only)
// shows the link, and the side connection is the only other login.
func TestProxyHookInteractiveSessionsShowLink(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, "")
	env := userEnv(t, "")
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	t.Run("ssh HOST", func(t *testing.T) {
		before := logins(t, h)
		t0 := time.Now()
		s := startShell(t, env, "-F", cfg, h.Alias)
		waitFor(t, 60*time.Second, func() bool { return strings.Contains(s.stdout.String(), "ready\n") })
		prompt := time.Since(t0)
		link := s.link(60 * time.Second)
		// Reported, not asserted (no timed assertions in tests): BENCHMARKS.md has the numbers.
		t.Logf("shell ready after %v, link after %v", prompt.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		checkLink(t, link, j)
		s.finish()
		if got := logins(t, h) - before; got != 2 {
			t.Errorf("logins = %d, want 2 (the session and nbtunnel's side connection)", got)
		}
	})
	t.Run("ssh -N HOST", func(t *testing.T) {
		s := startClient(t, env, "ssh", "-N", "-F", cfg, h.Alias)
		checkLink(t, s.link(60*time.Second), j)
		s.cmd.Process.Signal(syscall.SIGTERM)
	})
}

// finishShell ends a session of startShell on a host whose PAM prints a
// message of the day before the shell's output.
func finishShell(t *testing.T, s *sshSession) {
	t.Helper()
	io.WriteString(s.stdin, "bye\n")
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ssh did not exit after stdin closed; stderr:\n%s", tokenRE.ReplaceAllString(s.stderr.String(), "token=REDACTED"))
	}
	if got := s.stdout.String(); !strings.HasSuffix(got, "ready\nbye\n") {
		t.Errorf("session output = %q, want it to end with %q", got, "ready\nbye\n")
	}
}

// twoFactorHost is a host whose sshd wants the key and then a password by
// keyboard-interactive (PAM), as 2FA hosts do, and a client environment
// whose ssh answers that prompt through SSH_ASKPASS, counting each prompt.
func twoFactorHost(t *testing.T) (h *testbed.Host, env []string, prompts func() int) {
	t.Helper()
	h = newHost(t, testbed.HostOptions{NoLoginCheck: true, SSHDConfig: []string{
		"UsePAM yes",
		"KbdInteractiveAuthentication yes",
		"AuthenticationMethods publickey,keyboard-interactive",
	}})
	const password = "second-factor-9d1e"
	if _, err := h.RunRoot(context.Background(), "echo '"+h.User+":"+password+"' | chpasswd"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	count := filepath.Join(dir, "prompts")
	askpass := filepath.Join(dir, "askpass")
	script := "#!/bin/sh\necho prompt >> " + count + "\necho " + password + "\n"
	if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	env = append(userEnv(t, ""), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force")
	prompts = func() int {
		data, _ := os.ReadFile(count)
		return strings.Count(string(data), "prompt\n")
	}
	return h, env, prompts
}

// On a 2FA host the hook never makes the user answer a second prompt and
// never starts a keyboard-interactive login of its own: without a
// ControlMaster it says once how to get the link; with one it rides it.
func TestProxyHookTwoFactor(t *testing.T) {
	t.Run("no ControlMaster", func(t *testing.T) {
		h, env, prompts := twoFactorHost(t)
		startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
		cfg := configWith(t, "")
		if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
			t.Fatalf("install: exit %d\n%s", code, errOut)
		}
		s := startShell(t, env, "-o", "BatchMode=no", "-F", cfg, h.Alias)
		waitFor(t, 60*time.Second, func() bool { return strings.Contains(s.stderr.String(), "install --local-command") })
		time.Sleep(time.Second) // a repeated hint would show by now
		finishShell(t, s)
		errOut := s.stderr.String()
		if n := strings.Count(errOut, "install --local-command"); n != 1 {
			t.Errorf("the hint appears %d times, want once; stderr:\n%s", n, errOut)
		}
		if !strings.Contains(errOut, "wants more than a key") {
			t.Errorf("the hint does not say the host wants more than a key; stderr:\n%s", errOut)
		}
		if linkRE.MatchString(errOut) {
			t.Errorf("a link without a login: %s", errOut)
		}
		if n := prompts(); n != 1 {
			t.Errorf("the user was prompted %d times, want once (by their own ssh)", n)
		}
		log, _ := os.ReadFile(h.SSHDLog)
		if n := logins(t, h); n != 1 {
			t.Errorf("logins = %d, want 1", n)
		}
		if n := strings.Count(string(log), "keyboard-interactive"); n == 0 || strings.Contains(string(log), "Failed keyboard-interactive") {
			t.Errorf("sshd log: want the user's keyboard-interactive login and no failed one:\n%s", log)
		}
	})
	t.Run("ControlMaster", func(t *testing.T) {
		h, env, prompts := twoFactorHost(t)
		j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
		ctl := filepath.Join(t.TempDir(), "cm")
		cfg := configWith(t, "Host "+h.Alias+"\n  ControlMaster auto\n  ControlPath "+ctl+"\n")
		if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
			t.Fatalf("install: exit %d\n%s", code, errOut)
		}
		s := startShell(t, env, "-o", "BatchMode=no", "-F", cfg, h.Alias)
		checkLink(t, s.link(60*time.Second), j)
		finishShell(t, s)
		if n := prompts(); n != 1 {
			t.Errorf("the user was prompted %d times, want once", n)
		}
		if n := logins(t, h); n != 1 {
			t.Errorf("logins = %d, want 1 (nbtunnel rides the user's ControlMaster)", n)
		}
		if strings.Contains(s.stderr.String(), "install --local-command") {
			t.Errorf("a hint although the link came through the ControlMaster:\n%s", s.stderr)
		}
	})
}
