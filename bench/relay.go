package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The relay comparison: the user's own ssh to the test host directly, through `ProxyCommand nc %h %p`
// (netcat-openbsd) and through nbtunnel's hook (`ProxyCommand nbtunnel proxy %n %p`, as `nbtunnel
// install` writes it), and, with -relay-baseline, through another nbtunnel binary's hook. The proxies run
// as ssh runs them, children of the user's ssh (nbtunnel reads its parent's command line). The CPU time a
// proxy used is the last reading of its /proc/PID/stat, read every few milliseconds while it runs (ssh may
// reap its ProxyCommand itself, so no rusage of it reaches the bench).

// relayArm is one way for the user's ssh to reach the host.
type relayArm struct {
	name, alias string
	proxy       bool // runs a ProxyCommand whose CPU time is recorded

	mbps     samples
	cpu      time.Duration // proxy CPU over the measured transfers
	moved    int64
	rtt      samples // microseconds
	start    samples // ms, `ssh HOST true`
	sessions int     // non-interactive sessions started (ssh true, scp)
	logins   int     // sshd logins those sessions made
}

// relayConfig writes an ssh config with one alias per arm and returns the arms.
func (w *world) relayConfig(baseline string) (string, []*relayArm, error) {
	arms := []*relayArm{
		{name: "nbtunnel proxy", alias: "relay-nbt", proxy: true},
		{name: "nc", alias: "relay-nc", proxy: true},
		{name: "direct", alias: "relay-direct"},
	}
	path := filepath.Join(w.dir, "relay_config")
	proxies := map[string]string{
		"relay-nbt": fmt.Sprintf("%s proxy -F %s %%n %%p", w.bin, path),
		"relay-nc":  "nc %h %p",
	}
	if baseline != "" {
		arms = append(arms, &relayArm{name: "nbtunnel proxy (baseline)", alias: "relay-base", proxy: true})
		proxies["relay-base"] = fmt.Sprintf("%s proxy -F %s %%n %%p", baseline, path)
	}
	var b strings.Builder
	for _, a := range arms {
		fmt.Fprintf(&b, "Host %s\n\tHostName %s\n\tPort %d\n\tUser %s\n\tIdentityFile %s\n\tIdentitiesOnly yes\n"+
			"\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n\tConnectTimeout 10\n\tBatchMode yes\n\tControlPath none\n",
			a.alias, w.host.Addr, w.host.Port, w.host.User, w.bed.ClientKey, w.bed.KnownHosts)
		if p := proxies[a.alias]; p != "" {
			fmt.Fprintf(&b, "\tProxyCommand %s\n", p)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", nil, err
	}
	return path, arms, nil
}

// relaySSH returns the user's ssh with the relay config and args.
func (w *world) relaySSH(ctx context.Context, cfg string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ssh", append([]string{"-F", cfg}, args...)...)
	cmd.Env = w.env
	return cmd
}

// childOf waits for a child process of pid (ssh's ProxyCommand) and returns its pid.
func childOf(pid int) (int, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			c, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			i := strings.LastIndexByte(string(data), ')')
			if f := strings.Fields(string(data[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				return c, nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("ssh (pid %d) started no ProxyCommand", pid)
}

// cpuWatch follows the CPU time of a process, reading /proc/PID/stat every 5 ms until the process is
// gone. mark records the current reading; done gives the CPU used between mark and the last reading.
type cpuWatch struct {
	marked chan time.Duration
	used   chan time.Duration
}

func watchCPU(pid int) *cpuWatch {
	w := &cpuWatch{marked: make(chan time.Duration, 1), used: make(chan time.Duration, 1)}
	start := time.Duration(-1)
	go func() {
		var last time.Duration
		for {
			d, err := procCPU(pid)
			if err != nil {
				if start < 0 {
					start = 0
				}
				w.used <- last - start
				return
			}
			last = d
			if start < 0 {
				select {
				case <-w.marked:
					start = last
				default:
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

// mark starts the count (at the first byte, so the proxy's start-up is not counted per GiB).
func (w *cpuWatch) mark() { w.marked <- 0 }

var acceptedRE = regexp.MustCompile(`(?m)^Accepted [a-z/-]+ for `)

// logins counts the logins the test host's sshd has accepted.
func (w *world) logins() (int, error) {
	data, err := os.ReadFile(w.host.SSHDLog)
	return len(acceptedRE.FindAll(data, -1)), err
}

func benchRelay(ctx context.Context, w *world, r *report) error {
	cfg, arms, err := w.relayConfig(r.cfg.relayBaseline)
	if err != nil {
		return err
	}
	n := r.cfg.relaySize

	// Throughput and CPU: `ssh HOST 'head -c N /dev/zero'`, timed from the first byte to EOF.
	for i := 0; i <= r.cfg.runs; i++ {
		for _, a := range arms {
			size := n
			if i == 0 {
				size = 1 << 20 // warm-up
			}
			cmd := w.relaySSH(ctx, cfg, a.alias, fmt.Sprintf("head -c %d /dev/zero", size))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				return err
			}
			if err := cmd.Start(); err != nil {
				return err
			}
			var watch *cpuWatch
			if a.proxy {
				pid, err := childOf(cmd.Process.Pid)
				if err != nil {
					cmd.Process.Kill()
					cmd.Wait()
					return err
				}
				watch = watchCPU(pid)
			}
			first := make([]byte, 1)
			var d time.Duration
			got, err := io.ReadFull(out, first)
			if watch != nil {
				watch.mark()
			}
			if err == nil {
				t0 := time.Now()
				var m int64
				m, err = io.Copy(io.Discard, out)
				d = time.Since(t0)
				got += int(m)
			}
			werr := cmd.Wait()
			if err != nil || werr != nil || int64(got) != size {
				return fmt.Errorf("ssh %s: read %d of %d bytes (%v, %v): %s", a.alias, got, size, err, werr, stderr.String())
			}
			var cpu time.Duration
			if a.proxy {
				select {
				case cpu = <-watch.used:
				case <-time.After(20 * time.Second):
					return fmt.Errorf("the ProxyCommand of %s did not exit after ssh", a.alias)
				}
			}
			if i > 0 {
				a.mbps = append(a.mbps, mbps(size-1, d))
				a.cpu += cpu
				a.moved += size
			}
		}
	}

	// Round trip: one `ssh HOST cat` per arm, one byte there and back, the arms taking turns byte by byte.
	type pinger struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
	}
	var ps []*pinger
	defer func() {
		for _, p := range ps {
			p.in.Close()
			p.cmd.Wait()
		}
	}()
	for _, a := range arms {
		cmd := w.relaySSH(ctx, cfg, a.alias, "cat")
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		ps = append(ps, &pinger{cmd: cmd, in: in, out: bufio.NewReader(out)})
	}
	ping := func(p *pinger) (time.Duration, error) {
		t0 := time.Now()
		if _, err := p.in.Write([]byte{'x'}); err != nil {
			return 0, err
		}
		if _, err := p.out.ReadByte(); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	for i := -20; i < r.cfg.latReqs*r.cfg.runs; i++ {
		for j := range arms {
			k := (j + i + 20) % len(arms) // each arm takes each place in the turn equally often
			a := arms[k]
			d, err := ping(ps[k])
			if err != nil {
				return fmt.Errorf("round trip through %s: %w", a.alias, err)
			}
			if i >= 0 {
				a.rtt = append(a.rtt, float64(d)/float64(time.Microsecond))
			}
		}
	}

	// Session start and logins: `ssh HOST true` and an scp per arm and run.
	small := filepath.Join(w.dir, "small.txt")
	if err := os.WriteFile(small, []byte("small\n"), 0o644); err != nil {
		return err
	}
	for i := 0; i <= r.cfg.runs; i++ {
		for _, a := range arms {
			before, err := w.logins()
			if err != nil {
				return err
			}
			t0 := time.Now()
			// The baseline binary may print a link here (what this comparison is about); the others must not.
			baseline := a.alias == "relay-base"
			if out, err := w.relaySSH(ctx, cfg, a.alias, "true").CombinedOutput(); err != nil || len(out) > 0 && !baseline {
				return fmt.Errorf("ssh %s true: %v, output %q", a.alias, err, out)
			}
			d := time.Since(t0)
			scp := exec.CommandContext(ctx, "scp", "-q", "-F", cfg, small, a.alias+":small.txt")
			scp.Env = w.env
			if out, err := scp.CombinedOutput(); err != nil || len(out) > 0 && !baseline {
				return fmt.Errorf("scp to %s: %v, output %q", a.alias, err, out)
			}
			time.Sleep(time.Second) // a side connection started late would log in by now
			after, err := w.logins()
			if err != nil {
				return err
			}
			if i > 0 {
				a.start = append(a.start, ms(d))
				a.sessions += 2
				a.logins += after - before
			}
		}
	}

	nbt, nc, direct := arms[0], arms[1], arms[2]
	cpuPerGiB := func(a *relayArm) float64 {
		if a.moved == 0 {
			return 0
		}
		return ms(a.cpu) / (float64(a.moved) / (1 << 30))
	}
	s := r.section(fmt.Sprintf("The user's ssh through the hook: `ssh HOST 'head -c %d MiB'`, `ssh HOST cat`, `ssh HOST true`", n>>20),
		"nbtunnel proxy", "nc / direct")
	o, t, d := nbt.mbps.median(), nc.mbps.median(), direct.mbps.median()
	s.add("throughput (MiB/s), vs nc", f0(o), f0(t), ratio(o, t), "≥ 1.0x", verdict(o >= t))
	s.add("throughput (MiB/s), vs direct", f0(o), f0(d), ratio(o, d), "", "")
	s.add("throughput (MiB/s), nc vs direct", f0(t), f0(d), ratio(t, d), "", "")
	co, ct := cpuPerGiB(nbt), cpuPerGiB(nc)
	s.add("proxy CPU ms per GiB, vs nc", f0(co), f0(ct), ratio(co, ct), "", "")
	ro, rt, rd := nbt.rtt.median(), nc.rtt.median(), direct.rtt.median()
	s.add("1-byte round trip p50 (µs), vs nc", f0(ro), f0(rt), ratio(ro, rt), "≤ 1.1x", verdict(ro <= 1.1*rt))
	s.add("1-byte round trip p50 (µs), vs direct", f0(ro), f0(rd), ratio(ro, rd), "", "")
	s.add("1-byte round trip p99 (µs), vs nc", f0(nbt.rtt.quantile(0.99)), f0(nc.rtt.quantile(0.99)),
		ratio(nbt.rtt.quantile(0.99), nc.rtt.quantile(0.99)), "", "")
	so, st, sd := nbt.start.median(), nc.start.median(), direct.start.median()
	s.add("`ssh HOST true` (ms), vs nc", f1(so), f1(st), ratio(so, st), "", "")
	s.add("`ssh HOST true` (ms), vs direct", f1(so), f1(sd), ratio(so, sd), "", "")
	perSession := func(a *relayArm) float64 { return float64(a.logins) / float64(max(a.sessions, 1)) }
	s.add("logins per non-interactive session (ssh true, scp)", fmt.Sprintf("%.2f", perSession(nbt)),
		fmt.Sprintf("%.2f", perSession(nc)), "", "1", verdict(perSession(nbt) == 1))
	if len(arms) > 3 {
		b := arms[3]
		ob := b.mbps.median()
		s.add("throughput (MiB/s), vs the baseline binary's hook", f0(o), f0(ob), ratio(o, ob), "", "")
		cb := cpuPerGiB(b)
		s.add("proxy CPU ms per GiB, vs the baseline binary's hook", f0(co), f0(cb), ratio(co, cb), "< 1.0x", verdict(co < cb))
		rb := b.rtt.median()
		s.add("1-byte round trip p50 (µs), vs the baseline binary's hook", f0(ro), f0(rb), ratio(ro, rb), "", "")
		s.add("logins per non-interactive session, the baseline binary's hook", fmt.Sprintf("%.2f", perSession(b)), "", "", "", "")
	}
	s.note("OpenSSH's ssh with its defaults (chacha20-poly1305) on all arms; nc is netcat-openbsd. Throughput is timed from the "+
		"first byte to EOF (session setup excluded); round trips: %d per arm per run, the arms taking turns byte by byte (in a rotating order), all "+
		"samples pooled; CPU is the proxy process's user+system time from the first byte to its exit (/proc/PID/stat, "+
		"read every 5 ms while it runs; 10 ms resolution).", r.cfg.latReqs)
	if r.cfg.relayBaseline != "" {
		s.note("Baseline: %s.", r.cfg.relayBaselineNote)
	}
	return nil
}
