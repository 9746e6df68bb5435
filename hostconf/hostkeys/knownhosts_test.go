package hostkeys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

type testKeys struct {
	ed, ed2, ecdsa, rsa, ca, ca2 ssh.Signer
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func mustSigner(t testing.TB, k any) ssh.Signer {
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getKeys(t testing.TB) testKeys {
	keysOnce.Do(func() {
		ed := func() ssh.Signer {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return mustSigner(t, priv)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = testKeys{ed: ed(), ed2: ed(), ecdsa: mustSigner(t, ec), rsa: mustSigner(t, rk), ca: ed(), ca2: ed()}
	})
	return keys
}

func authLine(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// hostCert returns a host certificate for key signed by ca.
func hostCert(t *testing.T, key ssh.PublicKey, ca ssh.Signer, principals ...string) *ssh.Certificate {
	t.Helper()
	c := &ssh.Certificate{
		Key: key, CertType: ssh.HostCert, ValidPrincipals: principals,
		ValidAfter: uint64(time.Now().Add(-time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix()),
	}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return c
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

func TestKnownHostsCheck(t *testing.T) {
	k := getKeys(t)
	ed, ed2, ec := k.ed.PublicKey(), k.ed2.PublicKey(), k.ecdsa.PublicKey()
	hashed := knownhosts.HashHostname("hashed.example")
	revokedCA := hostCert(t, ed, k.ca2, "h.certs.example")
	base := strings.Join([]string{
		"# comment",
		"",
		"known.example,10.0.0.1 " + authLine(ed),
		"this line is broken",
		"[ported.example]:2222 " + authLine(ed),
		"*.wild.example,!bad.wild.example " + authLine(ed),
		hashed + " " + authLine(ed),
		"ecdsa-only.example " + authLine(ec),
		"@cert-authority *.certs.example " + authLine(k.ca.PublicKey()),
		"@cert-authority *.certs.example " + authLine(k.ca2.PublicKey()),
		"@revoked * " + authLine(k.ca2.PublicKey()),
		"@revoked * " + authLine(k.ed2.PublicKey()),
		"@bogus x " + authLine(ed),
		"alias-name " + authLine(ed),
	}, "\n") + "\n"
	tests := []struct {
		name     string
		strict   string
		host     string // hostname passed to Callback
		addr     string
		key      ssh.PublicKey
		alias    string
		ask      func(context.Context, string) (bool, error)
		problem  hostkeys.Problem // 0 = accepted
		wantLine int
		added    bool
	}{
		{name: "known", strict: "yes", host: "known.example", key: ed},
		{name: "known by second name", strict: "yes", host: "10.0.0.1", key: ed},
		{name: "case-insensitive", strict: "yes", host: "KNOWN.example", key: ed},
		{name: "changed ecdsa vs ed25519", strict: "yes", host: "known.example", key: ec, problem: hostkeys.KeyChanged, wantLine: 3},
		{name: "changed same type", strict: "yes", host: "known.example", key: k.rsa.PublicKey(), problem: hostkeys.KeyChanged, wantLine: 3},
		{name: "changed refused under no", strict: "no", host: "ecdsa-only.example", key: ed, problem: hostkeys.KeyChanged, wantLine: 8},
		{name: "changed refused under accept-new", strict: "accept-new", host: "ecdsa-only.example", key: ed, problem: hostkeys.KeyChanged, wantLine: 8},
		{name: "port from addr", strict: "yes", host: "ported.example", addr: "ported.example:2222", key: ed},
		{name: "port in hostname", strict: "yes", host: "ported.example:2222", key: ed},
		{name: "plain name not for other port", strict: "yes", host: "known.example", addr: "known.example:2200", key: ed, problem: hostkeys.KeyUnknown},
		{name: "wildcard", strict: "yes", host: "a.wild.example", key: ed},
		{name: "negated", strict: "yes", host: "bad.wild.example", key: ed, problem: hostkeys.KeyUnknown},
		{name: "hashed", strict: "yes", host: "hashed.example", key: ed},
		{name: "unknown under yes", strict: "yes", host: "new.example", key: ed, problem: hostkeys.KeyUnknown},
		{name: "unknown under ask without Ask", strict: "ask", host: "new.example", key: ed, problem: hostkeys.KeyUnknown},
		{name: "unknown under ask declined", strict: "ask", host: "new.example", key: ed, problem: hostkeys.KeyUnknown,
			ask: func(context.Context, string) (bool, error) { return false, nil }},
		{name: "unknown under ask accepted", strict: "", host: "new.example", key: ed, added: true,
			ask: func(_ context.Context, q string) (bool, error) { return strings.Contains(q, "new.example"), nil }},
		{name: "unknown under accept-new", strict: "accept-new", host: "new.example", key: ed, added: true},
		{name: "unknown under no", strict: "off", host: "new.example", key: ed, added: true},
		{name: "revoked under no", strict: "no", host: "any.example", key: ed2, problem: hostkeys.KeyRevoked, wantLine: 12},
		{name: "cert from CA", strict: "yes", host: "h.certs.example", key: hostCert(t, ec, k.ca, "h.certs.example")},
		{name: "cert wrong principal", strict: "yes", host: "h.certs.example", key: hostCert(t, ec, k.ca, "other.example"), problem: -1},
		{name: "cert CA revoked", strict: "no", host: "h.certs.example", key: revokedCA, problem: hostkeys.KeyRevoked, wantLine: 11},
		{name: "cert unknown CA falls back to plain key", strict: "yes", host: "known.example", key: hostCert(t, ed, k.ca, "known.example")},
		{name: "cert CA not for this host", strict: "yes", host: "elsewhere.example", key: hostCert(t, ec, k.ca, "elsewhere.example"), problem: hostkeys.KeyUnknown},
		{name: "host key alias", strict: "yes", host: "whatever.example", alias: "alias-name", key: ed},
		{name: "host key alias unknown", strict: "yes", host: "known.example", alias: "other-alias", key: ed, problem: hostkeys.KeyUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			global := filepath.Join(dir, "global")
			if err := os.WriteFile(global, []byte(base), 0o644); err != nil {
				t.Fatal(err)
			}
			user := filepath.Join(dir, "sub", "known_hosts")
			var warnings []string
			c, err := hostkeys.NewKnownHosts([]string{user}, []string{global}, tt.strict, hostkeys.KnownHostsOptions{
				Ask: tt.ask, Warn: func(m string) { warnings = append(warnings, m) }, HostKeyAlias: tt.alias,
			})
			if err != nil {
				t.Fatal(err)
			}
			addr := tt.addr
			if addr == "" {
				addr = "192.0.2.1:22"
			}
			err = c.Callback(tt.host)(addr, fakeAddr(addr), tt.key)
			switch {
			case tt.problem == 0 && err != nil:
				t.Fatalf("got error %v, want the key accepted", err)
			case tt.problem == -1:
				if err == nil || !strings.Contains(err.Error(), "h.certs.example") {
					t.Fatalf("got error %v, want a certificate error naming the host", err)
				}
			case tt.problem > 0:
				var he *hostkeys.KeyError
				if !errors.As(err, &he) {
					t.Fatalf("got error %v, want *KeyError", err)
				}
				if he.Problem != tt.problem || he.Line != tt.wantLine {
					t.Errorf("got problem %d line %d, want %d line %d (%v)", he.Problem, he.Line, tt.problem, tt.wantLine, err)
				}
				if fp := ssh.FingerprintSHA256(tt.key); !strings.Contains(err.Error(), fp) || !strings.Contains(err.Error(), "host key") {
					t.Errorf("got error %q, want it to contain \"host key\" and %s", err, fp)
				}
				if he.Problem == hostkeys.KeyChanged && !strings.Contains(err.Error(), fmt.Sprintf("%s:%d", global, tt.wantLine)) {
					t.Errorf("got error %q, want it to name %s:%d", err, global, tt.wantLine)
				}
			}
			data, rerr := os.ReadFile(user)
			if tt.added {
				if rerr != nil {
					t.Fatalf("want the key added to %s: %v", user, rerr)
				}
				if want := "new.example " + authLine(tt.key) + "\n"; string(data) != want {
					t.Errorf("got file %q, want %q", data, want)
				}
				fi, _ := os.Stat(user)
				di, _ := os.Stat(filepath.Dir(user))
				if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
					t.Errorf("got modes file %v dir %v, want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
				}
				// Now known.
				if err := c.Callback(tt.host)(addr, fakeAddr(addr), tt.key); err != nil {
					t.Errorf("second check after adding: %v", err)
				}
			} else if rerr == nil {
				t.Errorf("got %s written (%q), want nothing added", user, data)
			}
			var sawBad, sawMarker bool
			for _, w := range warnings {
				sawBad = sawBad || strings.Contains(w, global+":4")
				sawMarker = sawMarker || strings.Contains(w, global+":13")
			}
			if !sawBad || !sawMarker {
				t.Errorf("got warnings %q, want lines 4 and 13 of %s reported", warnings, global)
			}
		})
	}
}

func TestKnownHostsHashedAppend(t *testing.T) {
	k := getKeys(t)
	dir := t.TempDir()
	user := filepath.Join(dir, "kh")
	if err := os.WriteFile(user, []byte("other.example "+authLine(k.ecdsa.PublicKey())), 0o600); err != nil { // no final newline
		t.Fatal(err)
	}
	c, err := hostkeys.NewKnownHosts([]string{user}, nil, "accept-new", hostkeys.KnownHostsOptions{HashKnownHosts: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Callback("new.example")("new.example:2222", nil, k.ed.PublicKey()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(user)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") || strings.Contains(string(data), "new.example") {
		t.Fatalf("got %q, want the old line and one hashed line", data)
	}
	if err := c.Callback("new.example")("new.example:2222", nil, k.ed.PublicKey()); err != nil {
		t.Errorf("hashed entry for [new.example]:2222 not found again: %v", err)
	}
	strict, err := hostkeys.NewKnownHosts([]string{user}, nil, "yes", hostkeys.KnownHostsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := strict.Callback("new.example")("new.example:22", nil, k.ed.PublicKey()); err == nil {
		t.Error("got port 22 accepted, want the entry to be for port 2222 only")
	}
}

func TestKnownHostsSSHKeygenHashed(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		if os.Getenv("NBTUNNEL_E2E") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	k := getKeys(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "known_hosts")
	text := "plain.example,10.9.8.7 " + authLine(k.ed.PublicKey()) + "\n[ported.example]:2022 " + authLine(k.rsa.PublicKey()) + "\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, keygen, "-H", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v: %s", err, out)
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "plain.example") || !strings.Contains(string(data), "|1|") {
		t.Fatalf("ssh-keygen did not hash: %q", data)
	}
	c, err := hostkeys.NewKnownHosts([]string{file}, nil, "yes", hostkeys.KnownHostsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, addr string
		key        ssh.PublicKey
		ok         bool
	}{
		{"plain.example", "x:22", k.ed.PublicKey(), true},
		{"10.9.8.7", "x:22", k.ed.PublicKey(), true},
		{"ported.example", "x:2022", k.rsa.PublicKey(), true},
		{"ported.example", "x:22", k.rsa.PublicKey(), false},
		{"plain.example", "x:22", k.ed2.PublicKey(), false},
	}
	for _, tt := range tests {
		err := c.Callback(tt.host)(tt.addr, nil, tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("%s via %s: got %v, want ok=%v", tt.host, tt.addr, err, tt.ok)
		}
	}
	if got, want := c.Algorithms("ported.example:2022"), []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Algorithms: got %q, want %q", got, want)
	}
}

func TestKnownHostsAlgorithms(t *testing.T) {
	k := getKeys(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "kh")
	text := strings.Join([]string{
		"multi.example " + authLine(k.rsa.PublicKey()),
		"multi.example " + authLine(k.ecdsa.PublicKey()),
		"multi.example " + authLine(k.ed2.PublicKey()),
		"@revoked * " + authLine(k.ed2.PublicKey()),
		"@cert-authority *.ca.example " + authLine(k.ca.PublicKey()),
		"[p.example]:2022 " + authLine(k.ed.PublicKey()),
	}, "\n")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host       string
		configured []string
		want       []string
	}{
		{"multi.example", nil, []string{"ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"multi.example:22", nil, []string{"ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"multi.example", []string{"rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256"}, []string{"rsa-sha2-256", "ecdsa-sha2-nistp256"}},
		{"x.ca.example", nil, []string{"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
			"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
			"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
			"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com"}},
		{"p.example:2022", nil, []string{"ssh-ed25519"}},
		{"[p.example]:2022", nil, []string{"ssh-ed25519"}},
		{"p.example", nil, nil},
		{"unknown.example", nil, nil},
	}
	for _, tt := range tests {
		c, err := hostkeys.NewKnownHosts([]string{file}, nil, "yes", hostkeys.KnownHostsOptions{HostKeyAlgorithms: tt.configured})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Algorithms(tt.host); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Algorithms(%q) with %q: got %q, want %q", tt.host, tt.configured, got, tt.want)
		}
	}
}

func TestNewKnownHostsBadPolicy(t *testing.T) {
	if _, err := hostkeys.NewKnownHosts(nil, nil, "sometimes", hostkeys.KnownHostsOptions{}); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("got %v, want an error naming the value", err)
	}
}

// serveOnce runs an in-process SSH server on a loopback connection. (An
// unbuffered net.Pipe deadlocks: both ends send their version line first.)
func serveOnce(t *testing.T, signer ssh.Signer) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cs, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, chans, reqs, err := ssh.NewServerConn(ss, cfg)
		if err != nil {
			ss.Close()
			return
		}
		go ssh.DiscardRequests(reqs)
		for ch := range chans {
			ch.Reject(ssh.Prohibited, "no")
		}
		conn.Close()
	}()
	t.Cleanup(func() {
		cs.Close()
		ss.Close()
		<-done
	})
	return cs
}

func TestKnownHostsAgainstServer(t *testing.T) {
	k := getKeys(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(file, []byte("[srv.example]:2200 "+authLine(k.ed.PublicKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := hostkeys.NewKnownHosts([]string{file}, nil, "yes", hostkeys.KnownHostsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dial := func(signer ssh.Signer) error {
		conn := serveOnce(t, signer)
		cfg := &ssh.ClientConfig{
			User:              "u",
			HostKeyCallback:   c.Callback("srv.example"),
			HostKeyAlgorithms: c.Algorithms("srv.example:2200"),
			Timeout:           10 * time.Second,
		}
		sc, chans, reqs, err := ssh.NewClientConn(conn, "srv.example:2200", cfg)
		if err != nil {
			return err
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "no")
			}
		}()
		return sc.Close()
	}
	if err := dial(k.ed); err != nil {
		t.Fatalf("real key: got %v, want accepted", err)
	}
	err = dial(k.ed2)
	if err == nil {
		t.Fatal("changed key: got accepted")
	}
	fp := ssh.FingerprintSHA256(k.ed2.PublicKey())
	for _, want := range []string{"host key", "[srv.example]:2200", fp, file + ":1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to contain %q", err, want)
		}
	}
	var he *hostkeys.KeyError
	if !errors.As(err, &he) || he.Problem != hostkeys.KeyChanged {
		t.Errorf("got %#v, want a KeyChanged *KeyError", err)
	}
}

func FuzzKnownHosts(f *testing.F) {
	k := getKeys(f)
	f.Add([]byte("host.example "+authLine(k.ed.PublicKey())+"\n"), "host.example")
	f.Add([]byte("@cert-authority *.example "+authLine(k.ca.PublicKey())+"\n@revoked * "+authLine(k.ed2.PublicKey())), "a.example")
	f.Add([]byte(knownhosts.HashHostname("h")+" "+authLine(k.ed.PublicKey())+"\n|1|bad|hash ssh-ed25519 AAAA\n"), "h")
	f.Add([]byte("[h]:2222,!x,*? "+authLine(k.ecdsa.PublicKey())+"\r\nbroken\n\n#c"), "[h]:2222")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "kh")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := hostkeys.NewKnownHosts([]string{file}, nil, "yes", hostkeys.KnownHostsOptions{Warn: func(string) {}})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Algorithms(host)
		err = c.Callback(host)("x:22", nil, k.ed.PublicKey())
		var he *hostkeys.KeyError
		if err != nil && !errors.As(err, &he) {
			t.Fatalf("got %v, want nil or *KeyError", err)
		}
	})
}
