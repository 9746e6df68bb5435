package proxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// copyBufSize is the size of the pooled buffers that move data between a local socket and an SSH channel.
// An x/crypto/ssh channel sends at most 32 KiB per packet and queues every received packet separately, so
// a buffer of several packets lets one Read drain a burst of queued packets into one socket write, and one
// socket read feed several channel packets to one channel Write.
const copyBufSize = 128 << 10

// bufPool recycles copy buffers across connections; a notebook page opens dozens of connections and each
// direction of each needs one buffer while it runs. It holds no state beyond spare memory.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, copyBufSize)
	return &b
}}

// copyHalf copies src to dst until src reports io.EOF (a nil error) or either side fails. It adds each
// chunk's length to count, when count is not nil, as soon as the chunk is written. It does not use
// io.ReaderFrom or io.WriterTo: for SSH channels they fall back to io.Copy with a fresh 32 KiB buffer.
func copyHalf(dst io.Writer, src io.Reader, count *atomic.Int64) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var written int64
	for {
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
	}
}

// closeWriter is a stream that can signal end of data while it keeps reading: *net.TCPConn,
// *net.UnixConn and the net.Conn of an SSH channel (ssh.Channel.CloseWrite sends SSH_MSG_CHANNEL_EOF).
type closeWriter interface {
	CloseWrite() error
}

// closeWrite signals end of data on c. A stream with no way to half-close is closed, because the peer
// could otherwise wait forever for more data.
func closeWrite(c io.Writer) error {
	if cw, ok := c.(closeWriter); ok {
		return cw.CloseWrite()
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
