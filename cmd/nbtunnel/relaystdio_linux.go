package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// relayStdio returns the stdin and stdout that proxy mode relays: when they
// are pipes or sockets (as ssh and PuTTY give a ProxyCommand), new *os.File
// values on the same descriptors in non-blocking mode, which Go's poller
// waits on and proxy.Relay splices to and from the socket; otherwise (a
// terminal, a file) in and out unchanged. Only the descriptor's own open
// file description changes mode, and it is ours: ssh holds the other ends.
func relayStdio(in io.Reader, out io.Writer) (io.Reader, io.Writer) {
	return pollable(in).(io.Reader), pollable(out).(io.Writer)
}

func pollable(x any) any {
	f, ok := x.(*os.File)
	if !ok {
		return x
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return x
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFIFO && t != unix.S_IFSOCK {
		return x
	}
	if unix.SetNonblock(int(f.Fd()), true) != nil {
		return x
	}
	return os.NewFile(f.Fd(), f.Name())
}
