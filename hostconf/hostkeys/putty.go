package hostkeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PuttyHostKeys is PuTTY's host-key cache: lines "TYPE@PORT:HOST VALUE"
// where TYPE is PuTTY's key type name (rsa2, ssh-ed25519, ecdsa-sha2-nistp256,
// ...) and VALUE the key's numbers in hex. It implements
// Checker with PuTTY's batch-mode policy: a key not in the cache, or
// different from it, is refused with *KeyError; nothing is ever added.
//
// The hostname given to Callback and Algorithms is "host", "host:port" or
// "[host]:port"; without a port, the port of the address dialled is used.
// PuTTY records keys under the host name as the user typed it in the
// session, so callers pass that (not an alias). Safe for concurrent use.
type PuttyHostKeys struct {
	source  string
	entries []puttyHostKey
}

type puttyHostKey struct {
	keyType string // PuTTY's name
	port    int
	host    string
	key     ssh.PublicKey // nil when the value does not parse or the type is unsupported
	line    int
}

// ParsePuttyHostKeys parses a host-key cache; source names it in errors.
// Lines that do not parse are skipped, as PuTTY skips them. Like plink
// 0.78, a key of a type not cached for the host is unknown ("The host key
// is not cached for this server"), even when other types are cached; the
// error then lists them.
func ParsePuttyHostKeys(data []byte, source string) *PuttyHostKeys {
	k := &PuttyHostKeys{source: source}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		typ, rest, ok := strings.Cut(name, "@")
		if !ok {
			continue
		}
		portText, host, ok := strings.Cut(rest, ":")
		if !ok || host == "" {
			continue
		}
		port, err := strconv.Atoi(portText)
		if err != nil || port < 0 || port > 65535 || strconv.Itoa(port) != portText {
			continue
		}
		k.entries = append(k.entries, puttyHostKey{keyType: typ, port: port, host: host, key: parsePuttyKeyValue(typ, value), line: i + 1})
	}
	return k
}

func parseHexList(value string, n int) []*big.Int {
	parts := strings.Split(value, ",")
	if len(parts) != n {
		return nil
	}
	out := make([]*big.Int, n)
	for i, p := range parts {
		if !strings.HasPrefix(p, "0x") || len(p) < 3 || len(p) > 2+2048 {
			return nil
		}
		v, ok := new(big.Int).SetString(p[2:], 16)
		if !ok || v.Sign() < 0 {
			return nil
		}
		out[i] = v
	}
	return out
}

// parsePuttyKeyValue rebuilds the public key from a cache value, or nil.
func parsePuttyKeyValue(typ, value string) ssh.PublicKey {
	var crypto any
	switch typ {
	case "rsa2":
		v := parseHexList(value, 2)
		if v == nil || !v[0].IsInt64() || v[0].Int64() > 1<<31-1 || v[0].Int64() < 3 {
			return nil
		}
		crypto = &rsa.PublicKey{E: int(v[0].Int64()), N: v[1]}
	case "ssh-ed25519":
		v := parseHexList(value, 2)
		if v == nil || !onEd25519(v[0], v[1]) {
			return nil
		}
		// The encoding is y little-endian with x's low bit in the top bit.
		b := v[1].FillBytes(make([]byte, ed25519.PublicKeySize))
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		if v[0].Bit(0) == 1 {
			b[31] |= 0x80
		}
		crypto = ed25519.PublicKey(b)
	case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
		curveName, rest, _ := strings.Cut(value, ",")
		var curve elliptic.Curve
		switch curveName {
		case "nistp256":
			curve = elliptic.P256()
		case "nistp384":
			curve = elliptic.P384()
		case "nistp521":
			curve = elliptic.P521()
		}
		if curve == nil || "ecdsa-sha2-"+curveName != typ {
			return nil
		}
		v := parseHexList(rest, 2)
		if v == nil {
			return nil
		}
		size := (curve.Params().BitSize + 7) / 8
		if v[0].BitLen() > size*8 || v[1].BitLen() > size*8 {
			return nil
		}
		point := append([]byte{4}, v[0].FillBytes(make([]byte, size))...)
		point = append(point, v[1].FillBytes(make([]byte, size))...)
		pk, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil
		}
		crypto = pk
	default:
		return nil
	}
	pub, err := ssh.NewPublicKey(crypto)
	if err != nil {
		return nil
	}
	return pub
}

// puttyKeyType maps an SSH key type to PuTTY's cache name.
func puttyKeyType(sshType string) string {
	switch sshType {
	case ssh.KeyAlgoRSA:
		return "rsa2"
	}
	return sshType
}

