// Package sshtest runs an in-process SSH server for fast unit tests of SSH clients and of the data path that
// rides on them: public-key, password and keyboard-interactive authentication, "session" exec requests served
// by a Go function, "direct-tcpip" forwards to loopback addresses, "direct-streamlocal@openssh.com" forwards to
// unix sockets, keepalive@openssh.com global requests, and fault injection (dropped connections, stalled
// channels, garbage on the wire).
//
// It is built on golang.org/x/crypto/ssh and is no stand-in for OpenSSH; end-to-end tests use a real sshd.
// The server listens on 127.0.0.1 only and never connects anywhere but loopback addresses and unix sockets.
package sshtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// ExecFunc serves one "exec" (or, with cmd "", "shell") request of a session channel. stdin reads what the
// client sends (io.EOF after the client's CloseWrite); stdout and stderr write to the client. The returned
// value is sent as the exit status. The server closes the channel after ExecFunc returns.
type ExecFunc func(cmd string, stdin io.Reader, stdout, stderr io.Writer) int

// Options configure a Server. The zero value is a server that accepts the generated ClientSigner for any
// user and rejects exec requests.
type Options struct {
	// User, if set, is the only user name accepted.
	User string
	// AuthorizedKey, if set, is accepted for public-key authentication instead of the generated
	// ClientSigner's key.
	AuthorizedKey ssh.PublicKey
	// NoPublicKey disables public-key authentication.
	NoPublicKey bool
	// Password, if set, enables password authentication with this password.
	Password string
	// KeyboardInteractive, if set, enables keyboard-interactive authentication: the server asks one
	// question, "Password: " with echo off, and accepts this answer.
	KeyboardInteractive string
	// Exec serves exec and shell requests. Nil rejects them.
	Exec ExecFunc
	// Ciphers, if set, restricts the server's ciphers (names as in golang.org/x/crypto/ssh).
	Ciphers []string
	// DialTimeout bounds the server's connects for direct-tcpip and direct-streamlocal. Zero means 5 s.
	DialTimeout time.Duration
}

// Server is a running in-process SSH server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the listening address, "127.0.0.1:PORT".
	Addr string
	// HostKey is the server's generated ed25519 host key.
	HostKey ssh.PublicKey
	// ClientSigner is a generated ed25519 key that the server accepts (unless Options.AuthorizedKey or
	// Options.NoPublicKey say otherwise).
	ClientSigner ssh.Signer

	tb       testing.TB
	opts     Options
	config   *ssh.ServerConfig
	listener net.Listener
	wg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	stall  chan struct{} // non-nil while stalled; closed by Resume
	done   chan struct{} // closed by Close

	keepalives atomic.Int64
	channels   atomic.Int64
}

// NewServer starts a server on 127.0.0.1:0 and registers its Close with tb.Cleanup. It calls tb.Fatal if
// the server cannot start.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := start(tb, opts)
	if err != nil {
		tb.Fatalf("starting ssh test server: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func start(tb testing.TB, opts Options) (*Server, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating host key: %w", err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, fmt.Errorf("making host signer: %w", err)
	}
	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating client key: %w", err)
	}
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	if err != nil {
		return nil, fmt.Errorf("making client signer: %w", err)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	s := &Server{
		HostKey:      hostSigner.PublicKey(),
		ClientSigner: clientSigner,
		tb:           tb,
		opts:         opts,
		conns:        make(map[net.Conn]struct{}),
		done:         make(chan struct{}),
	}
	s.config = s.serverConfig()
	s.config.AddHostKey(hostSigner)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	s.listener = ln
	s.Addr = ln.Addr().String()
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func (s *Server) serverConfig() *ssh.ServerConfig {
	authorized := s.opts.AuthorizedKey
	if authorized == nil {
		authorized = s.ClientSigner.PublicKey()
	}
	userOK := func(c ssh.ConnMetadata) bool { return s.opts.User == "" || c.User() == s.opts.User }
	cfg := &ssh.ServerConfig{}
	cfg.Ciphers = s.opts.Ciphers
	if !s.opts.NoPublicKey {
		want := authorized.Marshal()
		cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if userOK(c) && bytes.Equal(key.Marshal(), want) {
				return &ssh.Permissions{}, nil
			}
			return nil, fmt.Errorf("public key of user %q not authorized", c.User())
		}
	}
	if s.opts.Password != "" {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if userOK(c) && string(password) == s.opts.Password {
				return &ssh.Permissions{}, nil
			}
			return nil, fmt.Errorf("password of user %q rejected", c.User())
		}
	}
	if s.opts.KeyboardInteractive != "" {
		cfg.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := client(c.User(), "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if userOK(c) && len(answers) == 1 && answers[0] == s.opts.KeyboardInteractive {
				return &ssh.Permissions{}, nil
			}
			return nil, fmt.Errorf("keyboard-interactive answer of user %q rejected", c.User())
		}
	}
	return cfg
}

