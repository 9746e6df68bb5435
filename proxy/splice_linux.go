//go:build linux

package proxy

import (
	"errors"
	"io"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// spliceChunk is the most one splice(2) call is asked to move. The kernel moves at most what the pipe on
// either side holds or has room for (64 KiB by default), so this only has to be large.
const spliceChunk = 1 << 20

// spliceCopy copies src to dst until src reports EOF, with splice(2): the kernel moves the bytes between
// the two file descriptors and they never reach user space. It works when one side is a pipe (the
// stdin and stdout an ssh client gives its ProxyCommand, the pipes to a ProxyCommand of our own) and the
// other a pipe or a socket, both in non-blocking mode so that Go's poller waits for them (an *os.File
// from os.Pipe or made with os.NewFile on a non-blocking descriptor, a *net.TCPConn, a *net.UnixConn).
//
// When it cannot be used, spliceCopy returns ok false and has moved nothing past what written counts;
// the caller copies the rest through user space. Otherwise it returns what copyHalf would: the bytes
// moved and nil at EOF, or the first error.
func spliceCopy(dst io.Writer, src io.Reader) (written int64, ok bool, err error) {
	srcRC, srcPipe := spliceable(readSide(src))
	dstRC, dstPipe := spliceable(writeSide(dst))
	if srcRC == nil || dstRC == nil || !srcPipe && !dstPipe {
		return 0, false, nil
	}
	for {
		n, err := spliceOnce(dstRC, srcRC)
		if n > 0 {
			written += n
			continue
		}
		switch {
		case err == nil:
			return written, true, nil // EOF
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, errNotPollable):
			// A descriptor splice(2) or Go's poller does not take after all: copy the rest.
			return written, false, nil
		}
		return written, true, err
	}
}

// errNotPollable stands for the error of a RawConn wait on a descriptor Go's poller does not watch.
var errNotPollable = errors.New("descriptor not pollable")

// spliceOnce moves one chunk from src to dst, waiting until src has bytes and dst has room. It returns 0
// and nil at EOF of src.
func spliceOnce(dst, src syscall.RawConn) (int64, error) {
	var n int
	var serr error
	rerr := src.Read(func(sfd uintptr) bool {
		emptySrc, spins := false, 0
		werr := dst.Write(func(dfd uintptr) bool {
			for {
				m, err := splice(int(sfd), int(dfd))
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN:
					// src has nothing, or dst has no room (a full pipe answers EAGAIN even when
					// the other side is at EOF): ask the kernel which, without waiting.
					switch ready(int(sfd), int(dfd)) {
					case dstFull:
						return false // wait until dst has room
					case srcEmpty:
						emptySrc = true
						return true // leave, to wait until src has bytes
					}
					// Both ready by now: try again, letting others run if it keeps happening.
					if spins++; spins > 3 {
						runtime.Gosched()
					}
					continue
				}
				n, serr = int(m), err
				return true
			}
		})
		if werr != nil {
			serr = pollErr(werr)
			return true
		}
		return !emptySrc // src is empty: wait until it has bytes
	})
	if serr == nil && rerr != nil {
		serr = pollErr(rerr)
	}
	if serr != nil {
		return 0, serr
	}
	return int64(n), nil
}

// splice moves up to spliceChunk bytes from sfd to dfd without waiting. Neither it nor the poll in ready
// can block (SPLICE_F_NONBLOCK, non-blocking descriptors, a zero timeout), so they are raw system calls: the
// Go scheduler does not hand this goroutine's P to another thread while one runs, which on a busy machine
// costs a futex wake-up per call.
func splice(sfd, dfd int) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(sfd), 0, uintptr(dfd), 0, spliceChunk,
		unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

const (
	bothReady = iota
	srcEmpty
	dstFull
)

// ready tells which side of a splice that answered EAGAIN must be waited for.
func ready(sfd, dfd int) int {
	fds := [2]unix.PollFd{{Fd: int32(sfd), Events: unix.POLLIN}, {Fd: int32(dfd), Events: unix.POLLOUT}}
	var ts unix.Timespec // zero: do not wait
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 2, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno != unix.EINTR {
			break
		}
	}
	switch {
	case fds[1].Revents&(unix.POLLOUT|unix.POLLERR|unix.POLLHUP) == 0:
		return dstFull
	case fds[0].Revents&(unix.POLLIN|unix.POLLERR|unix.POLLHUP) == 0:
		return srcEmpty
	}
	return bothReady
}

// pollErr names the errors of a RawConn wait that internal/poll does not export: its refusal of a
// descriptor the poller does not watch becomes errNotPollable, and a file closed meanwhile os.ErrClosed
// (a closed socket already reports net.ErrClosed).
func pollErr(err error) error {
	if err == nil {
		return nil
	}
	switch err.Error() {
	case "waiting for unsupported file type":
		return errNotPollable
	case "use of closed file":
		return os.ErrClosed
	}
	return err
}

// spliceable returns x's RawConn when x is a pipe or a stream socket in non-blocking mode, and whether
// it is a pipe.
func spliceable(x any) (syscall.RawConn, bool) {
	sc, ok := x.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	var pipe, usable bool
	err = rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(fd), &st) != nil {
			return
		}
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK == 0 || fl&unix.O_APPEND != 0 {
			return
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFIFO:
			pipe, usable = true, true
		case unix.S_IFSOCK:
			typ, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE)
			usable = err == nil && typ == unix.SOCK_STREAM
		}
	})
	if err != nil || !usable {
		return nil, false
	}
	return rc, pipe
}
