package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
)

// Relay copies between a local stdio pair and a remote stream, as `ssh -W` or nc do for an OpenSSH
// ProxyCommand: stdin to remote and remote to stdout, with half-close both ways. When stdin reports EOF,
// Relay calls remote's CloseWrite (or closes remote if it has none) and keeps copying the other way; when
// remote reports EOF, Relay closes stdout, if it is an io.Closer, so the reader of stdout sees EOF.
//
// Relay returns when both directions are done (nil), when either fails (that error), or when ctx is done
// (ctx.Err()). On failure or cancellation it closes remote and whichever of stdin and stdout are
// io.Closers, to stop the other direction. Either way Relay has closed remote, and both of its goroutines
// have ended, when it returns: a Read of stdin that Close cannot interrupt (a blocking *os.File) delays
// the return until that Read returns. As a ProxyCommand that is prompt: the ssh client closes its end of
// stdin when it sees EOF on our stdout.
//
// Relay writes nothing but remote's bytes to stdout. On Linux, when stdin or stdout is a pipe and the
// other end of that direction a socket or pipe, all in non-blocking mode (see spliceCopy), the kernel
// moves the bytes with splice(2) and they never pass through this process's memory; elsewhere, and for
// streams without a descriptor (an SSH channel through a jump host), Relay copies through large pooled
// buffers.
func Relay(ctx context.Context, stdin io.Reader, stdout io.Writer, remote net.Conn) error {
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() {
			first = err
			remote.Close()
			if c, ok := stdin.(io.Closer); ok {
				c.Close()
			}
			if c, ok := stdout.(io.Closer); ok {
				c.Close()
			}
		})
	}
	stop := context.AfterFunc(ctx, func() { fail(ctx.Err()) })
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := relayCopy(remote, stdin); err != nil {
			fail(err)
			return
		}
		if err := closeWrite(remote); err != nil {
			fail(err)
		}
	}()
	if _, err := relayCopy(stdout, remote); err != nil {
		fail(err)
	} else if c, ok := stdout.(io.Closer); ok {
		if err := c.Close(); err != nil {
			fail(err)
		}
	}
	<-done
	stop()
	once.Do(func() { remote.Close() })
	if first != nil && ctx.Err() != nil && (errors.Is(first, net.ErrClosed) || errors.Is(first, os.ErrClosed) || errors.Is(first, io.ErrClosedPipe)) {
		return ctx.Err()
	}
	return first
}
