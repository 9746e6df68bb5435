package proxy

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/cpu"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// Defaults applied when the host's config leaves a setting unset.
const (
	// DefaultConnectTimeout bounds the TCP connect and the non-interactive
	// part of the SSH handshake when ConnectTimeout is unset.
	DefaultConnectTimeout = 20 * time.Second
	// DefaultKeepaliveInterval is used when ServerAliveInterval is unset:
	// a dead link is noticed in seconds rather than at the TCP timeout.
	DefaultKeepaliveInterval = 15 * time.Second
	// DefaultKeepaliveCountMax is OpenSSH's ServerAliveCountMax default.
	DefaultKeepaliveCountMax = 3
)

// Prompter asks the user for secrets. A nil Prompter means that nothing may
// be asked: only agent keys and unencrypted identity files are tried. Calls
// come from one goroutine at a time.
type Prompter interface {
	// Passphrase asks for the passphrase of the private key in file.
	Passphrase(ctx context.Context, file string) ([]byte, error)
	// Password asks for the password of user@host.
	Password(ctx context.Context, user, host string) (string, error)
	// Challenge answers one keyboard-interactive round (a 2FA code, say).
	Challenge(ctx context.Context, user, host, instruction string, questions []string, echos []bool) ([]string, error)
}

// Options tune Dial. The zero value is usable.
type Options struct {
	Prompter Prompter
	// Getenv reads the environment (SSH_AUTH_SOCK); nil means no variables.
	Getenv func(string) string
	// Logf receives progress and non-fatal problems; nil discards them.
	Logf func(format string, args ...any)
	// Stderr receives a ProxyCommand's standard error; nil discards it.
	Stderr io.Writer
	// NoMaster ignores an existing ControlMaster socket.
	NoMaster bool
	// MasterOnly rides the ControlMaster socket and never authenticates;
	// Dial fails with ErrNoMaster when there is no usable master.
	MasterOnly bool
	// LoadPPK parses a PuTTY .ppk private key; nil means .ppk identity
	// files are skipped with a message.
	LoadPPK func(data []byte, passphrase func() ([]byte, error)) (ssh.Signer, error)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// ErrNoMaster is returned by Dial with MasterOnly when no ControlMaster
// answers on the host's ControlPath.
var ErrNoMaster = errors.New("no ControlMaster is running for this host")

// AuthError reports that the server accepted none of the credentials tried.
type AuthError struct {
	User  string
	Addr  string
	Tried []string // what was offered: "agent key SHA256:...", "~/.ssh/id_ed25519", "password"...
	// Unusable names each key file that could not be offered and why:
	// "key file PATH does not exist", "key file PATH: the key is encrypted
	// and ...". OpenSSH's default key files that do not exist are left out.
	Unusable []string
	Err      error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("authenticating as %s to %s: ", e.User, e.Addr)
	if len(e.Unusable) > 0 {
		msg += strings.Join(e.Unusable, "; ") + "; "
	}
	if len(e.Tried) == 0 {
		return msg + fmt.Sprintf("no credential to offer: %v", e.Err)
	}
	return msg + fmt.Sprintf("no credential was accepted (tried %s): %v", strings.Join(e.Tried, ", "), e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Client is one SSH connection to a host, established directly, through a
// jump chain or a ProxyCommand, or multiplexed over an OpenSSH ControlMaster.
// It is safe for concurrent use. Close releases it and everything it rides
// on (jump connections, the ProxyCommand process).
type Client struct {
	*ssh.Client
	Host *hostconf.Host
	// ViaMaster is true when the connection rides a ControlMaster.
	ViaMaster bool

	mu      sync.Mutex
	closers []io.Closer
	closed  chan struct{}
	once    sync.Once
	waitErr error
}

// Dial connects to h as the user's OpenSSH client would and returns the
// authenticated connection. It never forwards the agent.
func Dial(ctx context.Context, h *hostconf.Host, o Options) (*Client, error) {
	if h.HostKeys == nil && !o.MasterOnly {
		return nil, fmt.Errorf("connecting to %s: no host-key database is configured", h.Addr())
	}
	if !o.NoMaster && h.ControlPath != "" && h.ControlPath != "none" {
		c, err := dialMaster(ctx, h)
		if err == nil {
			o.logf("using the ControlMaster at %s", h.ControlPath)
			return c, nil
		}
		if o.MasterOnly {
			return nil, err
		}
		if !errors.Is(err, ErrNoMaster) {
			o.logf("not using the ControlMaster at %s: %v", h.ControlPath, err)
		}
	} else if o.MasterOnly {
		return nil, fmt.Errorf("connecting through the ControlMaster of %s: %w (no ControlPath is configured)", h.Alias, ErrNoMaster)
	}
	transport, closers, err := DialTransport(ctx, h, o)
	if err != nil {
		return nil, err
	}
	c, err := handshake(ctx, transport, h, o)
	if err != nil {
		closeAll(closers)
		return nil, err
	}
	c.closers = append(c.closers, closers...)
	c.startKeepalive(h, o)
	return c, nil
}

func dialMaster(ctx context.Context, h *hostconf.Host) (*Client, error) {
	if _, err := os.Stat(h.ControlPath); err != nil {
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w", h.ControlPath, ErrNoMaster)
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "unix", h.ControlPath)
	if err != nil {
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w (%v)", h.ControlPath, ErrNoMaster, err)
	}
	stop := closeAfter(conn, 10*time.Second)
	sc, chans, reqs, err := ssh.NewControlClientConn(conn)
	if !stop() {
		err = fmt.Errorf("the master did not answer within 10s")
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting through the ControlMaster at %s: %w", h.ControlPath, err)
	}
	c := newClient(sc, chans, reqs, h)
	c.ViaMaster = true
	return c, nil
}

func newClient(sc ssh.Conn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, h *hostconf.Host) *Client {
	c := &Client{Client: ssh.NewClient(sc, chans, reqs), Host: h, closed: make(chan struct{})}
	go func() {
		err := c.Client.Wait()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
		c.once.Do(func() { close(c.closed) })
	}()
	return c
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.closed }

// Err returns why the connection ended, once Done is closed.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitErr
}

// masterCloseGrace is how long Close waits before leaving a ControlMaster:
// an OpenSSH 9.2 master in proxy mode can exit (taking the user's sessions
// with it) when a mux client goes away while a channel close it sent is
// still in flight.
const masterCloseGrace = 300 * time.Millisecond

// Close closes the connection and what it rides on. Over a ControlMaster
// it first waits masterCloseGrace for channel closes to complete.
func (c *Client) Close() error {
	if c.ViaMaster {
		select {
		case <-c.closed:
		case <-time.After(masterCloseGrace):
		}
	}
	err := c.Client.Close()
	c.mu.Lock()
	closers := c.closers
	c.closers = nil
	c.mu.Unlock()
	closeAll(closers)
	return err
}

func closeAll(cs []io.Closer) {
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].Close()
	}
}

