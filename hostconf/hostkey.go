package hostconf

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// HostKeyProblem says why a host key was refused.
type HostKeyProblem int

const (
	// HostKeyUnknown: no key is recorded for the host and the policy
	// (StrictHostKeyChecking yes, or PuTTY in batch mode) refuses to add one.
	HostKeyUnknown HostKeyProblem = iota + 1
	// HostKeyChanged: a different key of the same type is recorded, or the
	// offered key's type is not among those recorded for the host.
	HostKeyChanged
	// HostKeyRevoked: the key is marked @revoked.
	HostKeyRevoked
)

// HostKeyError reports a refused host key. Its message always contains
// "host key", the host and the offered key's SHA256 fingerprint.
type HostKeyError struct {
	Problem     HostKeyProblem
	Host        string // the name the key was checked under (host or [host]:port)
	KeyType     string // the offered key's type, e.g. ssh-ed25519
	Fingerprint string // ssh.FingerprintSHA256 of the offered key
	File        string // the database holding the conflicting entry, or that was searched
	Line        int    // line of the conflicting entry in File, 0 if none
	// Entry is the PuTTY cache entry checked, as PuTTY names it (a registry
	// value name on Windows): "ssh-ed25519@22:10.77.0.2"; "" for known_hosts.
	Entry string
	// Cached lists PuTTY cache entries of other key types for the host,
	// when the offered type is not cached (HostKeyUnknown).
	Cached []string
}

func (e *HostKeyError) Error() string {
	switch e.Problem {
	case HostKeyChanged:
		where := e.File
		if e.Entry != "" {
			where = fmt.Sprintf("%s as %s", e.File, e.Entry)
		} else if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		return fmt.Sprintf("host key for %s has changed: offered %s %s does not match the key recorded in %s", e.Host, e.KeyType, e.Fingerprint, where)
	case HostKeyRevoked:
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
