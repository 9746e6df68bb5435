package hostconf_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// A config Resolve cannot take is a *ConfigError naming the file and the
// line, so that callers need not read the message.
func TestResolveConfigError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, config string
		wantLine     int
	}{
		{"bad port", write("badport.conf", "Host x\n\n  Port abc\n"), 3},
		{"bad policy", write("badstrict.conf", "Host x\n StrictHostKeyChecking maybe\n"), 2},
		{"bad token", write("badtok.conf", "Host x\n IdentityFile ~/%z\n"), 2},
		{"missing file", filepath.Join(dir, "nope.conf"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hostconf.Resolve(context.Background(), "x", hostconf.ResolveOptions{ConfigFile: tt.config, Home: dir, LocalUser: "me", SSHPath: "-"})
			var ce *hostconf.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Resolve error = %v (%T), want a *ConfigError", err, err)
			}
			if ce.File != tt.config || ce.Line != tt.wantLine {
				t.Errorf("ConfigError at %s line %d, want %s line %d", ce.File, ce.Line, tt.config, tt.wantLine)
			}
		})
	}
}
