package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every command in the table (but the hidden one) answers -h with its own FlagSet (named as the
// command, so help finds its entry), exit 0, and help text on stdout only.
func TestCommandTableHelp(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands {
		for _, n := range append([]string{c.name}, c.aliases...) {
			if seen[n] {
				t.Errorf("command name %q used twice", n)
			}
			seen[n] = true
		}
		if c.summary == "" || c.run == nil {
			t.Errorf("command %q has no summary or no function", c.name)
		}
		if c.hidden {
			continue // __complete takes any words, -h among them
		}
		if len(c.examples) == 0 {
			t.Errorf("command %q has no examples", c.name)
		}
		var out, errb bytes.Buffer
		e := &env{ui: &ui{out: &out, err: &errb}, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
		if code := c.run(context.Background(), e, []string{"-h"}); code != 0 {
			t.Errorf("%s -h: exit %d, want 0; stderr:\n%s", c.name, code, errb.String())
		}
		if errb.Len() != 0 {
			t.Errorf("%s -h wrote to stderr:\n%s", c.name, errb.String())
		}
		if e.ui.helped == nil || e.ui.helped.Name() != c.name {
			t.Errorf("%s -h: help came from FlagSet %v, want one named %q", c.name, e.ui.helped, c.name)
		}
		if !strings.HasPrefix(out.String(), "Usage: nbtunnel "+c.name) {
			t.Errorf("%s -h: stdout starts %.60q, want the usage line", c.name, out.String())
		}
	}
}

func TestHookBinary(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"Host h", `    ProxyCommand "/opt/my bin/nbtunnel" proxy %n %p`}, "/opt/my bin/nbtunnel"},
		{[]string{"Host h", "    ProxyCommand=/usr/bin/nbtunnel proxy %n %p"}, "/usr/bin/nbtunnel"},
		{[]string{"Host h", "    LocalCommand '/x/nbtunnel' attach %n"}, "/x/nbtunnel"},
		{[]string{"Host h", "    ProxyCommand exec /y/nbtunnel proxy %n %p"}, "/y/nbtunnel"},
		{[]string{"Host h", "    ProxyCommand = "}, ""},
		{[]string{"Host h", `    ProxyCommand "unterminated`}, `"unterminated`},
		{nil, ""},
	} {
		if got := hookBinary(tc.lines); got != tc.want {
			t.Errorf("hookBinary(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}
