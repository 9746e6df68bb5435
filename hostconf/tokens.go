package hostconf

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// tokenSet holds the values of OpenSSH's %-tokens for one connection, as
// ssh_config(5) defines them for OpenSSH 9.2.
type tokenSet struct {
	home          string // %d
	hostname      string // %h (after HostName)
	port          int    // %p
	remoteUser    string // %r
	localUser     string // %u
	original      string // %n (what the user typed)
	localHost     string // %l (with domain)
	uid           string // %i
	hostKeyAlias  string // for %k
	proxyJumpText string // %j (empty unless ProxyJump is set)
}

// connHash is %C: the SHA1 hex of %l%h%p%r, as OpenSSH 9.2 computes it.
func (t *tokenSet) connHash() string {
	sum := sha1.Sum([]byte(t.localHost + t.hostname + strconv.Itoa(t.port) + t.remoteUser))
	return hex.EncodeToString(sum[:])
}

func (t *tokenSet) value(c byte) (string, bool) {
	switch c {
	case '%':
		return "%", true
	case 'C':
		return t.connHash(), true
	case 'd':
		return t.home, true
	case 'h':
		return t.hostname, true
	case 'p':
		return strconv.Itoa(t.port), true
	case 'r':
		return t.remoteUser, true
	case 'u':
		return t.localUser, true
	case 'n':
		return t.original, true
	case 'l':
		return t.localHost, true
	case 'L':
		short, _, _ := strings.Cut(t.localHost, ".")
		return short, true
	case 'i':
		return t.uid, true
	case 'k':
		if t.hostKeyAlias != "" {
			return t.hostKeyAlias, true
		}
		return t.original, true
	case 'j':
		return t.proxyJumpText, true
	}
	return "", false
}

// Token sets accepted by each keyword (ssh_config(5), OpenSSH 9.2).
const (
	tokensHostName = "%h"
	tokensProxy    = "%hnpr"         // ProxyCommand, ProxyJump
	tokensFiles    = "%CdhijkLlnpru" // IdentityFile, ControlPath, IdentityAgent, UserKnownHostsFile, LocalForward
)

// expand replaces the %-tokens in s that allowed lists; an unknown or
// disallowed token, or a trailing lone %, is an error as in OpenSSH.
func (t *tokenSet) expand(s, allowed string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("expanding %q: invalid trailing %%", s)
		}
		i++
		c := s[i]
		v, ok := t.value(c)
		if !ok || !strings.ContainsRune(allowed, rune(c)) {
			return "", fmt.Errorf("expanding %q: unknown token %%%c", s, c)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// expandEnv replaces ${VAR} references, as OpenSSH does for file-name
// keywords; an unset variable is an error.
func expandEnv(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("expanding %q: unterminated ${", s)
		}
		name := s[i+2 : i+j]
		v := ""
		if getenv != nil {
			v = getenv(name)
		}
		if v == "" {
			return "", fmt.Errorf("expanding %q: environment variable %s is not set", s, name)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

// expandTilde replaces a leading ~ or ~/ with home, and ~user/ with that
// user's home directory. On Windows ~\ is ~/ too.
func expandTilde(s, home string) (string, error) {
	if !strings.HasPrefix(s, "~") {
		return s, nil
	}
	name, rest := s[1:], ""
	if i := strings.IndexFunc(name, isPathSep); i >= 0 {
		name, rest = name[:i], name[i+1:]
	}
	if name == "" {
		if rest == "" {
			return home, nil
		}
		return filepath.Join(home, rest), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("expanding %q: %w", s, err)
	}
	return filepath.Join(u.HomeDir, rest), nil
}

// expandPath applies, in OpenSSH's order, tilde, ${VAR} and %-token
// expansion to a file-name value.
func (t *tokenSet) expandPath(s string, getenv func(string) string) (string, error) {
	s, err := expandTilde(s, t.home)
	if err != nil {
		return "", err
	}
	s, err = expandEnv(s, getenv)
	if err != nil {
		return "", err
	}
	return t.expand(s, tokensFiles)
}

// isPathSep reports whether r separates path elements here: '/', and on
// Windows also '\\'.
func isPathSep(r rune) bool {
	return r == '/' || r == filepath.Separator
}
