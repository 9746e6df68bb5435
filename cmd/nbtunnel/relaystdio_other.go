//go:build !linux

package main

import "io"

// relayStdio returns in and out unchanged: only Linux has a splice path
// that wants them in non-blocking mode (relaystdio_linux.go).
func relayStdio(in io.Reader, out io.Writer) (io.Reader, io.Writer) { return in, out }
