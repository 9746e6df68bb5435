package testbed

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configures Start.
type Options struct {
	// TempDir is the parent directory of Bed.Dir; "" means os.TempDir().
	TempDir string
}

// Bed is one run's set of test hosts. Its exported fields are set by Start and never change afterwards;
// the files they name are rewritten by AddHost (and by UpdateKnownHosts).
type Bed struct {
	// Dir is the bed's private directory (mode 0700, owned by root) holding keys, configs and logs.
	Dir string
	// ClientKey is an ed25519 private key file (OpenSSH format, no passphrase) authorized for every host's user.
	ClientKey string
	// ClientPublicKey is ClientKey's public half in authorized_keys format (no trailing newline).
	ClientPublicKey string
	// KnownHosts is an OpenSSH known_hosts file listing every host by its address ("[addr]:port" when the
	// port is not 22).
	KnownHosts string
	// SSHConfig is an ssh_config file with one Host block per host alias: HostName, Port, User,
	// IdentityFile ClientKey, IdentitiesOnly yes, UserKnownHostsFile KnownHosts, StrictHostKeyChecking yes,
	// ConnectTimeout, and ProxyJump for hosts behind a jump host.
	SSHConfig string
	// Run is the random suffix of this bed's names (8 hex digits).
	Run string

	state string // /run/nbtunnel-testbed/RUN, holding owner.lock and resources
	owner *os.File

	mu      sync.Mutex
	hosts   []*Host
	nlinks  int
	nppk    int
	procs   []*proc
	closed  bool
	closeCh chan struct{}
	err     error
}

// stateRoot holds one directory per live or crashed run, plus the global lock file.
const stateRoot = "/run/nbtunnel-testbed"

// namePrefix starts every namespace, link and user name the bed makes.
const namePrefix = "nbt"

// New is Require followed by Start, with Close registered through t.Cleanup. It fails the test when Start fails.
func New(t testing.TB, extra ...string) *Bed {
	t.Helper()
	Require(t, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := Start(ctx, Options{})
	if err != nil {
		t.Fatalf("starting test bed: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing test bed: %v", err)
		}
	})
	return b
}

// Start makes a new Bed with no hosts: it removes what crashed runs left behind, creates Dir, the client key,
// an empty known_hosts and an empty ssh_config. The caller must call Close, also when AddHost fails.
// It needs root.
func Start(ctx context.Context, opts Options) (*Bed, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("starting test bed: not root")
	}
	runBytes := make([]byte, 4)
	if _, err := rand.Read(runBytes); err != nil {
		return nil, fmt.Errorf("starting test bed: %w", err)
	}
	b := &Bed{Run: hex.EncodeToString(runBytes), closeCh: make(chan struct{})}

	if err := os.MkdirAll(stateRoot, 0o700); err != nil {
		return nil, fmt.Errorf("starting test bed: %w", err)
	}
	unlock, err := globalLock(ctx)
	if err != nil {
		return nil, err
	}
	cleanStale(ctx)
	b.state = filepath.Join(stateRoot, b.Run)
	err = os.Mkdir(b.state, 0o700)
	if err == nil {
		b.owner, err = lockFile(filepath.Join(b.state, "owner.lock"))
	}
	unlock()
	if err != nil {
		return nil, fmt.Errorf("starting test bed: making state directory %s: %w", b.state, err)
	}

	dir, err := os.MkdirTemp(opts.TempDir, "nbtunnel-testbed-"+b.Run+"-")
	if err == nil {
		err = os.Chmod(dir, 0o700)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("starting test bed: making directory: %w", err)
	}
	b.Dir = dir
	if err := b.record("dir", dir); err != nil {
		b.Close()
		return nil, err
	}
	b.ClientKey = filepath.Join(dir, "client_ed25519")
	b.KnownHosts = filepath.Join(dir, "known_hosts")
	b.SSHConfig = filepath.Join(dir, "ssh_config")
	pub, err := writeKey(b.ClientKey, "nbtunnel-testbed-client")
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("starting test bed: %w", err)
	}
	b.ClientPublicKey = pub
	if err := os.WriteFile(b.ClientKey+".pub", []byte(pub+"\n"), 0o644); err != nil {
		b.Close()
		return nil, fmt.Errorf("starting test bed: writing %s.pub: %w", b.ClientKey, err)
	}
	if err := b.writeClientFiles(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// writeKey writes a new ed25519 private key in OpenSSH format to path (mode 0600) and returns its public key
// in authorized_keys format without the trailing newline.
func writeKey(path, comment string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generating key %s: %w", path, err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", fmt.Errorf("encoding key %s: %w", path, err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding key %s: %w", path, err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), nil
}

// writeFileAtomic replaces path with data through a temporary file in the same directory.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Hosts returns the hosts added so far, in order.
func (b *Bed) Hosts() []*Host {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Host(nil), b.hosts...)
}

// Host returns the host with the given alias, or nil.
func (b *Bed) Host(alias string) *Host {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.hosts {
		if h.Alias == alias {
			return h
		}
	}
	return nil
}

// UpdateKnownHosts rewrites KnownHosts with every host's current key (after ChangeHostKey, for example).
func (b *Bed) UpdateKnownHosts() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeKnownHostsLocked()
}

