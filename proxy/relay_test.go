package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/proxy"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	a.SetDeadline(time.Now().Add(ioTimeout))
	b.SetDeadline(time.Now().Add(ioTimeout))
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// relayResult runs Relay in a goroutine and returns a channel with its result.
func relayResult(ctx context.Context, stdin io.Reader, stdout io.Writer, remote net.Conn) <-chan error {
	res := make(chan error, 1)
	go func() { res <- proxy.Relay(ctx, stdin, stdout, remote) }()
	return res
}

// relayEnds are stdin and stdout as Relay gets them (stdin, stdout) and the test's ends of the same pipes
// (stdinW, stdoutR).
type relayEnds struct {
	stdin   io.Reader
	stdinW  io.WriteCloser
	stdoutR io.Reader
	stdout  io.Writer
}

// memPipes returns relayEnds made of two io.Pipes.
func memPipes() relayEnds {
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	return relayEnds{stdin: stdinR, stdinW: stdinW, stdoutR: stdoutR, stdout: stdoutW}
}

func TestRelayHalfClose(t *testing.T) { testRelayHalfClose(t, memPipes()) }

// testRelayHalfClose: stdin's EOF reaches the far end, which can still answer, and its EOF closes stdout.
func testRelayHalfClose(t *testing.T, p relayEnds) {
	remote, far := tcpPair(t)
	res := relayResult(context.Background(), p.stdin, p.stdout, remote)

	// stdin EOF reaches the far end as EOF, and the far end can still answer.
	io.WriteString(p.stdinW, "request")
	p.stdinW.Close()
	got, err := io.ReadAll(far)
	if err != nil || string(got) != "request" {
		t.Fatalf("far end read %q, %v; want %q then EOF", got, err, "request")
	}
	io.WriteString(far, "response")
	far.CloseWrite()
	// Remote EOF closes stdout.
	out, err := io.ReadAll(p.stdoutR)
	if err != nil || string(out) != "response" {
		t.Errorf("stdout = %q, %v; want %q then EOF", out, err, "response")
	}
	if err := <-res; err != nil {
		t.Errorf("Relay = %v, want nil", err)
	}
}

func TestRelayRemoteEOFFirst(t *testing.T) { testRelayRemoteEOFFirst(t, memPipes()) }

// testRelayRemoteEOFFirst: the remote's EOF closes stdout, and stdin still flows after it.
func testRelayRemoteEOFFirst(t *testing.T, p relayEnds) {
	remote, far := tcpPair(t)
	res := relayResult(context.Background(), p.stdin, p.stdout, remote)

	io.WriteString(far, "banner")
	far.CloseWrite()
	out, err := io.ReadAll(p.stdoutR)
	if err != nil || string(out) != "banner" {
		t.Fatalf("stdout = %q, %v; want %q then EOF", out, err, "banner")
	}
	// stdin still flows after the remote's EOF.
	io.WriteString(p.stdinW, "late")
	p.stdinW.Close()
	got, err := io.ReadAll(far)
	if err != nil || string(got) != "late" {
		t.Errorf("far end read %q, %v; want %q", got, err, "late")
	}
	if err := <-res; err != nil {
		t.Errorf("Relay = %v, want nil", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func TestRelayStdoutCarriesOnlyRemoteBytes(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	remote, err := client.Dial("tcp", tcpBackend(t))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	payload := make([]byte, 3<<20)
	rand.Read(payload)
	stdin := io.MultiReader(bytes.NewReader([]byte("echo\n")), bytes.NewReader(payload))
	var stdout lockedBuffer // not an io.Closer: Relay must not need one
	if err := proxy.Relay(context.Background(), stdin, &stdout, remote); err != nil {
		t.Fatalf("Relay = %v, want nil", err)
	}
	if got := stdout.Bytes(); !bytes.Equal(got, payload) {
		t.Errorf("stdout has %d bytes, want exactly the %d echoed bytes", len(got), len(payload))
	}
}

func TestRelayUpload(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	remote, err := client.Dial("tcp", tcpBackend(t))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	const size = 2<<20 + 17
	stdin := io.MultiReader(bytes.NewReader([]byte("sink\n")), io.LimitReader(rand.Reader, size))
	var stdout lockedBuffer
	if err := proxy.Relay(context.Background(), stdin, &stdout, remote); err != nil {
		t.Fatalf("Relay = %v, want nil", err)
	}
	if got, want := string(stdout.Bytes()), strconv.Itoa(size); got != want {
		t.Errorf("backend counted %s bytes, want %s", got, want)
	}
}

func TestRelayCancel(t *testing.T) {
	remote, far := tcpPair(t)
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	stdoutR, stdoutW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	res := relayResult(ctx, stdinR, stdoutW, remote)
	io.WriteString(far, "x")
	if _, err := io.ReadFull(stdoutR, make([]byte, 1)); err != nil {
		t.Fatalf("reading stdout: %v", err)
	}
	go io.Copy(io.Discard, stdoutR)
	cancel() // Relay is mid-stream, both directions blocked in reads
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("Relay after cancel = %v, want context.Canceled", err)
	}
	if _, err := io.ReadAll(far); err != nil {
		t.Errorf("far end after cancel: %v, want EOF (remote closed)", err)
	}
}

func TestRelayRemoteReset(t *testing.T) {
	remote, far := tcpPair(t)
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	stdoutR, stdoutW := io.Pipe()
	go io.Copy(io.Discard, stdoutR)
	res := relayResult(context.Background(), stdinR, stdoutW, remote)
	far.SetLinger(0)
	far.Close() // RST
	if err := <-res; err == nil {
		t.Errorf("Relay after a reset = nil, want an error")
	}
	// Relay closed stdin to stop the other direction.
	if _, err := stdinW.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("writing stdin after Relay failed = %v, want io.ErrClosedPipe", err)
	}
}

func TestRelayStdoutClosed(t *testing.T) {
	remote, far := tcpPair(t)
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	stdoutR, stdoutW := io.Pipe()
	stdoutR.Close() // the ssh client went away
	res := relayResult(context.Background(), stdinR, stdoutW, remote)
	io.WriteString(far, "data")
	if err := <-res; !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Relay with stdout gone = %v, want io.ErrClosedPipe", err)
	}
}
