package proxy_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/proxy"
	"golang.org/x/crypto/ssh"
)

// ioTimeout bounds every blocking read or write in these tests, so that a bug hangs no test for long. It
// is no assertion about speed.
const ioTimeout = 30 * time.Second

// startBackend serves a tiny line protocol on ln until the test ends. The first line of each connection
// picks the mode:
//
//	echo        echo everything until EOF, then close
//	sink        read until EOF, then write the byte count in decimal and close
//	source N    write N bytes, then close (reading nothing more)
func startBackend(tb testing.TB, ln net.Listener) {
	tb.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				serveBackend(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

func serveBackend(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	mode, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch mode {
	case "echo":
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	case "sink":
		n, _ := io.Copy(io.Discard, r)
		io.WriteString(c, strconv.FormatInt(n, 10))
	case "source":
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return
		}
		buf := make([]byte, 64<<10)
		for n > 0 {
			chunk := buf[:min(int64(len(buf)), n)]
			if _, err := c.Write(chunk); err != nil {
				return
			}
			n -= int64(len(chunk))
		}
	}
}

// tcpBackend starts a backend on 127.0.0.1 and returns its address.
func tcpBackend(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listening: %v", err)
	}
	startBackend(tb, ln)
	return ln.Addr().String()
}

// startForwarder listens on a free port, sets the target and serves until the test ends.
func startForwarder(tb testing.TB, d proxy.Dialer, network, addr string, configure func(*proxy.Forwarder)) *proxy.Forwarder {
	tb.Helper()
	f, err := proxy.Listen(context.Background(), 0)
	if err != nil {
		tb.Fatalf("Listen: %v", err)
	}
	if configure != nil {
		configure(f)
	}
	if d != nil {
		f.SetTarget(d, network, addr)
	}
	served := make(chan error, 1)
	go func() { served <- f.Serve(context.Background()) }()
	tb.Cleanup(func() {
		f.Close()
		if err := <-served; err != nil {
			tb.Errorf("Serve returned %v, want nil", err)
		}
	})
	return f
}

// dialLocal connects to the forwarder with a deadline and sends the backend mode line.
func dialLocal(tb testing.TB, f *proxy.Forwarder, mode string) *net.TCPConn {
	tb.Helper()
	c, err := net.Dial("tcp", f.Addr())
	if err != nil {
		tb.Fatalf("dialing forwarder %s: %v", f.Addr(), err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(ioTimeout))
	if mode != "" {
		if _, err := io.WriteString(c, mode+"\n"); err != nil {
			tb.Fatalf("writing mode: %v", err)
		}
	}
	return c.(*net.TCPConn)
}

// sshClient starts an sshtest server and connects a client to it.
func sshClient(tb testing.TB, opts sshtest.Options, ciphers ...string) (*sshtest.Server, *ssh.Client) {
	tb.Helper()
	s := sshtest.NewServer(tb, opts)
	cfg := s.ClientConfig()
	cfg.Ciphers = ciphers
	return s, s.Dial(tb, cfg)
}

// sshClientBuffered is sshClient with the client's transport wrapped by proxy.NewReadBufferedConn.
func sshClientBuffered(tb testing.TB, opts sshtest.Options, ciphers ...string) (*sshtest.Server, *ssh.Client) {
	tb.Helper()
	s := sshtest.NewServer(tb, opts)
	cfg := s.ClientConfig()
	cfg.Ciphers = ciphers
	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		tb.Fatalf("dialing %s: %v", s.Addr, err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(proxy.NewReadBufferedConn(nc, 256<<10), s.Addr, cfg)
	if err != nil {
		nc.Close()
		tb.Fatalf("ssh handshake with %s: %v", s.Addr, err)
	}
	c := ssh.NewClient(sc, chans, reqs)
	tb.Cleanup(func() { c.Close() })
	return s, c
}

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
