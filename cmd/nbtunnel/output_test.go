package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode", "plain text, ünïcode"},
		{"two\nlines\tand tab", "two\nlines\tand tab"},
		{"clear\x1b[2Jscreen", `clear\x1b[2Jscreen`},
		{"cr\rover", `cr\x0dover`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"c1 \u009b", `c1 \x9b`},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/home/u/nb", "/home/u/nb"},
		{"a\nb", `"a\nb"`},
		{"tab\there", `"tab\there"`},
	} {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Hints are chosen by the type of the error, never by its text.
func TestHintsFor(t *testing.T) {
	cfgErr := &hostconf.ConfigError{File: "/home/u/.ssh/config", Line: 3, Err: errors.New("Port: bad value")}
	tests := []struct {
		name string
		err  error
		want string // a part of one hint; "" means no hint at all
	}{
		{"config error", fmt.Errorf("resolving: %w", cfgErr), "ssh -G gpu"},
		{"unsupported config", fmt.Errorf("x: %w", hostconf.ErrUnsupportedConfig), "ssh -G gpu"},
		{"text that looks like a config error", errors.New("reading /etc/passwd: nope"), ""},
		{"auth error", &sshclient.AuthError{User: "u", Addr: "h:22", Methods: []string{"publickey"}, Err: errors.New("x")}, "ssh-add"},
		{"no master", fmt.Errorf("dial: %w", sshclient.ErrNoMaster), "start the master first"},
		{"host key", &hostkeys.KeyError{Problem: hostkeys.KeyChanged, Host: "h", File: "kh"}, "ssh-keygen -R"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hints := hintsFor("gpu", "", tt.err)
			if tt.want == "" {
				if len(hints) != 0 {
					t.Errorf("hints = %q, want none", hints)
				}
				return
			}
			if !strings.Contains(strings.Join(hints, "\n"), tt.want) {
				t.Errorf("hints = %q, want one containing %q", hints, tt.want)
			}
		})
	}
}
