package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// Copy buffers. An x/crypto/ssh channel sends at most 32 KiB per packet and queues every received packet
// separately, so a large buffer lets one channel Read drain a burst of queued packets into one socket
// write, and one socket read feed several packets to one channel Write. But most forwarded connections
// are idle most of the time (a notebook's websockets), and a goroutine blocked in Read holds its buffer:
// copyHalf therefore waits with a small buffer of its own and takes a large pooled one only while reads
// fill the small one.
const (
	copyBufSize  = 128 << 10
	smallBufSize = 4 << 10
)

// bufPool recycles large copy buffers across connections. It holds no state beyond spare memory.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, copyBufSize)
	return &b
}}

// copyHalf copies src to dst until src reports io.EOF (a nil error) or either side fails. It adds each
// chunk's length to count, when count is not nil, as soon as the chunk is written. It does not use
// io.ReaderFrom or io.WriterTo: for SSH channels they fall back to io.Copy with a fresh 32 KiB buffer.
func copyHalf(dst io.Writer, src io.Reader, count *atomic.Int64) (int64, error) {
	var small [smallBufSize]byte
	var big *[]byte
	defer func() {
		if big != nil {
			bufPool.Put(big)
		}
	}()
	var written int64
	for {
		buf := small[:]
		if big != nil {
			buf = *big
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			written += int64(w)
			if count != nil {
				count.Add(int64(w))
			}
			if werr != nil {
				return written, werr
			}
			if w != n {
				return written, io.ErrShortWrite
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				return written, nil
			}
			return written, rerr
		}
		switch {
		case big == nil && n == len(small):
			big = bufPool.Get().(*[]byte) // data is flowing
		case big != nil && n < smallBufSize:
			bufPool.Put(big) // a trickle: likely to block in the next Read
			big = nil
		}
	}
}

// relayCopy copies src to dst like copyHalf, through splice(2) where the kernel can move the bytes
// itself (see spliceCopy) and through copyHalf's buffers where it cannot.
func relayCopy(dst io.Writer, src io.Reader) (int64, error) {
	n, ok, err := spliceCopy(dst, src)
	if ok {
		return n, err
	}
	m, err := copyHalf(dst, src, nil)
	return n + m, err
}

// pipes is a stream whose reads and writes go to two different descriptors, as the pipes to a
// ProxyCommand (sshclient's): spliceCopy moves bytes to and from those.
type pipes interface {
	Pipes() (fromCommand, toCommand *os.File)
}

func readSide(x any) any {
	if p, ok := x.(pipes); ok {
		r, _ := p.Pipes()
		return r
	}
	return x
}

func writeSide(x any) any {
	if p, ok := x.(pipes); ok {
		_, w := p.Pipes()
		return w
	}
	return x
}

// closeWriter is a stream that can signal end of data while it keeps reading: *net.TCPConn,
// *net.UnixConn and the net.Conn of an SSH channel (ssh.Channel.CloseWrite sends SSH_MSG_CHANNEL_EOF).
type closeWriter interface {
	CloseWrite() error
}

// closeWrite signals end of data on c. A stream with no way to half-close is closed, because the peer
// could otherwise wait forever for more data. An SSH channel that the peer has closed already answers
// io.EOF: there is nobody left to tell, which is no failure.
func closeWrite(c io.Writer) error {
	if cw, ok := c.(closeWriter); ok {
		if err := cw.CloseWrite(); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
	if cl, ok := c.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// join copies between a and b in both directions, half-closing the destination of each direction when its
// source reports EOF, and returns when both directions are done or one of them fails; a failure closes
// both streams at once so the other direction stops too. join closes a and b before it returns and
// reports the first failure, or nil when both directions ended with EOF. aToB and bToA, when not nil,
// count the bytes moved each way. It uses one goroutine besides the caller's, which has ended when join
// returns.
func join(a, b net.Conn, aToB, bToA *atomic.Int64) error {
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() {
			first = err
			a.Close()
			b.Close()
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := copyHalf(b, a, aToB); err != nil {
			fail(err)
			return
		}
		if err := closeWrite(b); err != nil {
			fail(err)
		}
	}()
	if _, err := copyHalf(a, b, bToA); err != nil {
		fail(err)
	} else if err := closeWrite(a); err != nil {
		fail(err)
	}
	<-done
	fail(nil)
	if errors.Is(first, net.ErrClosed) {
		// The stream was closed from outside (Forwarder.Close): not a failure of this connection.
		return nil
	}
	return first
}

// NewReadBufferedConn wraps c, the transport under an SSH connection, so that its reads come from a
// buffer of size bytes (at least 64 KiB). golang.org/x/crypto/ssh reads its transport through a 4 KiB
// bufio.Reader and so makes two or three read system calls per 32 KiB data packet; with a large buffer
// below it one call fetches every packet the kernel holds. Writes, Close and the rest go to c unchanged.
// The returned conn's Read must not be called concurrently, like that of any bufio.Reader.
func NewReadBufferedConn(c net.Conn, size int) net.Conn {
	return &readBufferedConn{Conn: c, r: bufio.NewReaderSize(c, max(size, 64<<10))}
}

type readBufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readBufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
