package hostkeys

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nbtunnel/nbtunnel/hostconf/pattern"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHostsOptions tunes a KnownHosts checker.
type KnownHostsOptions struct {
	// Ask is called for StrictHostKeyChecking ask when a key is unknown;
	// nil, an error or false refuses the key. It is called with the
	// context given to CallbackContext (context.Background for Callback).
	Ask func(ctx context.Context, question string) (bool, error)
	// Warn receives non-fatal problems: malformed lines skipped (naming
	// file:line), keys added, files that could not be read. nil drops them.
	Warn func(msg string)
	// HashKnownHosts records added keys under a hashed name (|1|salt|hash).
	HashKnownHosts bool
	// HostKeyAlias, when set, is the name every key is checked and
	// recorded under, whatever host is dialled (OpenSSH's HostKeyAlias).
	HostKeyAlias string
	// HostKeyAlgorithms is the user's configured list; Algorithms
	// intersects with it in its order. nil means not configured.
	HostKeyAlgorithms []string
}

// KnownHosts checks host keys against OpenSSH known_hosts files with
// OpenSSH's StrictHostKeyChecking semantics, except that a changed key is
// always refused. The files are read at each check, so keys added by other
// programs meanwhile are seen. It is safe for concurrent use.
type KnownHosts struct {
	userFiles   []string
	globalFiles []string
	strict      string // yes, accept-new, ask, no
	o           KnownHostsOptions
	mu          sync.Mutex // serializes appends
}

// NewKnownHosts returns a checker over userFiles (where accepted keys are
// added: the first one) and globalFiles (read only). strict is
// StrictHostKeyChecking's value: yes (or true), accept-new, ask ("" means
// ask), no (or off, false). Missing files are no error.
func NewKnownHosts(userFiles, globalFiles []string, strict string, o KnownHostsOptions) (Checker, error) {
	return newKnownHosts(userFiles, globalFiles, strict, o)
}

func newKnownHosts(userFiles, globalFiles []string, strict string, o KnownHostsOptions) (*KnownHosts, error) {
	switch strings.ToLower(strict) {
	case "yes", "true":
		strict = "yes"
	case "no", "off", "false":
		strict = "no"
	case "", "ask":
		strict = "ask"
	case "accept-new":
		strict = "accept-new"
	default:
		return nil, fmt.Errorf("checking host keys: invalid StrictHostKeyChecking value %q (want yes, accept-new, ask or no)", strict)
	}
	return &KnownHosts{
		userFiles:   append([]string(nil), userFiles...),
		globalFiles: append([]string(nil), globalFiles...),
		strict:      strict,
		o:           o,
	}, nil
}

// khEntry is one usable known_hosts line.
type khEntry struct {
	file    string
	line    int
	marker  string // "", "cert-authority" or "revoked"
	pattern []string
	key     ssh.PublicKey
}

