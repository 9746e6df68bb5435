// Command nbtunnel reaches a Jupyter server on a remote machine over SSH:
// it connects as the user's ssh or PuTTY would, finds the running servers,
// forwards a stable local port and prints the link.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	// An SSH connection is one serial stream, and x/crypto/ssh hands each
	// packet between goroutines: with more than one P every handoff wakes
	// another thread. One P moves more bytes per CPU second (BENCHMARKS.md);
	// GOMAXPROCS set in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
