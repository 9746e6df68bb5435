package hostkeys

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Problem says why a host key was refused.
type Problem int

const (
	// KeyUnknown: no key is recorded for the host and the policy
	// (StrictHostKeyChecking yes, or PuTTY in batch mode) refuses to add one.
	KeyUnknown Problem = iota + 1
	// KeyChanged: a different key of the same type is recorded, or (in
	// known_hosts) the offered key's type is not among those recorded for
	// the host. PuTTY's cache treats an uncached type as KeyUnknown.
	KeyChanged
	// KeyRevoked: the key is marked @revoked.
	KeyRevoked
)

// KeyError reports a refused host key. Its message always contains
// "host key", the host and the offered key's SHA256 fingerprint.
type KeyError struct {
	Problem     Problem
	Host        string // the name the key was checked under (host or [host]:port)
	KeyType     string // the offered key's type, e.g. ssh-ed25519
	Fingerprint string // ssh.FingerprintSHA256 of the offered key
	File        string // the database holding the conflicting entry, or that was searched
	Line        int    // line of the conflicting entry in File, 0 if none
	// Entry is the PuTTY cache entry checked, as PuTTY names it (a registry
	// value name on Windows): "ssh-ed25519@22:10.77.0.2"; "" for known_hosts.
	Entry string
	// Cached lists PuTTY cache entries of other key types for the host,
	// when the offered type is not cached (KeyUnknown).
	Cached []string
}

func (e *KeyError) Error() string {
	switch e.Problem {
	case KeyChanged:
		where := e.File
		if e.Entry != "" {
			where = fmt.Sprintf("%s as %s", e.File, e.Entry)
		} else if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		return fmt.Sprintf("host key for %s has changed: offered %s %s does not match the key recorded in %s", e.Host, e.KeyType, e.Fingerprint, where)
	case KeyRevoked:
		return fmt.Sprintf("host key for %s is revoked: %s %s (marked @revoked in %s)", e.Host, e.KeyType, e.Fingerprint, e.File)
	default:
		if len(e.Cached) > 0 {
			return fmt.Sprintf("host key for %s is not cached for its type: the server offers %s %s, and %s holds only %s for this host",
				e.Host, e.KeyType, e.Fingerprint, e.File, strings.Join(e.Cached, ", "))
		}
		if e.Entry != "" {
			return fmt.Sprintf("host key for %s is not known: %s %s is not in %s (no %s)", e.Host, e.KeyType, e.Fingerprint, e.File, e.Entry)
		}
		return fmt.Sprintf("host key for %s is not known: %s %s is not in %s", e.Host, e.KeyType, e.Fingerprint, e.File)
	}
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Checker decides whether a host key is acceptable for a host.
type Checker interface {
	// Callback returns the ssh.HostKeyCallback to use when connecting to
	// addr (host:port as dialled) under the name hostname (the alias
	// resolved, or HostKeyAlias). Errors it returns for unknown or changed
	// keys are *KeyError.
	Callback(hostname string) ssh.HostKeyCallback
	// Algorithms lists the host-key algorithms already known for
	// hostname, in preference order, so the client negotiates a key type
	// it can verify. Empty means no known key: use the defaults.
	Algorithms(hostname string) []string
}
