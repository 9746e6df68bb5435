package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// row is one line of a results table.
type row struct{ metric, ours, theirs, ratio, target, verdict string }

type section struct {
	title string
	head  [2]string // column names of ours and theirs
	rows  []row
	notes []string
}

// report accumulates the results of one run.
type report struct {
	cfg      config
	env      []string
	sections []*section
	took     time.Duration
}

func (r *report) section(title, ours, theirs string) *section {
	s := &section{title: title, head: [2]string{ours, theirs}}
	r.sections = append(r.sections, s)
	return s
}

func (s *section) add(metric, ours, theirs, ratio, target, verdict string) {
	s.rows = append(s.rows, row{metric, ours, theirs, ratio, target, verdict})
}

func (s *section) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// machine records the hardware and the versions compared.
func (r *report) machine(ctx context.Context, w *world) {
	cpuModel, aes := "unknown", "no"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				cpuModel = strings.TrimSpace(v)
			case "flags":
				for _, f := range strings.Fields(v) {
					if f == "aes" {
						aes = "yes"
					}
				}
			}
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	version := func(name string, args ...string) string {
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	r.env = []string{
		fmt.Sprintf("CPU: %d × %s, AES instructions: %s; load average at start: %s", runtime.NumCPU(), cpuModel, aes, load),
		"Kernel: " + version("uname", "-sr"),
		"Go: " + version("go", "version"),
		"OpenSSH (client and sshd): " + version("ssh", "-V"),
		fmt.Sprintf("Jupyter: jupyter_server %s (%s)", version("jupyter-server", "--version"), w.jup.Kind),
	}
}

// String renders the report as Markdown.
func (r *report) String() string {
	var b strings.Builder
	mode := "full"
	if r.cfg.short {
		mode = "short (-short: proves the benchmark runs; the numbers mean little)"
	}
	fmt.Fprintf(&b, "Run: %s, %s; %d interleaved runs per comparison (medians), %s in all.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), mode, r.cfg.runs, r.took.Round(time.Second))
	if len(r.cfg.env) > 0 {
		fmt.Fprintf(&b, "- Extra environment of nbtunnel and the forward helpers: %s\n", strings.Join(r.cfg.env, " "))
	}
	for _, e := range r.env {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	for _, s := range r.sections {
		fmt.Fprintf(&b, "\n#### %s\n\n", s.title)
		fmt.Fprintf(&b, "| | %s | %s | ratio | target | |\n|---|---|---|---|---|---|\n", s.head[0], s.head[1])
		for _, x := range s.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", x.metric, x.ours, x.theirs, x.ratio, x.target, x.verdict)
		}
		if len(s.notes) > 0 {
			b.WriteString("\n")
			for _, n := range s.notes {
				fmt.Fprintf(&b, "%s\n", n)
			}
		}
	}
	return b.String()
}
