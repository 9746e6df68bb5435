// Command nbtunnel reaches a Jupyter server on a remote machine over SSH:
// it connects as the user's ssh or PuTTY would, finds the running servers,
// forwards a stable local port and prints the link.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
