package hostconf_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
