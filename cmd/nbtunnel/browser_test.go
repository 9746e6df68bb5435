//go:build unix

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBrowserCommand(t *testing.T) {
	env := func(b string) func(string) string {
		return func(k string) string {
			if k == "BROWSER" {
				return b
			}
			return ""
		}
	}
	for _, tc := range []struct {
		goos, browser, target string
		want                  []string
	}{
		{"linux", "", "/tmp/x/j.html", []string{"xdg-open", "/tmp/x/j.html"}},
		{"darwin", "", "/tmp/x/j.html", []string{"open", "/tmp/x/j.html"}},
		{"windows", "", `C:\T\j.html`, []string{"rundll32", "url.dll,FileProtocolHandler", `C:\T\j.html`}},
		{"linux", "firefox", "/tmp/x/j.html", []string{"firefox", "file:///tmp/x/j.html"}},
		{"linux", "chromium --new-window %s", "/tmp/x/j.html", []string{"chromium", "--new-window", "file:///tmp/x/j.html"}},
		{"linux", ":w3m:lynx", "/tmp/a b.html", []string{"w3m", "file:///tmp/a%20b.html"}},
	} {
		got := browserCommand(tc.goos, tc.target, env(tc.browser))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("browserCommand(%s, %q, BROWSER=%q) = %q, want %q", tc.goos, tc.target, tc.browser, got, tc.want)
		}
	}
}

// TestOpenInBrowser runs a stand-in browser from $BROWSER and checks what
// it got: no token on its command line, a private redirect file that leads
// to the link, removed by the cleanup.
func TestOpenInBrowser(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	record := filepath.Join(dir, "record")
	os.WriteFile(script, []byte("#!/bin/sh\nf=${1#file://}\n{ echo \"argv: $*\"; stat -c 'mode %a' \"$f\"; stat -c 'dir %a' \"$(dirname \"$f\")\"; cat \"$f\"; } > "+record+".tmp\nmv "+record+".tmp "+record+"\n"), 0o755)
	const link = "http://127.0.0.1:8890/lab?token=s3cr3t-t0k3n&x=1"
	var warnings []string
	done, err := openInBrowser(link, func(k string) string {
		if k == "BROWSER" {
			return script
		}
		return ""
	}, func(f string, a ...any) { warnings = append(warnings, f) })
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, err = os.ReadFile(record); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the stand-in browser did not run: %v", err)
	}
	out := string(got)
	argv, _, _ := strings.Cut(out, "\n")
	if strings.Contains(argv, "s3cr3t") || !strings.HasPrefix(argv, "argv: file:///") {
		t.Errorf("browser command line %q: want a file URL and no token", argv)
	}
	if !strings.Contains(out, "mode 600\n") || !strings.Contains(out, "dir 700\n") {
		t.Errorf("redirect file or its directory is not private:\n%s", out)
	}
	if !strings.Contains(out, `url=http://127.0.0.1:8890/lab?token=s3cr3t-t0k3n&amp;x=1"`) {
		t.Errorf("redirect page does not lead to the link:\n%s", out)
	}
	file := strings.TrimPrefix(argv, "argv: file://")
	if _, err := os.Stat(file); err != nil {
		t.Errorf("redirect file gone before cleanup: %v", err)
	}
	done()
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("redirect directory still there after cleanup: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
}

// Without $BROWSER and without the platform's opener, --open says what to
// set, and leaves no redirect file behind.
func TestOpenInBrowserNoOpener(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, err := openInBrowser("http://127.0.0.1:1/?token=x", func(string) string { return "" }, func(string, ...any) {})
	if err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Errorf("openInBrowser with no opener: %v, want an error naming $BROWSER", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left behind in the temporary directory: %v", ents)
	}
}
