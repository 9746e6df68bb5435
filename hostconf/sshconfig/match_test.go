package sshconfig_test

import (
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// refMatch is OpenSSH's match_pattern as written in match.c (recursive,
// exponential in the worst case): the reference the fast matcher is held
// to.
func refMatch(s, p string) bool {
	for {
		if p == "" {
			return s == ""
		}
		if p[0] == '*' {
			for p != "" && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			if p[0] != '?' {
				for ; s != ""; s = s[1:] {
					if s[0] == p[0] && refMatch(s[1:], p[1:]) {
						return true
					}
				}
				return false
			}
			for ; s != ""; s = s[1:] {
				if refMatch(s, p) {
					return true
				}
			}
			return false
		}
		if s == "" {
			return false
		}
		if p[0] != '?' && p[0] != s[0] {
			return false
		}
		s, p = s[1:], p[1:]
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"gpu", "gpu?", false}, // issue 10: '?' is exactly one character
		{"gpu1", "gpu?", true},
		{"gpu12", "gpu?", false},
		{"gpu12", "gpu*", true},
		{"gpu", "gpu*", true},
		{"", "*", true},
		{"", "?", false},
		{"", "", true},
		{"a", "", false},
		{"GPU", "gpu", false}, // case-sensitive
		{"a.b.example", "*.example", true},
		{"example", "*.example", false},
		{"abcabd", "*abd", true},
		{"abcab", "a*b*b", true},
		{"ab", "a*b*b", false},
		{"aXbXc", "a?b?c", true},
		{"a,b", "a,b", true}, // a comma is a character here
		{"xyz", "x**z", true},
		{"xyz", "x**?z", true},
		{"xaaab", "x*a?b", true},
		{"xab", "x*a?b", false},
	}
	for _, tt := range tests {
		if got := sshconfig.MatchPattern(tt.s, tt.p); got != tt.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
		if got := refMatch(tt.s, tt.p); got != tt.want {
			t.Errorf("reference match_pattern(%q, %q) = %v, want %v (the table is wrong)", tt.s, tt.p, got, tt.want)
		}
	}
}

// TestMatchPatternNoBacktracking runs the input that makes a backtracking
// matcher take exponential time; this one answers at once (the test would
// not finish otherwise).
func TestMatchPatternNoBacktracking(t *testing.T) {
	s := strings.Repeat("a", 5000)
	p := strings.Repeat("*a", 500) + "*b"
	if sshconfig.MatchPattern(s, p) {
		t.Errorf("MatchPattern matched %q...b", p[:10])
	}
	if !sshconfig.MatchPattern(s+"b", p) {
		t.Error("MatchPattern did not match the string ending in b")
	}
}

func TestMatchPatternList(t *testing.T) {
	tests := []struct {
		s, list string
		fold    bool
		want    int
	}{
		{"foo", "foo,bar", false, 1},
		{"bar", "foo,!bar", false, -1},
		{"baz", "foo,!bar", false, 0},
		{"baz", "*,!baz", false, -1},
		{"baz", "!baz,*", false, -1},
		{"foo", "FOO", true, 1},
		{"foo", "FOO", false, 0},
		{"", "a,,b", false, 1}, // an empty sub-pattern matches the empty string
		{"x", "x," + strings.Repeat("y", 1023), false, 0},
		{"x", "x," + strings.Repeat("y", 1022), false, 1},
	}
	for _, tt := range tests {
		if got := sshconfig.MatchPatternList(tt.s, tt.list, tt.fold); got != tt.want {
			t.Errorf("MatchPatternList(%q, %.20q, %v) = %d, want %d", tt.s, tt.list, tt.fold, got, tt.want)
		}
	}
	if got := sshconfig.MatchHostname("GPU1", "gpu?"); got != 1 {
		t.Errorf("MatchHostname(GPU1, gpu?) = %d, want 1", got)
	}
}

// FuzzMatchPattern holds the matcher to OpenSSH's own algorithm.
func FuzzMatchPattern(f *testing.F) {
	f.Add("gpu", "gpu?")
	f.Add("abcabd", "*abd")
	f.Add("xaaab", "x*a?b")
	f.Add("", "**")
	f.Fuzz(func(t *testing.T, s, p string) {
		if len(s) > 64 || len(p) > 16 {
			return // the reference is exponential
		}
		if got, want := sshconfig.MatchPattern(s, p), refMatch(s, p); got != want {
			t.Errorf("MatchPattern(%q, %q) = %v, OpenSSH's match_pattern says %v", s, p, got, want)
		}
	})
}