// ClientConfig returns a client configuration for user "test" that authenticates with ClientSigner and
// accepts only HostKey.
func (s *Server) ClientConfig() *ssh.ClientConfig {
	user := s.opts.User
	if user == "" {
		user = "test"
	}
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.ClientSigner)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
		Timeout:         10 * time.Second,
	}
}

// Dial connects an *ssh.Client to the server with cfg, or with ClientConfig() when cfg is nil, and
// registers its Close with tb.Cleanup. It calls tb.Fatal on failure.
func (s *Server) Dial(tb testing.TB, cfg *ssh.ClientConfig) *ssh.Client {
	tb.Helper()
	if cfg == nil {
		cfg = s.ClientConfig()
	}
	c, err := ssh.Dial("tcp", s.Addr, cfg)
	if err != nil {
		tb.Fatalf("dialing ssh test server %s: %v", s.Addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Keepalives reports how many keepalive@openssh.com global requests the server has received.
func (s *Server) Keepalives() int { return int(s.keepalives.Load()) }

// Channels reports how many forwarding and session channels the server has accepted.
func (s *Server) Channels() int { return int(s.channels.Load()) }

// Conns reports how many client connections are open.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// DropAll closes the underlying TCP connection of every client connected now, as a network failure
// would. New connections are still accepted.
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// SendGarbage writes bytes that are no valid SSH packet onto every client connection open now. A client
// then fails with a protocol or MAC error.
func (s *Server) SendGarbage() {
	garbage := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(garbage)
	}
}

// Stall stops the server from moving data on any channel and from answering global requests (keepalives
// included) until Resume or Close. Data the client sends piles up until the channel's flow-control window
// is full, so the client's writes block; a stalled connection looks alive at the TCP level.
func (s *Server) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall == nil {
		s.stall = make(chan struct{})
	}
}

// Resume undoes Stall.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
}

// gate blocks while the server is stalled. It reports false when the server is closing.
func (s *Server) gate() bool {
	s.mu.Lock()
	st := s.stall
	s.mu.Unlock()
	if st == nil {
		return true
	}
	select {
	case <-st:
		return true
	case <-s.done:
		return false
	}
}

// Close stops the server, closes every client connection and waits for all of the server's goroutines.
// It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.listener.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	var cwg sync.WaitGroup
	cwg.Add(1)
	go func() {
		defer cwg.Done()
		s.globalRequests(reqs)
	}()
	for nc := range chans {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			s.handleChannel(nc)
		}()
	}
	sc.Close()
	cwg.Wait()
}

func (s *Server) globalRequests(reqs <-chan *ssh.Request) {
	for r := range reqs {
		if r.Type == "keepalive@openssh.com" {
			s.keepalives.Add(1)
		}
		if !s.gate() {
			r.Reply(false, nil)
			continue
		}
		// Like OpenSSH, answer keepalives and every unknown request with a failure.
		r.Reply(false, nil)
	}
}

