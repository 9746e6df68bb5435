package hostkeys_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"golang.org/x/crypto/ssh"
)

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
	c, err := hostkeys.NewKnownHosts([]string{file}, nil, "yes", hostkeys.KnownHostsOptions{
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