// closeAfter closes c unless the returned stop function is called within d.
// stop reports whether it was called in time.
func closeAfter(c io.Closer, d time.Duration) (stop func() bool) {
	t := time.AfterFunc(d, func() { c.Close() })
	return t.Stop
}

func connectTimeout(h *hostconf.Host) time.Duration {
	if h.ConnectTimeout > 0 {
		return h.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// DialTransport returns a byte stream to h's SSH server, as the user's ssh
// would reach it before its own handshake: through h's ProxyCommand, through
// its ProxyJump chain (each hop authenticated as its own host), or over TCP.
// The closers release the jump connections or the command; the caller closes
// them after the stream.
func DialTransport(ctx context.Context, h *hostconf.Host, o Options) (net.Conn, []io.Closer, error) {
	switch {
	case h.ProxyCommand != "" && h.ProxyCommand != "none":
		c, err := commandConn(h.ProxyCommand, o.Stderr)
		if err != nil {
			return nil, nil, fmt.Errorf("starting ProxyCommand for %s: %w", h.Alias, err)
		}
		return c, nil, nil
	case len(h.ProxyJump) > 0:
		return dialJumps(ctx, h, o)
	default:
		d := net.Dialer{Timeout: connectTimeout(h), KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, "tcp", h.Addr())
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", h.Addr(), err)
		}
		return c, nil, nil
	}
}

func dialJumps(ctx context.Context, h *hostconf.Host, o Options) (net.Conn, []io.Closer, error) {
	var closers []io.Closer
	first := h.ProxyJump[0]
	jo := o
	jo.MasterOnly = false
	prev, err := Dial(ctx, first, jo)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to jump host %s: %w", first.Alias, err)
	}
	closers = append(closers, prev)
	for _, hop := range h.ProxyJump[1:] {
		conn, err := prev.DialContext(ctx, "tcp", hop.Addr())
		if err != nil {
			closeAll(closers)
			return nil, nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", prev.Host.Alias, hop.Addr(), err)
		}
		next, err := handshake(ctx, conn, hop, jo)
		if err != nil {
			closeAll(closers)
			return nil, nil, fmt.Errorf("connecting to jump host %s: %w", hop.Alias, err)
		}
		closers = append(closers, next)
		prev = next
	}
	conn, err := prev.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		closeAll(closers)
		return nil, nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", prev.Host.Alias, h.Addr(), err)
	}
	return conn, closers, nil
}

