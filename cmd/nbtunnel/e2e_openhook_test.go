//go:build linux

package main_test

import (
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// install --open: the ProxyCommand hook opens the link in the browser, and
// hands it the private redirect file (never the token on a command line).
func TestProxyCommandHookOpensBrowser(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	cfg := configWith(t, "")
	dir := t.TempDir()
	record := filepath.Join(dir, "opened")
	browser := filepath.Join(dir, "browser")
	os.WriteFile(browser, []byte("#!/bin/sh\nf=${1#file://}\n{ printf '%s\\n' \"$*\"; cat \"$f\"; } > "+record+".tmp && mv "+record+".tmp "+record+"\n"), 0o755)
	env := append(userEnv(t, ""), "BROWSER="+browser)
	if _, errOut, code := runCmd(t, env, "install", "--open", "-F", cfg, h.Alias); code != 0 {
		t.Fatalf("install --open: exit %d\n%s", code, errOut)
	}
	if g := sshG(t, cfg, h.Alias); !strings.Contains(g, "proxycommand \""+binPath+"\" proxy --open -F") {
		t.Errorf("ssh -G after install --open lacks 'proxy --open':\n%s", g)
	}
	s := startShell(t, env, "-F", cfg, h.Alias)
	link := s.link(60 * time.Second)
	checkLink(t, link, j)
	var got string
	waitFor(t, 30*time.Second, func() bool {
		data, err := os.ReadFile(record)
		got = string(data)
		return err == nil
	})
	argv, page, _ := strings.Cut(got, "\n")
	if strings.Contains(argv, j.Token) || !strings.HasPrefix(argv, "file:///") {
		t.Errorf("the hook opened %q: want a file URL without the token", argv)
	}
	if !strings.Contains(page, html.EscapeString(link)) {
		t.Errorf("the redirect page does not lead to the link %s:\n%s", redact(link), page)
	}
	s.finish()
}
