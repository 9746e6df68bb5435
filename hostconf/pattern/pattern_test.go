package pattern_test

import (
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/pattern"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"gpu?", "gpu1", true},
		{"gpu?", "gpu", false},
		{"gpu?", "gpu12", false},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**b", "ab", true},
		{"?*", "", false},
		{"*?", "x", true},
		{"10.0.0.*", "10.0.0.7", true},
		{"[h]:2222", "[h]:2222", true},
		{"Host", "host", false},
	}
	for _, tt := range tests {
		if got := pattern.Match(tt.p, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

// TestMatchPathological is a pattern that takes exponential time in a
// naive recursive matcher; here it must answer (the test has no timing
// assertion: a regression shows up as a test timeout).
func TestMatchPathological(t *testing.T) {
	p := strings.Repeat("*a", 40) + "b"
	s := strings.Repeat("a", 200)
	if pattern.Match(p, s) {
		t.Errorf("Match(%q, %q) = true, want false", p, s)
	}
}
