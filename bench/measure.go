package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

const (
	aesGCM = "aes128-gcm@openssh.com"
	ourKex = "curve25519-sha256" // what x/crypto/ssh and OpenSSH 9.2's sshd agree on
)

// benchLink measures time to a working link: nbtunnel open until its link answers api/status, against
// `ssh lab true` (one handshake and one exec: the floor), the hand-made OpenSSH way (read the runtime
// file with ssh, ssh -fN -L, probe) and both again over an existing ControlMaster.
func benchLink(ctx context.Context, w *world, r *report) error {
	if err := w.ssh(ctx, "-fN", "-o", "ControlMaster=yes", "lab-cm").Run(); err != nil {
		return fmt.Errorf("starting the ControlMaster: %w", err)
	}
	defer w.ssh(context.Background(), "-O", "exit", "lab-cm").Run()
	var nbt, floor, floorKex, hand, nbtCM, floorCM samples
	for i := 0; i <= w.cfgRuns(r); i++ {
		d1, err := w.nbtunnelLink(ctx, "lab")
		if err != nil {
			return err
		}
		d2, err := timed(func() error { return w.ssh(ctx, "lab", "true").Run() })
		if err != nil {
			return fmt.Errorf("ssh lab true: %w", err)
		}
		d6, err := timed(func() error { return w.ssh(ctx, "-o", "KexAlgorithms="+ourKex, "lab", "true").Run() })
		if err != nil {
			return fmt.Errorf("ssh lab true: %w", err)
		}
		d3, err := w.handMadeLink(ctx)
		if err != nil {
			return err
		}
		d4, err := w.nbtunnelLink(ctx, "lab-cm")
		if err != nil {
			return err
		}
		d5, err := timed(func() error { return w.ssh(ctx, "lab-cm", "true").Run() })
		if err != nil {
			return fmt.Errorf("ssh lab-cm true: %w", err)
		}
		if i == 0 {
			continue // warm-up
		}
		nbt, floor, hand = append(nbt, ms(d1)), append(floor, ms(d2)), append(hand, ms(d3))
		nbtCM, floorCM = append(nbtCM, ms(d4)), append(floorCM, ms(d5))
		floorKex = append(floorKex, ms(d6))
	}
	s := r.section("Time to a working link (ms, median)", "nbtunnel open", "OpenSSH")
	s.add("direct vs `ssh HOST true`", f1(nbt.median()), f1(floor.median()), ratio(nbt.median(), floor.median()),
		"≤ 1.2x", verdict(nbt.median() <= 1.2*floor.median()))
	s.add("direct vs `ssh -o KexAlgorithms="+ourKex+" HOST true`", f1(nbt.median()), f1(floorKex.median()),
		ratio(nbt.median(), floorKex.median()), "", "")
	s.add("direct vs hand-made (ssh cat runtime file; ssh -fN -L; probe)", f1(nbt.median()), f1(hand.median()),
		ratio(nbt.median(), hand.median()), "", "")
	s.add("over a ControlMaster vs `ssh HOST true` over it", f1(nbtCM.median()), f1(floorCM.median()),
		ratio(nbtCM.median(), floorCM.median()), "≤ 50 ms", verdict(nbtCM.median() <= 50))
	s.note("nbtunnel open is timed from its start until a GET api/status through the printed link answers 200. " +
		"OpenSSH 9.2 negotiates sntrup761x25519-sha512 by default; golang.org/x/crypto/ssh has no sntrup761 and " +
		"negotiates " + ourKex + " with it, hence the row with OpenSSH on that key exchange.")
	return nil
}

func (w *world) cfgRuns(r *report) int { return r.cfg.runs }

