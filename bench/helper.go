package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// helperEnv, when set in the environment, makes the bench binary (or its test binary) run as a helper
// process instead of the benchmark. "forward": a local forward built from package proxy, exactly as
// `nbtunnel open` builds its own (Dial, Listen, SetTarget, Serve), to BENCH_TARGET on BENCH_HOST of
// BENCH_CONFIG; it prints its port on stdout and serves until SIGINT or SIGTERM, writing a CPU profile to
// BENCH_CPUPROFILE when that is set.
const helperEnv = "NBTUNNEL_BENCH_HELPER"

// runHelper runs the helper named by helperEnv and returns the exit status.
func runHelper(role string) int {
	if role != "forward" {
		fmt.Fprintf(os.Stderr, "bench helper: unknown role %q\n", role)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench helper: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "bench helper: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	// The forward helper runs as nbtunnel does (cmd/nbtunnel/main.go):
	// one P unless GOMAXPROCS is set.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if err := helperForward(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench helper: %v\n", err)
		return 1
	}
	return 0
}

func helperForward(ctx context.Context) error {
	h, err := hostconf.Resolve(ctx, os.Getenv("BENCH_HOST"), hostconf.ResolveOptions{
		ConfigFile: os.Getenv("BENCH_CONFIG"),
		Home:       os.Getenv("HOME"),
		LocalUser:  "root",
		Getenv:     os.Getenv,
	})
	if err != nil {
		return err
	}
	if c := os.Getenv("BENCH_CIPHER"); c != "" {
		h.Ciphers = []string{c}
	}
	c, err := sshclient.Dial(ctx, h, sshclient.Options{Getenv: os.Getenv})
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := proxy.Listen(ctx, 0)
	if err != nil {
		return err
	}
	f.SetTarget(c, "tcp", os.Getenv("BENCH_TARGET"))
	fmt.Println(f.Port())
	return f.Serve(ctx)
}
