//go:build linux

package main_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// waitLinkAnswers waits until GET link answers 200 (a takeover in progress
// may refuse connections for a moment).
func waitLinkAnswers(t *testing.T, link string, within time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, within, func() bool {
		resp, err := c.Get(link)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// hookProcesses counts the running `nbtunnel proxy` processes (of the
// binary under test) whose arguments name host.
func hookProcesses(host string) int {
	n := 0
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if len(args) < 2 || args[0] != binPath || args[1] != "proxy" {
			continue
		}
		for _, a := range args[2:] {
			if a == host {
				n++
				break
			}
		}
	}
	return n
}

// TestSharedForwardEndsClearly: when the session serving a shared link
// ends and the other cannot take it over (the host's sshd no longer takes
// new connections), the other says that the link ended, and its own
// session goes on.
func TestSharedForwardEndsClearly(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	u := newPuttyUser(t)
	u.session(t, "lab", h, ppkKey(t, 3, ""))
	u.trust(t, h)
	if _, errOut, code := runCmd(t, u.env, "install", "--putty", "lab"); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, errOut)
	}
	first := u.startPlink(t, "-batch", "-load", "lab", "echo ready; cat")
	link := first.link(60 * time.Second)
	second := u.startPlink(t, "-batch", "-load", "lab", "echo ready; cat")
	if got := second.link(60 * time.Second); got != link {
		t.Fatalf("second plink shows %q, want the first's link %q", redact(got), redact(link))
	}
	checkLink(t, link, j)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.StopSSHD(ctx); err != nil { // the listener only: both sessions stay
		t.Fatal(err)
	}
	first.finish()
	waitFor(t, 60*time.Second, func() bool {
		return strings.Contains(second.stderr.String(), "proxy: nbtunnel: the Jupyter link for lab ended with the session that served it")
	})
	// It did end: nothing serves the port any more.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(link); err == nil {
		resp.Body.Close()
		t.Errorf("the link still answers (%s) after it was said to have ended", resp.Status)
	}
	second.finish() // its own session is unharmed
}

// TestPuttyHintsQuoteSession: hints that name a session with a space
// quote it, with --putty, so that they paste into a shell.
func TestPuttyHintsQuoteSession(t *testing.T) {
	h := newHost(t, testbed.HostOptions{}) // no Jupyter runs there
	u := newPuttyUser(t)
	const session = "lab box"
	u.sessionFile(t, session, h, ppkKey(t, 3, ""))
	_, errOut, code := runCmd(t, u.env, "open", "--putty", session)
	if code != 1 || !strings.Contains(errOut, `'plink -load "lab box"'`) {
		t.Errorf("unknown host key: exit %d, stderr:\n%s\nwant exit 1 and the hint 'plink -load \"lab box\"'", code, errOut)
	}
	u.trust(t, h)
	_, errOut, code = runCmd(t, u.env, "open", "--putty", session)
	if code != 1 || !strings.Contains(errOut, `'nbtunnel open --start --putty "lab box"'`) {
		t.Errorf("no server: exit %d, stderr:\n%s\nwant exit 1 and the hint 'nbtunnel open --start --putty \"lab box\"'", code, errOut)
	}
}

// TestHookTakesOverFromOpen: a hook shares the forward of a running
// `nbtunnel open` and takes the port over when open ends.
func TestHookTakesOverFromOpen(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u := newPuttyUser(t)
	u.session(t, "lab", h, ppkKey(t, 3, ""))
	u.trust(t, h)
	if _, errOut, code := runCmd(t, u.env, "install", "--putty", "lab"); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, errOut)
	}
	p, link := openLink(t, u.env, "--putty", "lab")
	s := u.startPlink(t, "-batch", "-load", "lab", "echo ready; cat")
	if got := s.link(60 * time.Second); got != link {
		t.Fatalf("plink shows %q, want open's link %q", redact(got), redact(link))
	}
	if !strings.Contains(s.stderr.String(), "shared with another nbtunnel") {
		t.Errorf("plink does not say it shares open's forward:\n%s", s.stderr)
	}
	if code := p.interrupt(); code != 0 {
		t.Errorf("open: exit status after SIGINT = %d, want 0; stderr:\n%s", code, p.stderr)
	}
	waitLinkAnswers(t, link, 30*time.Second)
	checkLink(t, link, j)
	s.finish()
}

// TestProxyHookWithOwnLocalForward: with the ProxyCommand hook and a
// LocalForward that forward --write wrote, ssh's own forward serves the
// link; the hook shows it and forwards nothing itself.
func TestProxyHookWithOwnLocalForward(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, "")
	env := userEnv(t, "")
	out, errOut, code := runCmd(t, env, "forward", "--write", "-F", cfg, h.Alias)
	if code != 0 {
		t.Fatalf("forward --write: exit %d\n%s", code, errOut)
	}
	written := strings.TrimSpace(out)
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	s := startShell(t, env, "-F", cfg, h.Alias)
	if got := s.link(60 * time.Second); got != written {
		t.Errorf("ssh shows %q, want the written forward's link %q", redact(got), redact(written))
	}
	if strings.Contains(s.stderr.String(), "another nbtunnel") {
		t.Errorf("the hook says another nbtunnel forwards the link:\n%s", s.stderr)
	}
	waitLinkAnswers(t, written, 30*time.Second)
	checkLink(t, written, j)
	// ssh, not the hook, listens on the port.
	claimed, _ := filepath.Glob(filepath.Join(env[0][len("HOME="):], ".config", "nbtunnel", "forwards", "*.lock"))
	if len(claimed) != 0 {
		t.Errorf("the hook claimed a port of its own: %v", claimed)
	}
	s.finish()
}