func timed(f func() error) (time.Duration, error) {
	t := time.Now()
	err := f()
	return time.Since(t), err
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f0(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func (w *world) nbtunnelLink(ctx context.Context, alias string) (time.Duration, error) {
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t := time.Now()
	f, err := w.openNbtunnel(lctx, alias)
	if err != nil {
		return 0, err
	}
	defer f.stop()
	if err := statusOK(lctx, oneShot, f.base, w.jup.Token); err != nil {
		return 0, fmt.Errorf("checking nbtunnel's link: %w", err)
	}
	return time.Since(t), nil
}

// handMadeLink is what a user does by hand: read the runtime file, forward its port, try it.
func (w *world) handMadeLink(ctx context.Context) (time.Duration, error) {
	t := time.Now()
	out, err := w.ssh(ctx, "lab", "cat .local/share/jupyter/runtime/jpserver-*.json").Output()
	if err != nil {
		return 0, fmt.Errorf("reading the runtime file with ssh: %w", err)
	}
	var info struct {
		Port    int    `json:"port"`
		Token   string `json:"token"`
		BaseURL string `json:"base_url"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, fmt.Errorf("parsing the runtime file: %w", err)
	}
	lp, err := freeLocalPort()
	if err != nil {
		return 0, err
	}
	sock := filepath.Join(w.dir, "hand.sock")
	err = w.ssh(ctx, "-fN", "-M", "-S", sock, "-o", "ExitOnForwardFailure=yes",
		"-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", lp, info.Port), "lab").Run()
	if err != nil {
		return 0, fmt.Errorf("ssh -fN -L: %w", err)
	}
	defer w.ssh(context.Background(), "-S", sock, "-O", "exit", "lab").Run()
	if err := statusOK(ctx, oneShot, fmt.Sprintf("http://127.0.0.1:%d%s", lp, info.BaseURL), info.Token); err != nil {
		return 0, fmt.Errorf("probing the hand-made forward: %w", err)
	}
	return time.Since(t), nil
}

// download asks the sink for n bytes through addr and reads them.
func download(addr string, n int64) (time.Duration, error) {
	t := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var hdr [9]byte
	hdr[0] = 'D'
	binary.BigEndian.PutUint64(hdr[1:], uint64(n))
	if _, err := c.Write(hdr[:]); err != nil {
		return 0, err
	}
	got, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
	if err != nil {
		return 0, err
	}
	if got != n {
		return 0, fmt.Errorf("downloaded %d bytes, want %d", got, n)
	}
	return time.Since(t), nil
}

// upload sends n bytes to the sink through addr and waits for its count.
func upload(addr string, n int64) (time.Duration, error) {
	t := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.Write([]byte{'U'}); err != nil {
		return 0, err
	}
	for left := n; left > 0; {
		k, err := c.Write(sinkData[:min(left, int64(len(sinkData)))])
		if err != nil {
			return 0, err
		}
		left -= int64(k)
	}
	c.(*net.TCPConn).CloseWrite()
	var cnt [8]byte
	if _, err := io.ReadFull(c, cnt[:]); err != nil {
		return 0, fmt.Errorf("reading the sink's count: %w", err)
	}
	if got := int64(binary.BigEndian.Uint64(cnt[:])); got != n {
		return 0, fmt.Errorf("uploaded %d bytes, sink got %d", n, got)
	}
	return time.Since(t), nil
}

// benchRaw measures raw TCP throughput to the sink through nbtunnel's forward and ssh -L.
func benchRaw(ctx context.Context, w *world, r *report) error {
	type arm struct {
		f              *fwd
		down, up       samples
		cpuDown, cpuUp time.Duration // CPU time of the forward's process over the measured transfers
	}
	var arms []*arm
	defer func() {
		for _, a := range arms {
			a.f.stop()
		}
	}()
	for _, mk := range []func() (*fwd, error){
		func() (*fwd, error) { return w.helperForward(ctx, w.sinkPort, "", r.profile("raw-default")) },
		func() (*fwd, error) { return w.sshForward(ctx, w.sinkPort) },
		func() (*fwd, error) { return w.sshForward(ctx, w.sinkPort, "-c", aesGCM) },
		func() (*fwd, error) {
			return w.helperForward(ctx, w.sinkPort, "chacha20-poly1305@openssh.com", r.profile("raw-chacha20"))
		},
	} {
		f, err := mk()
		if err != nil {
			return err
		}
		arms = append(arms, &arm{f: f})
	}
	n := r.cfg.rawSize
	for i := 0; i <= r.cfg.runs; i++ {
		for _, a := range arms {
			size := n
			if i == 0 {
				size = 1 << 20 // warm-up
			}
			c0, err := procCPU(a.f.pid())
			if err != nil {
				return err
			}
			dd, err := download(a.f.addr, size)
			if err != nil {
				return fmt.Errorf("download through %s: %w", a.f.name, err)
			}
			c1, err := procCPU(a.f.pid())
			if err != nil {
				return err
			}
			du, err := upload(a.f.addr, size)
			if err != nil {
				return fmt.Errorf("upload through %s: %w", a.f.name, err)
			}
			c2, err := procCPU(a.f.pid())
			if err != nil {
				return err
			}
			if i > 0 {
				a.down, a.up = append(a.down, mbps(size, dd)), append(a.up, mbps(size, du))
				a.cpuDown += c1 - c0
				a.cpuUp += c2 - c1
			}
		}
	}
	nbt, ssh, sshAES, nbtChacha := arms[0], arms[1], arms[2], arms[3]
	s := r.section(fmt.Sprintf("Raw TCP throughput, %d MiB per transfer (MiB/s, median)", n>>20), "nbtunnel forward", "OpenSSH ssh -L")
	for _, dir := range []string{"down", "up"} {
		get := func(a *arm) samples {
			if dir == "down" {
				return a.down
			}
			return a.up
		}
		o, t, ta, oc := get(nbt).median(), get(ssh).median(), get(sshAES).median(), get(nbtChacha).median()
		// CPU milliseconds of the forwarding process per GiB moved: steadier than MiB/s on a busy machine.
		cpu := func(a *arm) float64 {
			d := a.cpuDown
			if dir == "up" {
				d = a.cpuUp
			}
			return ms(d) / (float64(n) * float64(r.cfg.runs) / (1 << 30))
		}
		s.add(dir+": our default vs ssh -L defaults (chacha20)", f0(o), f0(t), ratio(o, t), "≥ 1.0x", verdict(o >= t))
		s.add(dir+": our default vs ssh -L -c aes128-gcm", f0(o), f0(ta), ratio(o, ta), "≈ 1.0x", "")
		s.add(dir+": ours forced to chacha20 vs ssh -L defaults (chacha20)", f0(oc), f0(t), ratio(oc, t), "", "")
		s.add(dir+": CPU ms per GiB, our default vs ssh -L -c aes128-gcm", f0(cpu(nbt)), f0(cpu(sshAES)), ratio(cpu(nbt), cpu(sshAES)), "", "")
		s.add(dir+": CPU ms per GiB, chacha20 both", f0(cpu(nbtChacha)), f0(cpu(ssh)), ratio(cpu(nbtChacha), cpu(ssh)), "", "")
	}
	s.note("\"nbtunnel forward\" is package proxy's Forwarder over sshclient.Dial (the code `nbtunnel open` runs), in a helper "+
		"process pointed at a sink/source server inside the host's namespace; our default cipher is %s.", defaultCipherNote())
	return nil
}

// profile names a CPU profile file for a helper, or "" without -cpuprofile.
func (r *report) profile(name string) string {
	if r.cfg.cpuprofile == "" {
		return ""
	}
	return filepath.Join(r.cfg.cpuprofile, name+".pprof")
}

func defaultCipherNote() string {
	// Mirrors proxy's preferredCiphers: AES-GCM first where the CPU has AES instructions.
	if hasAES() {
		return "aes128-gcm@openssh.com (the CPU has AES instructions)"
	}
	return "chacha20-poly1305@openssh.com (the CPU has no AES instructions)"
}

func hasAES() bool {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(data)) {
		if f == "aes" {
			return true
		}
	}
	return false
}

// benchJupyter measures /files/ download throughput and keep-alive api/status latency through nbtunnel
// open's forward and ssh -L.
func benchJupyter(ctx context.Context, w *world, r *report) error {
	type arm struct {
		f      *fwd
		client *http.Client
		files  samples
		lat    samples
	}
	var arms []*arm
	defer func() {
		for _, a := range arms {
			a.f.stop()
		}
	}()
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, mk := range []func() (*fwd, error){
		func() (*fwd, error) { return w.openNbtunnel(lctx, "lab") },
		func() (*fwd, error) { return w.sshForward(ctx, w.jup.Port) },
		func() (*fwd, error) { return w.sshForward(ctx, w.jup.Port, "-c", aesGCM) },
	} {
		f, err := mk()
		if err != nil {
			return err
		}
		arms = append(arms, &arm{f: f, client: &http.Client{Timeout: time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}})
	}
	for i := 0; i <= r.cfg.runs; i++ {
		for _, a := range arms {
			d, err := timed(func() error { return getFile(ctx, a.client, a.f.base+"files/"+w.bigFile, w.jup.Token, w.bigSize) })
			if err != nil {
				return fmt.Errorf("downloading through %s: %w", a.f.name, err)
			}
			if i > 0 {
				a.files = append(a.files, mbps(w.bigSize, d))
			}
		}
		// Latency: one request per arm in turn, so that a burst of noise hits every arm alike.
		for k := 0; k < r.cfg.latReqs; k++ {
			for _, a := range arms {
				d, err := timed(func() error { return statusOK(ctx, a.client, a.f.base, w.jup.Token) })
				if err != nil {
					return fmt.Errorf("api/status through %s: %w", a.f.name, err)
				}
				if i > 0 {
					a.lat = append(a.lat, ms(d))
				}
			}
		}
	}
	nbt, ssh, sshAES := arms[0], arms[1], arms[2]
	s := r.section(fmt.Sprintf("Jupyter through the forward: /files/ download of %d MiB (MiB/s) and keep-alive GET api/status (ms)", w.bigSize>>20),
		"nbtunnel open", "OpenSSH ssh -L")
	o, t, ta := nbt.files.median(), ssh.files.median(), sshAES.files.median()
	s.add("/files/ download vs ssh -L defaults", f0(o), f0(t), ratio(o, t), "≥ 1.0x", verdict(o >= t))
	s.add("/files/ download vs ssh -L -c aes128-gcm", f0(o), f0(ta), ratio(o, ta), "≈ 1.0x", "")
	p50, p50s, p50a := nbt.lat.median(), ssh.lat.median(), sshAES.lat.median()
	s.add("api/status p50 vs ssh -L defaults", f1(p50*1000)+" µs", f1(p50s*1000)+" µs", ratio(p50, p50s), "≤ 1.1x", verdict(p50 <= 1.1*p50s))
	s.add("api/status p50 vs ssh -L -c aes128-gcm", f1(p50*1000)+" µs", f1(p50a*1000)+" µs", ratio(p50, p50a), "", "")
	p99, p99s := nbt.lat.quantile(0.99), ssh.lat.quantile(0.99)
	s.add("api/status p99 vs ssh -L defaults", f1(p99*1000)+" µs", f1(p99s*1000)+" µs", ratio(p99, p99s), "", "")
	s.note("Latency: %d requests per arm per run on one keep-alive connection per arm, the arms taking turns request by "+
		"request; %d runs, all samples pooled.", r.cfg.latReqs, r.cfg.runs)
	return nil
}

func getFile(ctx context.Context, c *http.Client, u, token string, want int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("GET %s: %d bytes, want %d", u, n, want)
	}
	return nil
}

// benchConcurrent opens many connections at once through a fresh nbtunnel open and a fresh ssh -L, each
// a GET api/status, and reads the processes' peak memory idle and after the load.
func benchConcurrent(ctx context.Context, w *world, r *report) error {
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	nbt, err := w.openNbtunnel(lctx, "lab")
	if err != nil {
		return err
	}
	defer nbt.stop()
	ssh, err := w.sshForward(ctx, w.jup.Port)
	if err != nil {
		return err
	}
	defer ssh.stop()
	time.Sleep(time.Second)
	idleHWM, idleRSS, err := procStatus(nbt.pid())
	if err != nil {
		return err
	}
	sshIdleHWM, _, err := procStatus(ssh.pid())
	if err != nil {
		return err
	}
	var tn, ts samples
	var en, es int
	var firstErr error
	for i := 0; i <= r.cfg.runs; i++ {
		for _, a := range []struct {
			f *fwd
			t *samples
			e *int
		}{{nbt, &tn, &en}, {ssh, &ts, &es}} {
			d, nerr, err := concurrent(ctx, a.f.base, w.jup.Token, r.cfg.conns)
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", a.f.name, err)
			}
			if i > 0 {
				*a.t = append(*a.t, ms(d))
				*a.e += nerr
			}
		}
	}
	hwm, rss, err := procStatus(nbt.pid())
	if err != nil {
		return err
	}
	sshHWM, _, err := procStatus(ssh.pid())
	if err != nil {
		return err
	}
	s := r.section(fmt.Sprintf("%d concurrent connections (each a new connection and GET api/status), memory", r.cfg.conns),
		"nbtunnel open", "OpenSSH ssh -L")
	s.add("total time (ms, median)", f0(tn.median()), f0(ts.median()), ratio(tn.median(), ts.median()), "", "")
	s.add(fmt.Sprintf("errors in %d runs", r.cfg.runs), strconv.Itoa(en), strconv.Itoa(es), "", "0", verdict(en == 0))
	s.add("peak RSS idle (VmHWM)", kib(idleHWM), kib(sshIdleHWM), "", "≤ 20 MB", verdict(idleHWM*1024 <= 20e6))
	s.add("peak RSS after the load (VmHWM)", kib(hwm), kib(sshHWM), "", "≤ 40 MB", verdict(hwm*1024 <= 40e6))
	s.add("RSS idle / after the load (VmRSS)", kib(idleRSS)+" / "+kib(rss), "", "", "", "")
	if firstErr != nil {
		s.note("First error: %v", firstErr)
	}
	return nil
}

func kib(k int64) string { return fmt.Sprintf("%.1f MB", float64(k)*1024/1e6) }

// concurrent starts n GET api/status requests at once, each on its own connection.
func concurrent(ctx context.Context, base, token string, n int) (time.Duration, int, error) {
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}}
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	var errs atomic.Int64
	var first atomic.Value
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := statusOK(ctx, c, base, token); err != nil {
				errs.Add(1)
				first.CompareAndSwap(nil, err)
			}
		}()
	}
	t := time.Now()
	close(start)
	wg.Wait()
	d := time.Since(t)
	var err error
	if e, ok := first.Load().(error); ok {
		err = e
	}
	return d, int(errs.Load()), err
}

// benchDiscovery times tunnel.Discover on one connection with and without stale runtime files.
func benchDiscovery(ctx context.Context, w *world, r *report) error {
	if err := w.makeStale(ctx, r.cfg.staleFiles); err != nil {
		return err
	}
	home := ""
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "HOME="); ok {
			home = v
		}
	}
	h, err := hostconf.Resolve(ctx, "lab", hostconf.ResolveOptions{ConfigFile: w.config, Home: home, LocalUser: "root"})
	if err != nil {
		return err
	}
	c, err := sshclient.Dial(ctx, h, sshclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	var without, with samples
	for i := 0; i <= r.cfg.runs; i++ {
		for _, in := range []bool{false, true} {
			if err := w.toggleStale(ctx, in); err != nil {
				return err
			}
			var found *tunnel.Found
			d, err := timed(func() error {
				var err error
				found, err = tunnel.Discover(ctx, c)
				return err
			})
			if err != nil {
				return err
			}
			if len(found.Live) != 1 {
				return fmt.Errorf("discovery found %d live servers, want 1", len(found.Live))
			}
			if in && len(found.Skipped) != r.cfg.staleFiles {
				return fmt.Errorf("discovery skipped %d stale files, want %d", len(found.Skipped), r.cfg.staleFiles)
			}
			if i > 0 && in {
				with = append(with, ms(d))
			} else if i > 0 {
				without = append(without, ms(d))
			}
		}
	}
	if err := w.toggleStale(ctx, false); err != nil {
		return err
	}
	s := r.section("Discovery (tunnel.Discover on an open connection: one exec, then probing the live server)", "with stale files", "without")
	added := with.median() - without.median()
	s.add(fmt.Sprintf("%d stale runtime files (ms, median)", r.cfg.staleFiles), f1(with.median()), f1(without.median()),
		ratio(with.median(), without.median()), "", "")
	s.add("added by the stale files (ms)", f1(added), "", "", "≤ 50 ms", verdict(added <= 50))
	return nil
}