func (b *Bed) writeClientFiles() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.writeKnownHostsLocked(); err != nil {
		return err
	}
	var cfg bytes.Buffer
	fmt.Fprintf(&cfg, "# nbtunnel test bed %s: generated, rewritten by AddHost\n", b.Run)
	for _, h := range b.hosts {
		fmt.Fprintf(&cfg, "\nHost %s\n", h.Alias)
		fmt.Fprintf(&cfg, "\tHostName %s\n", h.Addr)
		fmt.Fprintf(&cfg, "\tPort %d\n", h.Port)
		fmt.Fprintf(&cfg, "\tUser %s\n", h.User)
		fmt.Fprintf(&cfg, "\tIdentityFile %s\n", b.ClientKey)
		fmt.Fprintf(&cfg, "\tIdentitiesOnly yes\n")
		fmt.Fprintf(&cfg, "\tUserKnownHostsFile %s\n", b.KnownHosts)
		fmt.Fprintf(&cfg, "\tStrictHostKeyChecking yes\n")
		fmt.Fprintf(&cfg, "\tConnectTimeout 10\n")
		if h.JumpAlias != "" {
			fmt.Fprintf(&cfg, "\tProxyJump %s\n", h.JumpAlias)
		}
	}
	return writeFileAtomic(b.SSHConfig, cfg.Bytes(), 0o644)
}

func (b *Bed) writeKnownHostsLocked() error {
	var kh bytes.Buffer
	for _, h := range b.hosts {
		name := knownHostsName(h.Addr, h.Port)
		if h.byAlias {
			name = knownHostsName(h.Alias, h.Port) + "," + name
		}
		fmt.Fprintf(&kh, "%s %s\n", name, h.HostKey)
	}
	return writeFileAtomic(b.KnownHosts, kh.Bytes(), 0o644)
}

func knownHostsName(addr string, port int) string {
	if port == 22 {
		return addr
	}
	return fmt.Sprintf("[%s]:%d", addr, port)
}

// record appends a resource line to the run's state file before the resource is made, so that a crashed run's
// leftovers can be found.
func (b *Bed) record(kind, name string) error {
	f, err := os.OpenFile(filepath.Join(b.state, "resources"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("recording %s %s: %w", kind, name, err)
	}
	_, err = fmt.Fprintf(f, "%s %s\n", kind, name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording %s %s: %w", kind, name, err)
	}
	return nil
}

// Close kills (SIGKILL) every Jupyter and sshd the bed started, every remaining process in its namespaces or
// running as its users, and removes namespaces, links, routes, users, Dir and the state directory.
// It is idempotent and safe for concurrent use; every call returns the first call's result. It gives up on
// stuck steps after bounded waits (about a minute in the worst case) and reports them.
func (b *Bed) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.closeCh
		return b.err
	}
	b.closed = true
	procs := append([]*proc(nil), b.procs...)
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var errs []error
	// No polite stop: homes, runtime files and logs are removed below anyway.
	for _, p := range procs {
		p.signalGroup(sigKILL)
	}
	if b.state != "" {
		unlock, err := globalLock(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			res, err := readResources(b.state)
			if err != nil {
				errs = append(errs, err)
			}
			if err := cleanupResources(ctx, res); err != nil {
				errs = append(errs, err)
			}
			if err := os.RemoveAll(b.state); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", b.state, err))
			}
			unlock()
		}
	}
	for _, p := range procs {
		if !p.waitUntil(time.Now().Add(2 * time.Second)) {
			errs = append(errs, fmt.Errorf("process %d (%s) did not exit", p.pid(), p.name))
		}
	}
	if b.owner != nil {
		b.owner.Close()
	}
	b.err = errors.Join(errs...)
	if b.err != nil {
		b.err = fmt.Errorf("closing test bed %s: %w", b.Run, b.err)
	}
	close(b.closeCh)
	return b.err
}

func (b *Bed) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// addProc registers p so Close stops it; it refuses (and kills p) when the bed is closed.
func (b *Bed) addProc(p *proc) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		p.signalGroup(sigKILL)
		return errors.New("test bed is closed")
	}
	b.procs = append(b.procs, p)
	return nil
}

// SSHCommand returns an exec.Cmd running the real OpenSSH client against the bed:
// "ssh -F SSHConfig -o BatchMode=yes ARGS...". Put options before the alias, e.g. ("-N", "-L", spec, "lab").
func (b *Bed) SSHCommand(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ssh", append([]string{"-F", b.SSHConfig, "-o", "BatchMode=yes"}, args...)...)
}