// sshAlgorithms maps PuTTY's cache name to the SSH host-key algorithms
// that verify against such a key.
func sshAlgorithms(puttyType string) []string {
	switch puttyType {
	case "rsa2":
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
		return []string{puttyType}
	}
	return nil
}

// splitPuttyName splits "host", "host:port" or "[host]:port"; port 0 means
// none was given.
func splitPuttyName(name string) (string, int) {
	if h, p, err := net.SplitHostPort(name); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return h, n
		}
	}
	return name, 0
}

func (k *PuttyHostKeys) lookup(host string, port int) []puttyHostKey {
	var out []puttyHostKey
	for _, e := range k.entries {
		if e.host == host && e.port == port {
			out = append(out, e)
		}
	}
	return out
}

// Callback implements Checker.
func (k *PuttyHostKeys) Callback(hostname string) ssh.HostKeyCallback {
	return func(dialed string, remote net.Addr, key ssh.PublicKey) error {
		host, port := splitPuttyName(hostname)
		if port == 0 {
			_, port = splitPuttyName(dialed)
		}
		if port == 0 {
			if tcp, ok := remote.(*net.TCPAddr); ok {
				port = tcp.Port
			}
		}
		if port == 0 {
			port = 22
		}
		herr := &KeyError{
			Problem:     KeyUnknown,
			Host:        puttyKeyName(host, port),
			KeyType:     key.Type(),
			Fingerprint: ssh.FingerprintSHA256(key),
			File:        k.source,
		}
		want := puttyKeyType(key.Type())
		herr.Entry = fmt.Sprintf("%s@%d:%s", want, port, host)
		for _, e := range k.lookup(host, port) {
			if e.keyType != want {
				herr.Cached = append(herr.Cached, fmt.Sprintf("%s@%d:%s", e.keyType, port, host))
				continue
			}
			if e.key != nil && string(e.key.Marshal()) == string(key.Marshal()) {
				return nil
			}
			herr.Problem = KeyChanged
			herr.Line = e.line
			herr.Cached = nil
			return herr
		}
		return herr
	}
}

// Algorithms implements Checker: the SSH algorithms for the key
// types cached for hostname, in cache order, then (as PuTTY prefers cached
// types but accepts others) every other plain-key algorithm x/crypto/ssh
// supports, so that a server without the cached type gets "not cached"
// rather than "no common algorithm". Nil when nothing is cached.
func (k *PuttyHostKeys) Algorithms(hostname string) []string {
	host, port := splitPuttyName(hostname)
	if port == 0 {
		port = 22
	}
	var algs []string
	seen := map[string]bool{}
	for _, e := range k.lookup(host, port) {
		for _, a := range sshAlgorithms(e.keyType) {
			if e.key != nil && !seen[a] {
				seen[a] = true
				algs = append(algs, a)
			}
		}
	}
	if len(algs) == 0 {
		return nil
	}
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !seen[a] && !strings.Contains(a, "-cert-") {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	return algs
}

// Bound returns a Checker that checks every connection against the one
// name (host or host:port) given here, whatever name its caller passes:
// PuTTY keys its cache on the session's HostName and PortNumber, not on
// the name a connection was asked for.
func Bound(c Checker, name string) Checker { return boundKeys{inner: c, name: name} }

type boundKeys struct {
	inner Checker
	name  string // host:port
}

func (b boundKeys) Callback(string) ssh.HostKeyCallback { return b.inner.Callback(b.name) }
func (b boundKeys) Algorithms(string) []string          { return b.inner.Algorithms(b.name) }

func puttyKeyName(host string, port int) string {
	if port == 22 {
		return host
	}
	return joinHostPort(host, port)
}

// onEd25519 reports whether (x, y) is a point of edwards25519:
// -x² + y² = 1 + d·x²·y² (mod p), with x, y reduced.
func onEd25519(x, y *big.Int) bool {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	if x.Cmp(p) >= 0 || y.Cmp(p) >= 0 {
		return false
	}
	// d = -121665 / 121666 mod p
	d := new(big.Int).ModInverse(big.NewInt(121666), p)
	d.Mul(d, big.NewInt(-121665)).Mod(d, p)
	x2 := new(big.Int).Mul(x, x)
	y2 := new(big.Int).Mul(y, y)
	left := new(big.Int).Sub(y2, x2)
	left.Mod(left, p)
	right := new(big.Int).Mul(d, x2)
	right.Mul(right, y2).Add(right, big.NewInt(1)).Mod(right, p)
	return left.Cmp(right) == 0
}