// keyName returns the name known_hosts records a host under: HostKeyAlias
// if set; else host for port 22 and [host]:port otherwise. hostname may be
// a bare host, host:port or [host]:port; port is used when it has none.
func (k *KnownHosts) keyName(hostname string, port int) string {
	if k.o.HostKeyAlias != "" {
		return k.o.HostKeyAlias
	}
	host := hostname
	if h, p, err := net.SplitHostPort(hostname); err == nil {
		host = h
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if port == 0 || port == 22 {
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// Callback returns a host-key callback that checks under hostname (see
// CallbackContext), asking with context.Background.
func (k *KnownHosts) Callback(hostname string) ssh.HostKeyCallback {
	return k.CallbackContext(context.Background(), hostname)
}

// CallbackContext returns a host-key callback that checks keys under
// hostname: pass Host.HostName or Host.Addr(). A hostname without a port
// takes the port from the address dialled; port 22 records the bare host,
// others [host]:port. With HostKeyAlias set the alias is the name. ctx is
// passed to Ask. Refusals are *KeyError.
func (k *KnownHosts) CallbackContext(ctx context.Context, hostname string) ssh.HostKeyCallback {
	return func(addr string, remote net.Addr, key ssh.PublicKey) error {
		port := 22
		h := hostname
		if ah, ap, err := net.SplitHostPort(addr); err == nil {
			if n, err := strconv.Atoi(ap); err == nil {
				port = n
			}
			if h == "" {
				h = ah
			}
		}
		return k.check(ctx, k.keyName(h, port), addr, remote, key)
	}
}

func (k *KnownHosts) warn(format string, args ...any) {
	if k.o.Warn != nil {
		k.o.Warn(fmt.Sprintf(format, args...))
	}
}

// load reads every file's usable entries, warning about bad lines.
func (k *KnownHosts) load() []khEntry {
	var all []khEntry
	for _, f := range append(append([]string(nil), k.userFiles...), k.globalFiles...) {
		data, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				k.warn("reading known hosts %s: %v", f, err)
			}
			continue
		}
		all = append(all, parseKnownHosts(f, data, k.o.Warn)...)
	}
	return all
}

// parseKnownHosts parses data line by line, skipping (with a warning
// naming file:line) each line that is malformed.
func parseKnownHosts(file string, data []byte, warn func(string)) []khEntry {
	var out []khEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	skip := func(err error) {
		if warn != nil {
			warn(fmt.Sprintf("skipping %s:%d: %v", file, n, err))
		}
	}
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if len(bytes.Fields(line)) < 3 {
			skip(errors.New("invalid known_hosts entry"))
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if err != nil {
			skip(err)
			continue
		}
		if marker != "" && marker != "cert-authority" && marker != "revoked" {
			skip(fmt.Errorf("unknown marker @%s", marker))
			continue
		}
		out = append(out, khEntry{file: file, line: n, marker: marker, pattern: hosts, key: key})
	}
	if err := sc.Err(); err != nil && warn != nil {
		warn(fmt.Sprintf("reading %s after line %d: %v", file, n, err))
	}
	return out
}

// matchName reports whether name matches an entry's host list: hashed
// names, wildcards * and ?, and negation (a matching ! pattern vetoes).
func matchName(patterns []string, name string) bool {
	name = strings.ToLower(name)
	got := false
	for _, p := range patterns {
		if strings.HasPrefix(p, "|1|") {
			if matchHashed(p, name) {
				got = true
			}
			continue
		}
		neg := strings.HasPrefix(p, "!")
		p = strings.ToLower(strings.TrimPrefix(p, "!"))
		if pattern.Match(p, name) {
			if neg {
				return false
			}
			got = true
		}
	}
	return got
}

func matchHashed(p, name string) bool {
	parts := strings.Split(p, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	want, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return hmac.Equal(m.Sum(nil), want)
}

func keysEqual(a, b ssh.PublicKey) bool {
	return bytes.Equal(a.Marshal(), b.Marshal())
}

// baseType folds the RSA signature names into ssh-rsa.
func baseType(t string) string {
	switch t {
	case ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512:
		return ssh.KeyAlgoRSA
	}
	return t
}

func (k *KnownHosts) searched() string {
	if len(k.userFiles) > 0 {
		return k.userFiles[0]
	}
	if len(k.globalFiles) > 0 {
		return k.globalFiles[0]
	}
	return "no known_hosts file"
}

func (k *KnownHosts) check(ctx context.Context, name, addr string, remote net.Addr, key ssh.PublicKey) error {
	entries := k.load()
	herr := func(p Problem, file string, line int) *KeyError {
		return &KeyError{Problem: p, Host: name, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), File: file, Line: line}
	}
	// @revoked applies whatever host its line names: a revoked key is
	// never accepted, neither as a host key nor as a certificate's key or
	// signer.
	revoked := func(pk ssh.PublicKey) *khEntry {
		for i := range entries {
			if entries[i].marker == "revoked" && keysEqual(entries[i].key, pk) {
				return &entries[i]
			}
		}
		return nil
	}
	plain := key
	if cert, ok := key.(*ssh.Certificate); ok {
		for _, pk := range []ssh.PublicKey{cert, cert.Key, cert.SignatureKey} {
			if e := revoked(pk); e != nil {
				return herr(KeyRevoked, e.file, e.line)
			}
		}
		var ca *khEntry
		for i := range entries {
			e := &entries[i]
			if e.marker == "cert-authority" && matchName(e.pattern, name) && keysEqual(e.key, cert.SignatureKey) {
				ca = e
				break
			}
		}
		if ca != nil {
			principal := strings.TrimPrefix(name, "[")
			if i := strings.LastIndex(principal, "]:"); i >= 0 {
				principal = principal[:i]
			}
			cc := &ssh.CertChecker{
				IsHostAuthority: func(auth ssh.PublicKey, _ string) bool { return keysEqual(auth, ca.key) },
				IsRevoked:       func(c *ssh.Certificate) bool { return revoked(c.SignatureKey) != nil },
			}
			if err := cc.CheckHostKey(net.JoinHostPort(principal, "22"), remote, key); err != nil {
				return fmt.Errorf("checking host certificate for %s (CA in %s:%d): %w", name, ca.file, ca.line, err)
			}
			return nil
		}
		// No trusted CA: check the certified key as a plain key, as
		// OpenSSH does.
		plain = cert.Key
	} else if e := revoked(key); e != nil {
		return herr(KeyRevoked, e.file, e.line)
	}

	var other *khEntry
	for i := range entries {
		e := &entries[i]
		if e.marker != "" || !matchName(e.pattern, name) {
			continue
		}
		if keysEqual(e.key, plain) {
			return nil
		}
		if other == nil || (baseType(e.key.Type()) == baseType(plain.Type()) && baseType(other.key.Type()) != baseType(plain.Type())) {
			other = e
		}
	}
	if other != nil {
		return herr(KeyChanged, other.file, other.line)
	}

	// Unknown key.
	switch k.strict {
	case "yes":
		return herr(KeyUnknown, k.searched(), 0)
	case "ask":
		if k.o.Ask == nil {
			return herr(KeyUnknown, k.searched(), 0)
		}
		q := fmt.Sprintf("The authenticity of host '%s (%s)' can't be established.\n%s key fingerprint is %s.\nAre you sure you want to continue connecting (yes/no)?",
			name, addr, keyTypeLabel(plain), ssh.FingerprintSHA256(plain))
		ok, err := k.o.Ask(ctx, q)
		if err != nil {
			return fmt.Errorf("asking about host key for %s: %w", name, err)
		}
		if !ok {
			return herr(KeyUnknown, k.searched(), 0)
		}
	}
	if err := k.add(name, plain); err != nil {
		k.warn("host key for %s (%s) accepted but not recorded: %v", name, ssh.FingerprintSHA256(plain), err)
		return nil
	}
	k.warn("Permanently added '%s' (%s) to the list of known hosts (%s).", name, keyTypeLabel(plain), k.userFiles[0])
	return nil
}

func keyTypeLabel(k ssh.PublicKey) string {
	t := strings.TrimPrefix(baseType(k.Type()), "ssh-")
	if strings.HasPrefix(t, "ecdsa") {
		return "ECDSA"
	}
	return strings.ToUpper(t)
}

// add appends name's key to the first user file: directory 0700 and file
// 0600 when they are created, O_APPEND so concurrent writers don't clobber
// each other, hashed with HashKnownHosts.
func (k *KnownHosts) add(name string, key ssh.PublicKey) error {
	if len(k.userFiles) == 0 {
		return errors.New("no UserKnownHostsFile")
	}
	path := k.userFiles[0]
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	recorded := name
	if k.o.HashKnownHosts {
		recorded = knownhosts.HashHostname(name)
	}
	line := recorded + " " + string(ssh.MarshalAuthorizedKey(key))
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		} else if err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// certAlgorithms are the host-certificate algorithms, most preferred first.
var certAlgorithms = []string{
	ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
	ssh.CertAlgoSKED25519v01, ssh.CertAlgoSKECDSA256v01, ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
	ssh.CertAlgoRSAv01,
}

// plainAlgorithms are the plain host-key algorithms, most preferred first.
var plainAlgorithms = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA,
	"ssh-dss",
}

