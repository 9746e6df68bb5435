package sshconfig

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Tokens holds the values of OpenSSH's %-tokens for one connection.
type Tokens struct {
	Home         string // %d
	HostName     string // %h: the host name after HostName
	Port         int    // %p
	RemoteUser   string // %r
	LocalUser    string // %u
	Original     string // %n: the host as given
	LocalHost    string // %l, with its domain (%L is the first label)
	UID          string // %i
	HostKeyAlias string // %k is HostKeyAlias, or %n without it
	ProxyJump    string // %j (newer OpenSSH; "" without ProxyJump)
}

// Token sets that keywords accept (ssh_config(5), OpenSSH 9.2; %j from
// newer releases).
const (
	// TokensHostName is HostName's set.
	TokensHostName = "h"
	// TokensProxy is ProxyCommand's set.
	TokensProxy = "hnpr"
	// TokensDefault is the set of the file-name keywords (IdentityFile,
	// CertificateFile, ControlPath, IdentityAgent, UserKnownHostsFile),
	// LocalForward socket paths, LocalCommand and RemoteCommand.
	TokensDefault = "CLdhijklnpru"
	// TokensMatchExec is Match exec's set.
	TokensMatchExec = "CLdhiklnpru"
)

// ConnHash is %C: the SHA-1 hex of %l%h%p%r, as OpenSSH 9.2 computes it.
func (t Tokens) ConnHash() string {
	sum := sha1.Sum([]byte(t.LocalHost + t.HostName + strconv.Itoa(t.Port) + t.RemoteUser))
	return hex.EncodeToString(sum[:])
}

func (t Tokens) value(c byte) (string, bool) {
	switch c {
	case 'C':
		return t.ConnHash(), true
	case 'd':
		return t.Home, true
	case 'h':
		return t.HostName, true
	case 'p':
		return strconv.Itoa(t.Port), true
	case 'r':
		return t.RemoteUser, true
	case 'u':
		return t.LocalUser, true
	case 'n':
		return t.Original, true
	case 'l':
		return t.LocalHost, true
	case 'L':
		short, _, _ := strings.Cut(t.LocalHost, ".")
		return short, true
	case 'i':
		return t.UID, true
	case 'k':
		if t.HostKeyAlias != "" {
			return t.HostKeyAlias, true
		}
		return t.Original, true
	case 'j':
		return t.ProxyJump, true
	}
	return "", false
}

// Expand replaces the %-tokens of s that allowed lists (and %%); with
// getenv non-nil it also replaces ${VAR}, in the same single pass as
// OpenSSH's percent_dollar_expand (a value is never expanded again). An
// unknown token, a trailing lone %, an unterminated ${ or an unset
// variable is an error, as in OpenSSH.
func (t Tokens) Expand(s, allowed string, getenv func(string) string) (string, error) {
	if !strings.ContainsAny(s, "%$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if getenv != nil && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			v, next, err := envVar(s, i, getenv)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = next - 1
			continue
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", fmt.Errorf("expanding %q: invalid trailing %%", s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := t.value(s[i])
		if !ok || !strings.ContainsRune(allowed, rune(s[i])) {
			return "", fmt.Errorf("expanding %q: unknown token %%%c", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// ExpandPath expands a file-name value as OpenSSH does: a leading ~ or
// ~user, then ${VAR} and the default %-tokens.
func (t Tokens) ExpandPath(s string, getenv func(string) string) (string, error) {
	s, err := ExpandTilde(s, t.Home)
	if err != nil {
		return "", err
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return t.Expand(s, TokensDefault, getenv)
}

// ExpandTilde replaces a leading "~" or "~/" with home and "~user/" with
// that user's home directory (tilde_expand in misc.c). On Windows "~\"
// is "~/" too, as Win32-OpenSSH reads it.
func ExpandTilde(s, home string) (string, error) {
	if !strings.HasPrefix(s, "~") {
		return s, nil
	}
	name, rest := s[1:], ""
	if i := strings.IndexFunc(name, func(r rune) bool { return r == '/' || r == filepath.Separator }); i >= 0 {
		name, rest = name[:i], name[i+1:]
	}
	if name == "" {
		if home == "" {
			return "", errors.New("expanding ~: no home directory")
		}
		if rest == "" {
			return home, nil
		}
		return strings.TrimSuffix(home, "/") + "/" + rest, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("expanding %q: %w", s, err)
	}
	if rest == "" {
		return u.HomeDir, nil
	}
	return filepath.Join(u.HomeDir, rest), nil
}

// dollarExpand replaces ${VAR} only (dollar_expand in misc.c); '%' is
// copied as it is.
func dollarExpand(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			v, next, err := envVar(s, i, getenv)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = next - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// envVar reads the "${NAME}" that starts at s[i] and returns NAME's value
// and the index just past the '}'. An unterminated ${, an empty name or an
// unset (or empty) variable is an error, as in OpenSSH.
func envVar(s string, i int, getenv func(string) string) (string, int, error) {
	end := strings.IndexByte(s[i+2:], '}')
	if end < 0 {
		return "", 0, fmt.Errorf("expanding %q: environment variable missing closing '}'", s)
	}
	name := s[i+2 : i+2+end]
	if name == "" {
		return "", 0, fmt.Errorf("expanding %q: zero-length environment variable", s)
	}
	v := getenv(name)
	if v == "" {
		return "", 0, fmt.Errorf("expanding %q: environment variable %s is not set", s, name)
	}
	return v, i + 3 + end, nil
}