func (s *Server) handleChannel(nc ssh.NewChannel) {
	switch nc.ChannelType() {
	case "session":
		s.session(nc)
	case "direct-tcpip":
		s.directTCPIP(nc)
	case "direct-streamlocal@openssh.com":
		s.directStreamLocal(nc)
	default:
		nc.Reject(ssh.UnknownChannelType, "unknown channel type "+nc.ChannelType())
	}
}

func (s *Server) directTCPIP(nc ssh.NewChannel) {
	var msg struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &msg); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	host := msg.Host
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || msg.Port > 65535 {
		nc.Reject(ssh.Prohibited, fmt.Sprintf("sshtest forwards only to loopback addresses, not %s:%d", msg.Host, msg.Port))
		return
	}
	s.forward(nc, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(int(msg.Port))))
}

func (s *Server) directStreamLocal(nc ssh.NewChannel) {
	var msg struct {
		Path      string
		Reserved0 string
		Reserved1 uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &msg); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed direct-streamlocal request")
		return
	}
	s.forward(nc, "unix", msg.Path)
}

func (s *Server) forward(nc ssh.NewChannel, network, addr string) {
	d := net.Dialer{Timeout: s.opts.DialTimeout}
	backend, err := d.Dial(network, addr)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, fmt.Sprintf("connecting to %s %s: %v", network, addr, err))
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		backend.Close()
		return
	}
	s.channels.Add(1)
	// reqs is closed when the channel is gone: closed by the client, or its connection died.
	chGone := make(chan struct{})
	go func() {
		for r := range reqs {
			r.Reply(false, nil)
		}
		close(chGone)
	}()

	// Copy both ways with half-close; tear down when both directions are done, the channel is gone, or
	// the server shuts down.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.pump(backend, ch)
		closeWrite(backend)
	}()
	go func() {
		defer wg.Done()
		s.pump(ch, backend)
		ch.CloseWrite()
	}()
	go func() {
		wg.Wait()
		close(stop)
	}()
	select {
	case <-stop:
	case <-chGone:
	case <-s.done:
	}
	ch.Close()
	backend.Close()
	<-stop
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}

// pump copies src to dst until EOF or an error, honouring Stall before every write.
func (s *Server) pump(dst io.Writer, src io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !s.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) session(nc ssh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	s.channels.Add(1)
	defer ch.Close()
	ran := false
	for {
		var r *ssh.Request
		select {
		case r = <-reqs:
		case <-s.done:
			return
		}
		if r == nil {
			return
		}
		switch r.Type {
		case "exec", "shell":
			if ran || s.opts.Exec == nil {
				r.Reply(false, nil)
				continue
			}
			var cmd string
			if r.Type == "exec" {
				var msg struct{ Command string }
				if err := ssh.Unmarshal(r.Payload, &msg); err != nil {
					r.Reply(false, nil)
					continue
				}
				cmd = msg.Command
			}
			ran = true
			r.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			s.run(ch, cmd)
			return
		case "env":
			r.Reply(true, nil)
		default:
			r.Reply(false, nil)
		}
	}
}

// run serves one exec request on ch and sends its exit status. It returns early, abandoning the handler's
// result, when the server closes; closing ch then unblocks a handler that reads or writes it.
func (s *Server) run(ch ssh.Channel, cmd string) {
	result := make(chan int, 1)
	go func() {
		status := s.opts.Exec(cmd, ch, gatedWriter{s, ch}, gatedWriter{s, ch.Stderr()})
		result <- status
	}()
	var status int
	select {
	case status = <-result:
	case <-s.done:
		ch.Close()
		<-result
		return
	}
	var payload [4]byte
	binary.BigEndian.PutUint32(payload[:], uint32(status))
	ch.SendRequest("exit-status", false, payload[:])
}

type gatedWriter struct {
	s *Server
	w io.Writer
}

func (g gatedWriter) Write(p []byte) (int, error) {
	if !g.s.gate() {
		return 0, errors.New("sshtest: server closed")
	}
	return g.w.Write(p)
}
