//go:build linux

package main_test

import (
	"context"
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
				t.Errorf("output = %q, want %q (nbtunnel must print nothing)", out, tt.want)
			}
			// A side connection started late would show up here.
			time.Sleep(1500 * time.Millisecond)
			if got := logins(t, h) - before; got != 1 {
				t.Errorf("logins = %d, want 1 (the session's own)", got)
			}
		})
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
		s := startShell(t, env, "-F", cfg, h.Alias)
		checkLink(t, s.link(60*time.Second), j)
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