// DialVia connects to h through a channel of an established connection
// (the last jump host, say), so one jump chain can carry several
// connections to the target: the user's ssh stream and our own.
func DialVia(ctx context.Context, via *Client, h *hostconf.Host, o Options) (*Client, error) {
	conn, err := via.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		return nil, fmt.Errorf("opening a channel from jump host %s to %s: %w", via.Host.Alias, h.Addr(), err)
	}
	c, err := handshake(ctx, conn, h, o)
	if err != nil {
		return nil, err
	}
	c.startKeepalive(h, o)
	return c, nil
}

// preferredCiphers puts AES-GCM first where the CPU has AES instructions and
// ChaCha20-Poly1305 first where it does not.
func preferredCiphers(user []string) []string {
	if len(user) > 0 {
		return user
	}
	hasAES := cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ || cpu.ARM64.HasAES && cpu.ARM64.HasPMULL || cpu.S390X.HasAES
	if hasAES {
		return []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
	}
	return []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
}

func handshake(ctx context.Context, conn net.Conn, h *hostconf.Host, o Options) (*Client, error) {
	user := h.User
	if user == "" {
		user = o.getenv("USER")
	}
	timeout := connectTimeout(h)
	if timeout < DefaultConnectTimeout {
		timeout = DefaultConnectTimeout
	}
	g := &guard{conn: conn, timeout: timeout}
	g.arm()
	defer g.disarm()
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopCtx()

	auth := &authState{h: h, o: o, user: user, guard: g, ctx: ctx}
	defer func() {
		if auth.agentConn != nil {
			auth.agentConn.Close()
		}
	}()
	// Both checkers (known_hosts, PuTTY's cache) take host:port and apply
	// HostKeyAlias themselves.
	name := h.Addr()
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              auth.methods(),
		HostKeyCallback:   h.HostKeys.Callback(name),
		HostKeyAlgorithms: h.HostKeys.Algorithms(name),
		ClientVersion:     "SSH-2.0-nbtunnel",
	}
	if len(cfg.HostKeyAlgorithms) == 0 && len(h.HostKeyAlgorithms) > 0 {
		cfg.HostKeyAlgorithms = h.HostKeyAlgorithms
	}
	cfg.Ciphers = preferredCiphers(h.Ciphers)
	sc, chans, reqs, err := ssh.NewClientConn(conn, h.Addr(), cfg)
	if err != nil {
		conn.Close()
		var hk *hostconf.HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if g.fired() {
			return nil, fmt.Errorf("connecting to %s: the SSH handshake did not finish within %v", h.Addr(), timeout)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &AuthError{User: user, Addr: h.Addr(), Tried: auth.tried, Unusable: auth.unusable, Err: err}
		}
		return nil, fmt.Errorf("connecting to %s: %w", h.Addr(), err)
	}
	return newClient(sc, chans, reqs, h), nil
}

