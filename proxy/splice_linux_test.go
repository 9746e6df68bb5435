package proxy

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

func loopbackPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// TestSpliceCopy checks which streams take the kernel's path and that the bytes arrive whole.
func TestSpliceCopy(t *testing.T) {
	data := make([]byte, 4<<20+5)
	rand.Read(data)
	tests := []struct {
		name string
		// setup returns the destination and the source for spliceCopy, a function that feeds the
		// source (closing it at the end) and one that returns everything the destination received.
		setup  func(t *testing.T) (dst io.Writer, src io.Reader, feed func(), drain func() []byte)
		wantOK bool
	}{
		{"pipe to socket", func(t *testing.T) (io.Writer, io.Reader, func(), func() []byte) {
			r, w := pipe(t)
			a, b := loopbackPair(t)
			return a, r, func() { w.Write(data); w.Close() }, func() []byte { b2, _ := io.ReadAll(b); return b2 }
		}, true},
		{"socket to pipe", func(t *testing.T) (io.Writer, io.Reader, func(), func() []byte) {
			r, w := pipe(t)
			a, b := loopbackPair(t)
			return w, a, func() { b.Write(data); b.CloseWrite() }, func() []byte { b2, _ := io.ReadAll(r); return b2 }
		}, true},
		{"pipe to pipe", func(t *testing.T) (io.Writer, io.Reader, func(), func() []byte) {
			r1, w1 := pipe(t)
			r2, w2 := pipe(t)
			return w2, r1, func() { w1.Write(data); w1.Close() }, func() []byte { b2, _ := io.ReadAll(r2); return b2 }
		}, true},
		{"socket to socket (no pipe)", func(t *testing.T) (io.Writer, io.Reader, func(), func() []byte) {
			a, b := loopbackPair(t)
			c, d := loopbackPair(t)
			return c, a, func() { b.Write(data); b.CloseWrite() }, func() []byte { b2, _ := io.ReadAll(d); return b2 }
		}, false},
		{"io.Pipe (no descriptor)", func(t *testing.T) (io.Writer, io.Reader, func(), func() []byte) {
			r, w := io.Pipe()
			a, b := loopbackPair(t)
			return a, r, func() { w.Write(data); w.Close() }, func() []byte { b2, _ := io.ReadAll(b); return b2 }
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, src, feed, drain := tt.setup(t)
			go feed()
			got := make(chan []byte, 1)
			go func() { got <- drain() }()
			n, ok, err := spliceCopy(dst, src)
			if ok != tt.wantOK {
				t.Fatalf("spliceCopy ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if n != 0 {
					t.Fatalf("spliceCopy refused after moving %d bytes", n)
				}
				if _, err := copyHalf(dst, src, nil); err != nil {
					t.Fatal(err)
				}
			} else if err != nil || n != int64(len(data)) {
				t.Fatalf("spliceCopy = %d, %v; want %d, nil", n, err, len(data))
			}
			closeWrite(dst)
			select {
			case b := <-got:
				if !bytes.Equal(b, data) {
					t.Errorf("destination got %d bytes, want the %d sent, in order", len(b), len(data))
				}
			case <-time.After(30 * time.Second):
				t.Fatal("destination never saw EOF")
			}
		})
	}
}

// catPipes is a `cat` process behind two pipes, as sshclient presents a ProxyCommand.
type catPipes struct {
	net.Conn // not used: only Pipes, Write and CloseWrite are
	r, w     *os.File
}

func (c *catPipes) Pipes() (*os.File, *os.File) { return c.r, c.w }
func (c *catPipes) CloseWrite() error           { return c.w.Close() }

// TestSplicePipes: a ProxyCommand's pipes are spliced to and from, pipe to pipe.
func TestSplicePipes(t *testing.T) {
	inR, w := pipe(t)
	r, outW := pipe(t)
	cmd := exec.Command("cat")
	cmd.Stdin, cmd.Stdout = inR, outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	defer cmd.Wait()
	c := &catPipes{r: r, w: w}
	in, inW := pipe(t)
	outR, out := pipe(t)
	data := make([]byte, 2<<20)
	rand.Read(data)
	go func() { inW.Write(data); inW.Close() }()
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(outR); got <- b }()
	go func() {
		if _, ok, err := spliceCopy(c, in); !ok || err != nil {
			t.Errorf("splicing stdin to the command: ok %v, %v; want ok, nil", ok, err)
		}
		closeWrite(c)
	}()
	if n, ok, err := spliceCopy(out, c); !ok || err != nil || n != int64(len(data)) {
		t.Errorf("splicing the command to stdout = %d, ok %v, %v; want %d, ok, nil", n, ok, err, len(data))
	}
	out.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("stdout got %d bytes, want the %d sent", len(b), len(data))
	}
}