// Algorithms lists the host-key algorithms the known_hosts files can
// verify for hostname (a host, host:port or [host]:port; HostKeyAlias
// wins when set): the recorded key types (an RSA key allows rsa-sha2-512,
// rsa-sha2-256 and ssh-rsa) and, when a @cert-authority entry matches, the
// certificate algorithms. Revoked keys are left out. When
// HostKeyAlgorithms is configured the result is its intersection with that
// list, in the configured order. Empty means nothing is known.
func (k *KnownHosts) Algorithms(hostname string) []string {
	name := k.keyName(hostname, 22)
	entries := k.load()
	known := map[string]bool{}
	for _, e := range entries {
		if e.marker == "revoked" || !matchName(e.pattern, name) {
			continue
		}
		if e.marker == "cert-authority" {
			for _, a := range certAlgorithms {
				known[a] = true
			}
			continue
		}
		isRevoked := false
		for _, r := range entries {
			if r.marker == "revoked" && keysEqual(r.key, e.key) {
				isRevoked = true
			}
		}
		if isRevoked {
			continue
		}
		switch t := e.key.Type(); t {
		case ssh.KeyAlgoRSA:
			known[ssh.KeyAlgoRSASHA512], known[ssh.KeyAlgoRSASHA256], known[ssh.KeyAlgoRSA] = true, true, true
		default:
			known[t] = true
		}
	}
	order := append(append([]string(nil), certAlgorithms...), plainAlgorithms...)
	var extra []string
	for t := range known {
		if !slices.Contains(order, t) {
			extra = append(extra, t)
		}
	}
	sort.Strings(extra)
	order = append(order, extra...)
	if k.o.HostKeyAlgorithms != nil {
		order = k.o.HostKeyAlgorithms
	}
	var out []string
	for _, a := range order {
		if known[a] && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Policy returns the StrictHostKeyChecking policy in force: "yes",
// "accept-new", "ask" or "no".
func (k *KnownHosts) Policy() string { return k.strict }

// Files returns the user and global known_hosts files, in search order;
// keys are added to the first user file.
func (k *KnownHosts) Files() (user, global []string) {
	return append([]string(nil), k.userFiles...), append([]string(nil), k.globalFiles...)
}
