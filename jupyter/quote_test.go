package jupyter_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// hostile values that must survive ShellQuote verbatim.
var hostile = []string{
	"", "plain", "a b", "'", "''", `"`, "$(touch /tmp/nbtunnel-pwned)", "`touch /tmp/nbtunnel-pwned`",
	"a;b", "a\nb", "a'b'c", `\`, `\'`, "$HOME", "${x:-y}", "*", "-n", "--", "!x", "a\tb", "é€", "a&&b|c>d<e",
}

func TestShellQuote(t *testing.T) {
	for _, v := range hostile {
		q := jupyter.ShellQuote(v)
		// printf %s WORD under sh must give back the value exactly.
		out, err := exec.Command("/bin/sh", "-c", "printf '%s|' "+q).Output()
		if err != nil {
			t.Fatalf("sh for %q: %v", v, err)
		}
		if got := strings.TrimSuffix(string(out), "|"); got != v {
			t.Errorf("sh printf %s = %q, want %q", q, got, v)
		}
	}
}

func TestNewNonce(t *testing.T) {
	a, err := jupyter.NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := jupyter.NewNonce()
	if len(a) != 32 || a == b {
		t.Errorf("NewNonce = %q, %q; want two different 32-digit nonces", a, b)
	}
}
