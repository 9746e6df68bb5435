package sshclient_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// A stalled server (the TCP connection looks alive, nothing answers) is
// noticed by keepalives: the client closes after ServerAliveCountMax
// unanswered ones and says so.
func TestKeepaliveClosesStalledConnection(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, func(h *hostconf.Host) {
		h.ServerAliveInterval = 10 * time.Millisecond
		h.ServerAliveCountMax = 3
	})
	log := &sshtest.LogRecorder{}
	c, err := sshclient.Dial(context.Background(), r.Host, sshclient.Options{Logf: log.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sshtest.WaitFor(t, "a keepalive", func() bool { return r.Keepalives() >= 1 })
	r.Stall()
	defer r.Resume()
	select {
	case <-c.Done():
	case <-time.After(ioTimeout):
		t.Fatalf("the client did not close a stalled connection within %v; log:\n%s", ioTimeout, log)
	}
	if n := log.Count("did not answer 3 keepalives"); n != 1 {
		t.Errorf("log has %d lines saying 3 keepalives went unanswered, want 1:\n%s", n, log)
	}
}

// Keepalives answered with a failure (as OpenSSH answers them) keep the
// connection up, however many are sent.
func TestKeepaliveKeepsHealthyConnection(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, func(h *hostconf.Host) {
		h.ServerAliveInterval = 5 * time.Millisecond
		h.ServerAliveCountMax = 1
	})
	c, err := sshclient.Dial(context.Background(), r.Host, sshclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sshtest.WaitFor(t, "20 keepalives", func() bool { return r.Keepalives() >= 20 })
	select {
	case <-c.Done():
		t.Fatalf("a healthy connection was closed: %v", c.Err())
	default:
	}
	if _, err := c.Output(context.Background(), "sh -s", []byte("echo ok")); err != nil {
		t.Errorf("running a command after 20 keepalives: %v", err)
	}
}

// recorder is an SSH server that records every global and channel request
// type it receives. It runs sessions' "exec" as a no-op with status 0 and
// rejects forwards.
type recorder struct {
	ln    net.Listener
	cfg   *ssh.ServerConfig
	mu    sync.Mutex
	types []string
	wg    sync.WaitGroup
}

func (rec *recorder) add(kind, typ string) {
	rec.mu.Lock()
	rec.types = append(rec.types, kind+" "+typ)
	rec.mu.Unlock()
}

func (rec *recorder) seen() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.types...)
}

func (rec *recorder) serve() {
	defer rec.wg.Done()
	for {
		c, err := rec.ln.Accept()
		if err != nil {
			return
		}
		rec.wg.Add(1)
		go func() {
			defer rec.wg.Done()
			defer c.Close()
			sc, chans, reqs, err := ssh.NewServerConn(c, rec.cfg)
			if err != nil {
				return
			}
			defer sc.Close()
			rec.wg.Add(1)
			go func() {
				defer rec.wg.Done()
				for r := range reqs {
					rec.add("global", r.Type)
					r.Reply(false, nil)
				}
			}()
			for nc := range chans {
				rec.add("channel", nc.ChannelType())
				if nc.ChannelType() != "session" {
					nc.Reject(ssh.Prohibited, "no forwarding here")
					continue
				}
				ch, creqs, err := nc.Accept()
				if err != nil {
					continue
				}
				rec.wg.Add(1)
				go func() {
					defer rec.wg.Done()
					defer ch.Close()
					for r := range creqs {
						rec.add("request", r.Type)
						r.Reply(r.Type == "exec" || r.Type == "auth-agent-req@openssh.com", nil)
						if r.Type == "exec" {
							ch.SendRequest("exit-status", false, []byte{0, 0, 0, 0})
							return
						}
					}
				}()
			}
		}()
	}
}

// Dial never asks for agent forwarding, X11 or a pty, even when an agent is
// available and used for authentication; the recorder does see such a
// request when one is made (a control), so its silence means something.
func TestDialNeverForwardsAgent(t *testing.T) {
	sshtest.LeakCheck(t)
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	userSigner, err := ssh.NewSignerFromKey(userPriv)
	if err != nil {
		t.Fatal(err)
	}
	want := string(userSigner.PublicKey().Marshal())
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == want {
			return &ssh.Permissions{}, nil
		}
		return nil, errNotAuthorized
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ln: ln, cfg: cfg}
	rec.wg.Add(1)
	go rec.serve()

	// The key is only in an agent, as it is for most users.
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: userPriv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agentLn, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var agentWG sync.WaitGroup
	agentWG.Add(1)
	go func() {
		defer agentWG.Done()
		for {
			c, err := agentLn.Accept()
			if err != nil {
				return
			}
			agentWG.Add(1)
			go func() {
				defer agentWG.Done()
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		agentLn.Close()
		rec.wg.Wait()
		agentWG.Wait()
	})

	port := ln.Addr().(*net.TCPAddr).Port
	h := &hostconf.Host{
		Alias: "rec", HostName: "127.0.0.1", Port: port, User: "u",
		HostKeys:            sshtest.FixedHostKey{Key: hostSigner.PublicKey()},
		ServerAliveInterval: 5 * time.Millisecond,
	}
	ctx := context.Background()
	c, err := sshclient.Dial(ctx, h, sshclient.Options{Getenv: func(k string) string {
		if k == "SSH_AUTH_SOCK" {
			return sock
		}
		return ""
	}})
	if err != nil {
		t.Fatalf("Dial with the key in the agent: %v", err)
	}
	if _, err := c.Output(ctx, "sh -s", []byte("true")); err != nil {
		t.Errorf("Output: %v", err)
	}
	if conn, err := c.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		conn.Close()
		t.Errorf("the recorder accepted a forward")
	}
	sshtest.WaitFor(t, "a keepalive", func() bool {
		for _, s := range rec.seen() {
			if s == "global keepalive@openssh.com" {
				return true
			}
		}
		return false
	})
	allowed := map[string]bool{
		"global keepalive@openssh.com": true,
		"channel session":              true,
		"channel direct-tcpip":         true,
		"request exec":                 true,
	}
	for _, s := range rec.seen() {
		if !allowed[s] {
			t.Errorf("the client sent %q; want only keepalives, sessions with exec, and direct-tcpip", s)
		}
	}

	// Control: a request for agent forwarding is recorded.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.RequestAgentForwarding(s); err != nil {
		t.Fatalf("control request: %v", err)
	}
	s.Close()
	c.Close()
	found := false
	for _, s := range rec.seen() {
		found = found || s == "request auth-agent-req@openssh.com"
	}
	if !found {
		t.Errorf("the recorder missed the control agent-forwarding request: %q", rec.seen())
	}
}

type authError string

func (e authError) Error() string { return string(e) }

const errNotAuthorized = authError("not authorized")
