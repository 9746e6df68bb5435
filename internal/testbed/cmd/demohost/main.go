// Command demohost starts a test bed with one host, "demo", running a Jupyter server, for trying nbtunnel by
// hand (scripts/demo). It needs root.
//
// It prints the path of the bed's ssh_config file on standard output, as one line, once the host and Jupyter
// are ready; details go to standard error. It then waits for SIGINT or SIGTERM and removes everything.
//
// Usage:
//
//	demohost [-kind notebook|server] [-base-url /x/] [-sock] [-password]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demohost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", testbed.KindNotebook, "Jupyter kind: notebook or server")
	baseURL := fs.String("base-url", "/", "Jupyter base_url")
	sock := fs.Bool("sock", false, "listen on a unix socket instead of a TCP port")
	password := fs.Bool("password", false, "password-only server (no token)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "demohost: unexpected arguments")
		return 2
	}
	if missing := testbed.Missing(); missing != "" {
		fmt.Fprintf(stderr, "demohost: error: %s\n", missing)
		return 1
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stopped := make(chan os.Signal, 1)
	go func() {
		sig := <-sigs
		stopped <- sig
		cancel()
	}()

	bed, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "demohost: error: %v\n", err)
		return 1
	}
	defer func() {
		if err := bed.Close(); err != nil {
			fmt.Fprintf(stderr, "demohost: error: %v\n", err)
		}
	}()
	h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "demo"})
	if err != nil {
		fmt.Fprintf(stderr, "demohost: error: %v\n", err)
		return 1
	}
	j, err := h.StartJupyter(ctx, testbed.JupyterOptions{Kind: *kind, BaseURL: *baseURL, Sock: *sock, Password: *password})
	if err != nil {
		fmt.Fprintf(stderr, "demohost: error: %v\n", err)
		return 1
	}

	fmt.Fprintf(stderr, "demohost: host %q: user %s at %s in namespace %s\n", h.Alias, h.User, h.Addr, h.Netns)
	fmt.Fprintf(stderr, "demohost: jupyter %s pid %d, runtime file %s\n", j.Kind, j.PID, j.RuntimeFile)
	if j.Password != "" {
		fmt.Fprintf(stderr, "demohost: jupyter password: %s\n", j.Password)
	}
	fmt.Fprintf(stderr, "demohost: try: ssh -F %s demo\n", bed.SSHConfig)
	fmt.Fprintln(stderr, "demohost: press Ctrl-C (or send SIGTERM) to remove everything")
	fmt.Fprintln(stdout, bed.SSHConfig)

	sig := <-stopped
	fmt.Fprintf(stderr, "demohost: %v: cleaning up\n", sig)
	return 0
}