// guard closes the connection when the handshake stalls. Prompts pause it:
// a person typing a 2FA code is not a stall.
type guard struct {
	conn    net.Conn
	timeout time.Duration
	mu      sync.Mutex
	t       *time.Timer
	didFire bool
}

func (g *guard) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.t = time.AfterFunc(g.timeout, func() {
		g.mu.Lock()
		g.didFire = true
		g.mu.Unlock()
		g.conn.Close()
	})
}

func (g *guard) disarm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.t != nil {
		g.t.Stop()
	}
}

func (g *guard) fired() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.didFire
}

// pause stops the timer around an interactive prompt.
func (g *guard) pause(f func() error) error {
	g.disarm()
	defer g.arm()
	return f()
}

type authState struct {
	ctx   context.Context
	h     *hostconf.Host
	o     Options
	user  string
	guard *guard
	tried []string
	// agentConn is the agent connection opened for this handshake.
	agentConn net.Conn
	// unusable says which key files could not be offered, and why.
	unusable []string
}

func (a *authState) methods() []ssh.AuthMethod {
	m := []ssh.AuthMethod{ssh.PublicKeysCallback(a.signers)}
	if a.o.Prompter == nil {
		return m
	}
	if a.h.KbdInteractiveAuthentication == nil || *a.h.KbdInteractiveAuthentication {
		m = append(m, ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			if len(questions) == 0 {
				return nil, nil
			}
			a.tried = append(a.tried, "keyboard-interactive")
			var answers []string
			err := a.guard.pause(func() error {
				var err error
				answers, err = a.o.Prompter.Challenge(a.ctx, a.user, a.h.HostName, strings.TrimSpace(name+"\n"+instruction), questions, echos)
				return err
			})
			return answers, err
		}))
	}
	if a.h.PasswordAuthentication == nil || *a.h.PasswordAuthentication {
		m = append(m, ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			a.tried = append(a.tried, "password")
			var pw string
			err := a.guard.pause(func() error {
				var err error
				pw, err = a.o.Prompter.Password(a.ctx, a.user, a.h.HostName)
				return err
			})
			return pw, err
		}), 3))
	}
	return m
}

