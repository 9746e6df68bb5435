package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/jupyter"
)

// WaitTimeout bounds WaitFor, so that a bug hangs no test for long. It is no assertion about speed.
const WaitTimeout = 30 * time.Second

// FixedHostKey is a hostkeys.Checker that accepts only Key.
type FixedHostKey struct{ Key ssh.PublicKey }

// Callback returns a callback that accepts only f.Key, whatever the host.
func (f FixedHostKey) Callback(string) ssh.HostKeyCallback { return ssh.FixedHostKey(f.Key) }

// Algorithms returns nil: any host key algorithm may be offered.
func (f FixedHostKey) Algorithms(string) []string { return nil }

// Remote is a Server whose "remote machine" is this one: an exec request for jupyter.DiscoveryCommand runs
// "sh -s" in a real /bin/sh whose HOME is Home; any other command fails with status 127.
type Remote struct {
	*Server
	// Home is the remote's home directory, a temporary directory holding an empty Jupyter runtime
	// directory (RuntimeDir).
	Home string
	// Host reaches the server: alias "fake", user "test", a generated key file and FixedHostKey.
	Host  *hostconf.Host
	execs atomic.Int64
}

// NewRemote starts a Remote that the test's cleanup stops. configure, if not nil, may change Host before
// NewRemote returns.
func NewRemote(tb testing.TB, configure func(*hostconf.Host)) *Remote {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	r := &Remote{Home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(r.RuntimeDir(), 0o700); err != nil {
		tb.Fatal(err)
	}
	r.Server = NewServer(tb, Options{AuthorizedKey: sshPub, Exec: r.exec})
	host, port, _ := net.SplitHostPort(r.Addr)
	p, _ := strconv.Atoi(port)
	r.Host = &hostconf.Host{
		Alias:         "fake",
		HostName:      host,
		Port:          p,
		User:          "test",
		IdentityFiles: []string{keyFile},
		IdentityAgent: "none",
		HostKeys:      FixedHostKey{Key: r.HostKey},
	}
	if configure != nil {
		configure(r.Host)
	}
	return r
}

// RuntimeDir is Jupyter's runtime directory under Home.
func (r *Remote) RuntimeDir() string {
	return filepath.Join(r.Home, ".local", "share", "jupyter", "runtime")
}

// Execs returns how many exec requests the remote has served. It is safe for concurrent use.
func (r *Remote) Execs() int64 { return r.execs.Load() }

// exec runs "sh -s" (the discovery command) in a real shell.
func (r *Remote) exec(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	r.execs.Add(1)
	if cmd != jupyter.DiscoveryCommand() {
		fmt.Fprintf(stderr, "unexpected command %q\n", cmd)
		return 127
	}
	c := exec.Command("/bin/sh", "-s")
	c.Env = []string{"HOME=" + r.Home, "PATH=/usr/bin:/bin", "USER=test"}
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 126
	}
	return 0
}

// LogRecorder collects the lines of a Logf function. Its methods are safe for concurrent use.
type LogRecorder struct {
	mu    sync.Mutex
	lines []string
}

// Logf records one line; it has the signature of the Logf options of proxy packages.
func (l *LogRecorder) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// Count returns how many recorded lines contain sub.
func (l *LogRecorder) Count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// String returns the recorded lines joined by newlines.
func (l *LogRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// LeakCheck fails the test if, when it ends, goroutines are running that were not running when
// LeakCheck was called.
func LeakCheck(tb testing.TB) {
	tb.Helper()
	ignore := goleak.IgnoreCurrent()
	tb.Cleanup(func() { goleak.VerifyNone(tb, ignore) })
}

// WaitFor polls cond until it holds, and fails the test if WaitTimeout passes first.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
