package sshtest_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoServer accepts on ln and echoes every connection until EOF, then closes it.
func echoServer(t *testing.T, ln net.Listener) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
}

func TestExec(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{
		Exec: func(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
			in, _ := io.ReadAll(stdin)
			io.WriteString(stdout, cmd+":"+string(in))
			io.WriteString(stderr, "err")
			return 3
		},
	})
	c := s.Dial(t, nil)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdin = strings.NewReader("input")
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	err = sess.Run("hello")
	var exit *ssh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
		t.Errorf("Run error = %v, want exit status 3", err)
	}
	if got, want := stdout.String(), "hello:input"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := stderr.String(), "err"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestExecRejectedWithoutHandler(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer sess.Close()
	if err := sess.Run("true"); err == nil {
		t.Errorf("Run with no Exec handler succeeded, want an error")
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		opts   sshtest.Options
		auth   func(s *sshtest.Server) ssh.AuthMethod
		user   string
		wantOK bool
	}{
		{"public key", sshtest.Options{}, func(s *sshtest.Server) ssh.AuthMethod { return ssh.PublicKeys(s.ClientSigner) }, "u", true},
		{"public key wrong user", sshtest.Options{User: "alice"}, func(s *sshtest.Server) ssh.AuthMethod { return ssh.PublicKeys(s.ClientSigner) }, "bob", false},
		{"public key disabled", sshtest.Options{NoPublicKey: true}, func(s *sshtest.Server) ssh.AuthMethod { return ssh.PublicKeys(s.ClientSigner) }, "u", false},
		{"password", sshtest.Options{Password: "pw"}, func(*sshtest.Server) ssh.AuthMethod { return ssh.Password("pw") }, "u", true},
		{"wrong password", sshtest.Options{Password: "pw"}, func(*sshtest.Server) ssh.AuthMethod { return ssh.Password("nope") }, "u", false},
		{"keyboard-interactive", sshtest.Options{KeyboardInteractive: "pw"}, func(*sshtest.Server) ssh.AuthMethod {
			return ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				if len(questions) != 1 {
					return nil, errors.New("want one question")
				}
				return []string{"pw"}, nil
			})
		}, "u", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.NewServer(t, tt.opts)
			cfg := &ssh.ClientConfig{
				User:            tt.user,
				Auth:            []ssh.AuthMethod{tt.auth(s)},
				HostKeyCallback: ssh.FixedHostKey(s.HostKey),
			}
			c, err := ssh.Dial("tcp", s.Addr, cfg)
			if got := err == nil; got != tt.wantOK {
				t.Errorf("Dial error = %v, want success %v", err, tt.wantOK)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

func TestDirectTCPIP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, ln)
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)

	conn, err := c.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial %s: %v", ln.Addr(), err)
	}
	checkEcho(t, conn)
}

// checkEcho sends "ping" and EOF on conn, a forward to an echoServer, expects "ping" and EOF back, and
// closes conn.
func checkEcho(t *testing.T, conn net.Conn) {
	t.Helper()
	defer conn.Close()
	io.WriteString(conn, "ping")
	conn.(interface{ CloseWrite() error }).CloseWrite()
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "ping" {
		t.Errorf("echo = %q, %v; want %q, nil", got, err, "ping")
	}
}

func TestDirectTCPIPOnlyLoopback(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	for _, addr := range []string{"10.1.2.3:80", "example.invalid:80", "[::2]:22"} {
		_, err := c.Dial("tcp", addr)
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
			t.Errorf("Dial %s error = %v, want administratively prohibited", addr, err)
		}
	}
}

func TestDirectStreamLocal(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, ln)
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	conn, err := c.Dial("unix", sock)
	if err != nil {
		t.Fatalf("Dial unix %s: %v", sock, err)
	}
	checkEcho(t, conn)
}

func TestKeepalive(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	for range 2 {
		if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
			t.Fatalf("keepalive: %v", err)
		}
	}
	if got, want := s.Keepalives(), 2; got != want {
		t.Errorf("Keepalives() = %d, want %d", got, want)
	}
}

func TestDropAll(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	s.DropAll()
	if err := c.Wait(); err == nil {
		t.Errorf("Wait after DropAll = nil, want a connection error")
	}
	// The server still accepts new connections.
	s.Dial(t, nil)
}

func TestSendGarbage(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	s.SendGarbage()
	if err := c.Wait(); err == nil {
		t.Errorf("Wait after SendGarbage = nil, want a protocol error")
	}
}

func TestStallHoldsKeepalives(t *testing.T) {
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	s.Stall()
	replied := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		replied <- err
	}()
	for s.Keepalives() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-replied:
		t.Fatalf("keepalive answered while stalled (err %v)", err)
	default:
	}
	s.Resume()
	if err := <-replied; err != nil {
		t.Errorf("keepalive after Resume: %v", err)
	}
}

func TestCloseWithOpenChannels(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, ln)
	s := sshtest.NewServer(t, sshtest.Options{})
	c := s.Dial(t, nil)
	conn, err := c.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	s.Stall()
	s.Close() // must not hang on the stalled channel
	if err := c.Wait(); err == nil {
		t.Errorf("Wait after Close = nil, want a connection error")
	}
}
