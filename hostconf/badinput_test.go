package hostconf_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// Malformed ssh config: each case is an error that names the file (and the
// line, where there is one) and what is wrong, never a panic.
func TestResolveBadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "DIR", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("loop-a.conf", "Host x\n  HostName h\nInclude DIR/loop-b.conf\n")
	write("loop-b.conf", "Include DIR/loop-a.conf\n")
	write("self.conf", "Include DIR/self.conf\n")
	tests := []struct {
		name, file, text string
		want             []string // substrings of the error
	}{
		{"quote in HostName", "q1.conf", "Host x\n  HostName \"unterminated\n", []string{"q1.conf line 2", "unterminated quote"}},
		{"quote in ProxyJump", "q2.conf", "Host x\n  HostName h\n  ProxyJump \"a b\n", []string{"q2.conf line 3", "ProxyJump", "unterminated quote"}},
		{"quote in Include", "q3.conf", "Include \"DIR/x\nHost x\n", []string{"q3.conf line 1", "unterminated quote"}},
		{"quote in Match", "q4.conf", "Match host \"x\n  HostName h\n", []string{"q4.conf line 1", "unterminated quote"}},
		{"Include loop", "loop-a.conf", "", []string{"loop-a.conf", "loop-b.conf", "Include loop"}},
		{"self Include", "self.conf", "", []string{"self.conf", "Include loop"}},
		{"config is a directory", "adir", "", []string{"adir", "is a directory"}},
		{"missing config", "nonexistent.conf", "", []string{"nonexistent.conf", "no such file"}},
		{"bad Port", "port.conf", "Host x\n  Port 99999\n", []string{"port.conf line 2", "Port"}},
		{"bad ServerAliveInterval", "sai.conf", "Host x\n  ServerAliveInterval soon\n", []string{"sai.conf line 2", "ServerAliveInterval", `"soon"`}},
		{"bad StrictHostKeyChecking", "shk.conf", "Host x\n  StrictHostKeyChecking perhaps\n", []string{"StrictHostKeyChecking"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if tt.text != "" {
				path = write(tt.file, tt.text)
			}
			h, err := hostconf.Resolve(context.Background(), "x", hostconf.ResolveOptions{
				ConfigFile: path,
				Home:       dir,
				LocalUser:  "me",
				SSHPath:    "/nonexistent/ssh",
			})
			if err == nil {
				t.Fatalf("Resolve = %+v, nil; want an error containing %q", h, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
					t.Errorf("Resolve error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// Malformed known_hosts lines are skipped with a warning naming file:line;
// the good lines around them still count.
func TestKnownHostsMalformedLinesSkipped(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	good := "[127.0.0.1]:2222 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	lines := []string{
		"garbage",                                   // 1: too few fields
		"host ssh-ed25519 AAAA!!notbase64",          // 2: bad key
		"@bogus host ssh-ed25519 " + keyBase64(key), // 3: unknown marker
		"|1|notbase64|x ssh-ed25519 " + keyBase64(key),
		"host ssh-ed25519 " + keyBase64(key)[:20], // 5: truncated key
		"\x00\x01\x02 \x1b[2J " + keyBase64(key),  // 6: control bytes
		strings.Repeat("a", 70000),                // 7: a very long line
		good,                                      // 8
		"# a comment",
		"",
	}
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	c, err := hostconf.NewKnownHosts([]string{file}, nil, "yes", hostconf.KnownHostsOptions{
		Warn: func(msg string) { warnings = append(warnings, msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Callback("127.0.0.1:2222")("127.0.0.1:2222", nil, key); err != nil {
		t.Errorf("the good line after malformed ones was not used: %v", err)
	}
	for _, n := range []int{1, 2, 3, 5, 6, 7} {
		want := fmt.Sprintf("%s:%d", file, n)
		found := false
		for _, w := range warnings {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no warning names %s; warnings:\n%s", want, strings.Join(warnings, "\n"))
		}
	}
	for _, w := range warnings {
		if strings.ContainsAny(w, "\x00\x1b") {
			t.Errorf("warning %q carries raw control bytes from the file", w)
		}
	}
}

func keyBase64(k ssh.PublicKey) string {
	f := strings.Fields(string(ssh.MarshalAuthorizedKey(k)))
	return f[1]
}
