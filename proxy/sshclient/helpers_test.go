package sshclient_test

// Helpers shared by this package's tests; proxy/tunnel's tests have the
// same remote (an sshtest server running a real /bin/sh).

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
	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/jupyter"
)

// fixedHostKey accepts only one host key.
type fixedHostKey struct{ key ssh.PublicKey }

func (f fixedHostKey) Callback(string) ssh.HostKeyCallback { return ssh.FixedHostKey(f.key) }
func (f fixedHostKey) Algorithms(string) []string          { return nil }

// remote is an sshtest server that runs the discovery script in a shell
// whose HOME is Home.
type remote struct {
	*sshtest.Server
	Home  string
	Host  *hostconf.Host
	execs atomic.Int64
}

func newRemote(t *testing.T, configure func(*hostconf.Host)) *remote {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	r := &remote{Home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(filepath.Join(r.Home, ".local", "share", "jupyter", "runtime"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.Server = sshtest.NewServer(t, sshtest.Options{AuthorizedKey: sshPub, Exec: r.exec})
	host, port, _ := net.SplitHostPort(r.Addr)
	p, _ := strconv.Atoi(port)
	r.Host = &hostconf.Host{
		Alias:         "fake",
		HostName:      host,
		Port:          p,
		User:          "test",
		IdentityFiles: []string{keyFile},
		IdentityAgent: "none",
		HostKeys:      fixedHostKey{r.HostKey},
	}
	if configure != nil {
		configure(r.Host)
	}
	return r
}

// exec runs "sh -s" (the discovery command) in a real shell.
func (r *remote) exec(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
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

// logRecorder collects Logf lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) count(sub string) int {
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

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func leakCheck(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// ioTimeout bounds every blocking read or write in these tests, so that a bug hangs no test for long. It
// is no assertion about speed.
const ioTimeout = 30 * time.Second

// waitFor polls cond until it holds or ioTimeout passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