// signers lists agent keys first, then identity files, as OpenSSH does.
// Encrypted keys are decrypted only when the server accepts their public half.
func (a *authState) signers() ([]ssh.Signer, error) {
	var files []ssh.Signer
	var filePubs [][]byte
	for _, path := range a.h.IdentityFiles {
		s, err := a.identity(path)
		if err != nil {
			a.o.logf("skipping identity file %s: %v", path, err)
			a.unusable = append(a.unusable, fmt.Sprintf("key file %s: %v", path, err))
			continue
		}
		if s == nil {
			if !isDefaultIdentity(path) {
				a.unusable = append(a.unusable, fmt.Sprintf("key file %s does not exist", path))
			}
			continue
		}
		files = append(files, s)
		filePubs = append(filePubs, s.PublicKey().Marshal())
	}
	var out []ssh.Signer
	seen := map[string]bool{}
	for _, s := range a.agentSigners() {
		pub := s.PublicKey().Marshal()
		if a.h.IdentitiesOnly && !containsBytes(filePubs, pub) {
			continue
		}
		seen[string(pub)] = true
		a.tried = append(a.tried, "agent key "+ssh.FingerprintSHA256(s.PublicKey()))
		out = append(out, s)
	}
	for i, s := range files {
		if seen[string(filePubs[i])] {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

func (a *authState) agentSigners() []ssh.Signer {
	sock := a.h.IdentityAgent
	switch sock {
	case "none":
		return nil
	case "", "SSH_AUTH_SOCK":
		sock = a.o.getenv("SSH_AUTH_SOCK")
	}
	if sock == "" {
		sock = defaultAgent
	}
	if sock == "" {
		return nil
	}
	conn, err := dialAgent(a.ctx, sock)
	if err != nil {
		a.o.logf("not using the agent at %s: %v", sock, err)
		return nil
	}
	ag := agent.NewClient(conn)
	stop := closeAfter(conn, 5*time.Second)
	signers, err := ag.Signers()
	stop()
	if err != nil {
		conn.Close()
		a.o.logf("not using the agent at %s: %v", sock, err)
		return nil
	}
	// The agent connection stays open for signing during authentication;
	// handshake closes it when authentication is over.
	a.agentConn = conn
	return signers
}

// isDefaultIdentity reports whether path is one of the key files OpenSSH
// tries when no IdentityFile is set (~/.ssh/id_rsa, ...): their absence is
// normal.
func isDefaultIdentity(path string) bool {
	switch filepath.Base(path) {
	case "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa":
		return filepath.Base(filepath.Dir(path)) == ".ssh"
	}
	return false
}

// identity loads one identity file. It returns nil, nil for a file that
// does not exist.
func (a *authState) identity(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.ToLower(path), ".ppk") {
		return a.ppkIdentity(path, data)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		a.tried = append(a.tried, path)
		return withCert(path, s), nil
	case errors.As(err, &missing):
		pub := missing.PublicKey
		if pub == nil {
			pub = readPub(path + ".pub")
		}
		if pub == nil {
			return nil, fmt.Errorf("the key is encrypted and %s.pub is missing", path)
		}
		if a.o.Prompter == nil {
			return nil, errors.New("the key is encrypted and no prompt is possible here (add it to your agent: ssh-add " + path + ")")
		}
		a.tried = append(a.tried, path)
		return withCert(path, &lazySigner{pub: pub, load: func() (ssh.Signer, error) {
			var s ssh.Signer
			err := a.guard.pause(func() error {
				for try := 0; try < 3; try++ {
					pass, err := a.o.Prompter.Passphrase(a.ctx, path)
					if err != nil {
						return err
					}
					s, err = ssh.ParsePrivateKeyWithPassphrase(data, pass)
					if err == nil {
						return nil
					}
					if !errors.Is(err, x509.IncorrectPasswordError) {
						return err
					}
					a.o.logf("bad passphrase for %s", path)
				}
				return fmt.Errorf("no correct passphrase for %s", path)
			})
			return s, err
		}}), nil
	default:
		return nil, err
	}
}

func (a *authState) ppkIdentity(path string, data []byte) (ssh.Signer, error) {
	if a.o.LoadPPK == nil {
		return nil, errors.New("PuTTY keys are not supported here")
	}
	s, err := a.o.LoadPPK(data, func() ([]byte, error) {
		if a.o.Prompter == nil {
			return nil, errors.New("the key is encrypted and no prompt is possible here (load it into your agent or Pageant)")
		}
		var pass []byte
		err := a.guard.pause(func() error {
			var err error
			pass, err = a.o.Prompter.Passphrase(a.ctx, path)
			return err
		})
		return pass, err
	})
	if err != nil {
		return nil, err
	}
	a.tried = append(a.tried, path)
	return s, nil
}

func readPub(path string) ssh.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	return pub
}

// withCert pairs s with the OpenSSH certificate beside its file, if any.
func withCert(path string, s ssh.Signer) ssh.Signer {
	pub := readPub(path + "-cert.pub")
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return s
	}
	cs, err := ssh.NewCertSigner(cert, s)
	if err != nil {
		return s
	}
	return cs
}

// lazySigner knows its public key up front and decrypts the private key the
// first time it must sign, so a passphrase is asked only for a key the
// server accepts.
type lazySigner struct {
	pub  ssh.PublicKey
	load func() (ssh.Signer, error)
	mu   sync.Mutex
	s    ssh.Signer
	err  error
}

func (l *lazySigner) PublicKey() ssh.PublicKey { return l.pub }

func (l *lazySigner) signer() (ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s == nil && l.err == nil {
		l.s, l.err = l.load()
	}
	return l.s, l.err
}

