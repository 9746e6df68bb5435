// Command bench measures nbtunnel side by side with OpenSSH on a real sshd and a real Jupyter server in a
// network namespace (internal/testbed), and prints a Markdown report of medians and ratios.
//
//	sudo go run ./bench              # full run, a few minutes
//	sudo go run ./bench -short       # seconds: proves the benchmark still works, numbers mean little
//	sudo go run ./bench -update BENCHMARKS.md
//
// It needs root (namespaces, users) and the programs testbed.Require lists. Every comparison interleaves
// nbtunnel and OpenSSH runs (A/B/A/B) so that the noise of a shared machine hits both; read the ratios and
// medians, not single times.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// config is what one run measures and how often.
type config struct {
	short      bool
	runs       int   // repetitions of each comparison
	rawSize    int64 // bytes per raw TCP transfer
	fileSize   int64 // size of the file downloaded through /files/
	latReqs    int   // keep-alive requests per arm per run
	conns      int   // concurrent connections
	staleFiles int   // stale runtime files for the discovery test
	update     string
	moduleDir  string
	bin        string   // a prebuilt nbtunnel; "" builds ./cmd/nbtunnel
	only       string   // run only the steps whose key contains this
	cpuprofile string   // directory for CPU profiles of the forward helpers
	env        []string // extra environment for nbtunnel and the forward helpers
	relaySize  int64    // bytes per transfer through the user's ssh (relay comparison)
	// relayBaseline is another nbtunnel binary whose hook the relay comparison adds as an arm.
	relayBaseline, relayBaselineNote string
}

func main() {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(runHelper(role))
	}
	os.Exit(run(os.Args[1:]))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	short := fs.Bool("short", false, "a quick run that only proves the benchmark works")
	runs := fs.Int("runs", 0, "repetitions of each comparison (default 7, 2 with -short)")
	update := fs.String("update", "", "rewrite the results section of this Markdown file")
	mark := fs.String("mark", "bench", "with -update, the section between <!-- MARK:begin --> and <!-- MARK:end -->")
	only := fs.String("only", "", "run only the steps named: link, raw, jupyter, concurrent, discovery, relay (comma-separated)")
	cpuprofile := fs.String("cpuprofile", "", "write CPU profiles of the raw-forward helpers into this directory")
	var env envFlag
	fs.Var(&env, "env", "add VAR=VALUE to the environment of nbtunnel and the forward helpers (repeatable), e.g. GOGC=400")
	bin := fs.String("bin", "", "use this nbtunnel binary instead of building ./cmd/nbtunnel")
	baseline := fs.String("relay-baseline", "", "add the hook of this nbtunnel binary to the relay comparison (e.g. a build of main)")
	baselineNote := fs.String("relay-baseline-note", "", "what the -relay-baseline binary is, for the report")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := config{short: *short, runs: 7, rawSize: 128 << 20, fileSize: 256 << 20, latReqs: 200, conns: 200,
		staleFiles: 1000, update: *update, relaySize: 256 << 20}
	if cfg.short {
		cfg = config{short: true, runs: 2, rawSize: 4 << 20, fileSize: 4 << 20, latReqs: 20, conns: 50,
			staleFiles: 100, update: *update, relaySize: 4 << 20}
	}
	cfg.relayBaseline, cfg.relayBaselineNote = *baseline, *baselineNote
	if cfg.relayBaselineNote == "" {
		cfg.relayBaselineNote = cfg.relayBaseline
	}
	if *runs > 0 {
		cfg.runs = *runs
	}
	if missing := testbed.Missing(); missing != "" {
		logf("cannot run: %s (run it as root: sudo make bench)", missing)
		return 1
	}
	dir, err := moduleRoot()
	if err != nil {
		logf("%v", err)
		return 1
	}
	cfg.moduleDir = dir
	cfg.bin = *bin
	cfg.only = *only
	cfg.cpuprofile = *cpuprofile
	cfg.env = env
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := bench(ctx, cfg)
	if err != nil {
		logf("%v", err)
		return 1
	}
	fmt.Print(report)
	if cfg.update != "" {
		if err := updateFile(cfg.update, *mark, report); err != nil {
			logf("%v", err)
			return 1
		}
	}
	return 0
}

// envFlag collects repeated -env VAR=VALUE flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want VAR=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

// moduleRoot finds the directory holding go.mod, from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding go.mod: not in the nbtunnel module")
		}
		dir = parent
	}
}

// updateFile replaces the text between the lines "<!-- MARK:begin -->" and "<!-- MARK:end -->" in path with
// report.
func updateFile(path, mark, report string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("updating %s: %w", path, err)
	}
	s := string(data)
	beginMark, endMark := "<!-- "+mark+":begin -->", "<!-- "+mark+":end -->"
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		return fmt.Errorf("updating %s: no %s ... %s section", path, beginMark, endMark)
	}
	s = s[:i+len(beginMark)] + "\n" + report + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

func bench(ctx context.Context, cfg config) (string, error) {
	start := time.Now()
	w, err := setup(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer w.close()
	r := &report{cfg: cfg}
	r.machine(ctx, w)
	steps := []struct {
		key, name string
		f         func(context.Context, *world, *report) error
	}{
		{"link", "time to link", benchLink},
		{"raw", "raw TCP throughput", benchRaw},
		{"jupyter", "Jupyter /files/ download and api/status latency", benchJupyter},
		{"concurrent", "concurrent connections and memory", benchConcurrent},
		{"discovery", "discovery with stale runtime files", benchDiscovery},
		{"relay", "the user's ssh through the hook, nc and directly", benchRelay},
	}
	for _, s := range steps {
		if cfg.only != "" && !slices.Contains(strings.Split(cfg.only, ","), s.key) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		logf("measuring %s", s.name)
		if err := s.f(ctx, w, r); err != nil {
			return "", fmt.Errorf("measuring %s: %w", s.name, err)
		}
	}
	r.took = time.Since(start)
	return r.String(), nil
}
