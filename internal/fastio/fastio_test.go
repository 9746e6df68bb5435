package fastio_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/fastio"
)

// pair returns both ends of a loopback TCP connection, wrapped.
func pair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	a, b = fastio.Wrap(c), fastio.Wrap(r.c)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestCopyBothWaysWithHalfClose(t *testing.T) {
	a, b := pair(t)
	data := make([]byte, 8<<20) // more than the socket buffers hold: writes wait in the poller
	rand.Read(data)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Write(data)
		if err == nil {
			err = a.(interface{ CloseWrite() error }).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(b) // ends at EOF: the half-close arrived
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(data))
	}
	// The other direction still works after the half-close.
	if _, err := b.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "back" {
		t.Fatalf("read %q, %v; want \"back\"", buf, err)
	}
}

func TestReadDeadline(t *testing.T) {
	a, _ := pair(t)
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := a.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline: %v is not a net.Error timeout", err)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	a, _ := pair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed conn: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
}

func TestResetIsAnError(t *testing.T) {
	a, b := pair(t)
	// Closing with unread data makes the kernel send a reset.
	if _, err := a.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	b.Close()
	time.Sleep(20 * time.Millisecond)
	_, err := a.Read(make([]byte, 10))
	if err == nil || err == io.EOF {
		t.Fatalf("Read after the peer's reset: %v, want an error", err)
	}
}

func TestOtherConnsUnchanged(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	if fastio.Wrap(c1) != c1 {
		t.Fatal("Wrap changed a net.Pipe conn")
	}
}