func (l *lazySigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := l.signer()
	if err != nil {
		return nil, err
	}
	return s.Sign(rand, data)
}

func (l *lazySigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := l.signer()
	if err != nil {
		return nil, err
	}
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand, data, algorithm)
	}
	return s.Sign(rand, data)
}

func (l *lazySigner) Algorithms() []string {
	switch l.pub.Type() {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	default:
		return []string{l.pub.Type()}
	}
}

func (c *Client) startKeepalive(h *hostconf.Host, o Options) {
	interval := h.ServerAliveInterval
	if interval <= 0 {
		interval = DefaultKeepaliveInterval
	}
	max := h.ServerAliveCountMax
	if max <= 0 {
		max = DefaultKeepaliveCountMax
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		missed := 0
		for {
			select {
			case <-c.closed:
				return
			case <-t.C:
			}
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					return // the connection is gone; Wait reports why
				}
				missed = 0
			case <-time.After(interval):
				missed++
				if missed >= max {
					o.logf("%s did not answer %d keepalives %v apart: closing the connection", h.Alias, missed, interval)
					c.Close()
					return
				}
			case <-c.closed:
				return
			}
		}
	}()
}

// ExitError reports a remote command's non-zero exit status.
type ExitError struct {
	Command string
	Status  int
	Stderr  []byte
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(string(e.Stderr))
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 && len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	if msg == "" {
		return fmt.Sprintf("remote command %q exited with status %d", e.Command, e.Status)
	}
	return fmt.Sprintf("remote command %q exited with status %d: %s", e.Command, e.Status, msg)
}

// Run runs cmd on the remote host with stdin as its standard input, copying
// its output to stdout and stderr (either may be nil to discard), and
// returns its exit status. Cancelling ctx ends the session.
func (c *Client) Run(ctx context.Context, cmd string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	s, err := c.NewSession()
	if err != nil {
		return -1, fmt.Errorf("opening a session: %w", err)
	}
	defer s.Close()
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	s.Stdout, s.Stderr = stdout, stderr
	stop := context.AfterFunc(ctx, func() {
		s.Signal(ssh.SIGTERM)
		s.Close()
	})
	defer stop()
	err = s.Run(cmd)
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("running remote command %q: %w", cmd, err)
	}
	return 0, nil
}

// Output runs cmd with stdin and returns its standard output. A non-zero
// exit is an *ExitError carrying the command's standard error.
func (c *Client) Output(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	var out, errb limitedBuffer
	out.max, errb.max = 64<<20, 64<<10
	status, err := c.Run(ctx, cmd, stdin, &out, &errb)
	if err != nil {
		return nil, err
	}
	if status != 0 {
		return out.Bytes(), &ExitError{Command: cmd, Status: status, Stderr: errb.Bytes()}
	}
	return out.Bytes(), nil
}

// limitedBuffer keeps at most max bytes (the first for stdout-like data)
// so a hostile remote cannot exhaust memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// commandConn runs command as the platform's OpenSSH runs a ProxyCommand
// (see proxyCommandCmd) and presents its stdin and stdout as a net.Conn.
func commandConn(command string, stderr io.Writer) (net.Conn, error) {
	cmd, err := proxyCommandCmd(command)
	if err != nil {
		return nil, err
	}
	if stderr == nil {
		stderr = io.Discard
	}
	cmd.Stderr = stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &cmdConn{cmd: cmd, r: r, w: w}, nil
}

type cmdConn struct {
	cmd  *exec.Cmd
	r    io.ReadCloser
	w    io.WriteCloser
	once sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *cmdConn) CloseWrite() error           { return c.w.Close() }
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
	})
	return nil
}
func (c *cmdConn) LocalAddr() net.Addr                { return cmdAddr{} }
func (c *cmdConn) RemoteAddr() net.Addr               { return cmdAddr{} }
func (c *cmdConn) SetDeadline(t time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }

type cmdAddr struct{}

func (cmdAddr) Network() string { return "proxycommand" }
func (cmdAddr) String() string  { return "proxycommand" }
