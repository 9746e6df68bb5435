package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// world is what every measurement runs against: one test host with sshd and a Jupyter server, an ssh
// config naming it twice (directly and through a ControlMaster), the nbtunnel binary and a sink/source
// server inside the host's namespace.
type world struct {
	bed      *testbed.Bed
	host     *testbed.Host
	jup      *testbed.Jupyter
	dir      string // scratch directory: configs, control socket, nbtunnel's HOME
	config   string // ssh_config with Host "lab" and "lab-cm"
	ctlPath  string // ControlPath of lab-cm
	bin      string // the nbtunnel binary
	sinkPort int    // sink/source server on 127.0.0.1 inside the namespace
	bigFile  string // name of the large file in the user's home (for /files/)
	bigSize  int64
	env      []string // nbtunnel's environment
	sink     net.Listener
}

func setup(ctx context.Context, cfg config) (*world, error) {
	w := &world{}
	var err error
	w.dir, err = os.MkdirTemp("", "nbtunnel-bench-")
	if err != nil {
		return nil, err
	}
	w.bin = cfg.bin
	if w.bin == "" {
		w.bin = filepath.Join(w.dir, "nbtunnel")
		logf("building nbtunnel")
		build := exec.CommandContext(ctx, "go", "build", "-o", w.bin, "./cmd/nbtunnel")
		build.Dir = cfg.moduleDir
		if out, err := build.CombinedOutput(); err != nil {
			w.close()
			return nil, fmt.Errorf("building nbtunnel: %w\n%s", err, out)
		}
	}
	logf("starting the test host (sshd and Jupyter in a network namespace)")
	w.bed, err = testbed.Start(ctx, testbed.Options{})
	if err != nil {
		w.close()
		return nil, err
	}
	w.host, err = w.bed.AddHost(ctx, testbed.HostOptions{Alias: "lab"})
	if err != nil {
		w.close()
		return nil, err
	}
	w.jup, err = w.host.StartJupyter(ctx, testbed.JupyterOptions{Kind: testbed.KindServer})
	if err != nil {
		w.close()
		return nil, err
	}
	w.bigFile, w.bigSize = "big.bin", cfg.fileSize
	if _, err := w.host.Run(ctx, fmt.Sprintf("head -c %d /dev/urandom > %s", w.bigSize, w.bigFile)); err != nil {
		w.close()
		return nil, err
	}
	if err := w.startSink(); err != nil {
		w.close()
		return nil, err
	}
	home := filepath.Join(w.dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		w.close()
		return nil, err
	}
	w.env = append([]string{"HOME=" + home, "USER=root", "PATH=" + os.Getenv("PATH")}, cfg.env...)
	w.ctlPath = filepath.Join(w.dir, "cm.sock")
	w.config = filepath.Join(w.dir, "ssh_config")
	var b strings.Builder
	for _, alias := range []string{"lab", "lab-cm"} {
		fmt.Fprintf(&b, "Host %s\n\tHostName %s\n\tPort %d\n\tUser %s\n\tIdentityFile %s\n\tIdentitiesOnly yes\n"+
			"\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n\tConnectTimeout 10\n\tBatchMode yes\n",
			alias, w.host.Addr, w.host.Port, w.host.User, w.bed.ClientKey, w.bed.KnownHosts)
		if alias == "lab-cm" {
			fmt.Fprintf(&b, "\tControlPath %s\n", w.ctlPath)
		} else {
			fmt.Fprintf(&b, "\tControlPath none\n")
		}
	}
	if err := os.WriteFile(w.config, []byte(b.String()), 0o644); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	if w.sink != nil {
		w.sink.Close()
	}
	if w.bed != nil {
		if err := w.bed.Close(); err != nil {
			logf("closing the test bed: %v", err)
		}
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// ssh returns the real OpenSSH client with the bench's config.
func (w *world) ssh(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ssh", append([]string{"-F", w.config}, args...)...)
}

// nbtunnel returns the nbtunnel binary with args and the bench's environment.
func (w *world) nbtunnel(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Env = w.env
	return cmd
}

// startSink listens on 127.0.0.1 inside the host's namespace and serves the raw TCP protocol: the client
// sends 'D' and an 8-byte big-endian count and receives that many bytes then EOF; or 'U', then data until
// its half-close, and receives the 8-byte count of bytes read.
func (w *world) startSink() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer orig.Close()
	ns, err := os.Open("/run/netns/" + w.host.Netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("entering namespace %s: %w", w.host.Netns, err)
	}
	ln, lerr := net.Listen("tcp4", "127.0.0.1:0")
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays in the namespace: lock it for good so Go discards it.
		runtime.LockOSThread()
		return fmt.Errorf("leaving namespace %s: %w", w.host.Netns, err)
	}
	if lerr != nil {
		return lerr
	}
	w.sink = ln
	w.sinkPort = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSink(c)
		}
	}()
	return nil
}

var sinkData = make([]byte, 256<<10)

func serveSink(c net.Conn) {
	defer c.Close()
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:1]); err != nil {
		return
	}
	switch hdr[0] {
	case 'D':
		if _, err := io.ReadFull(c, hdr[1:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint64(hdr[1:]))
		for n > 0 {
			k, err := c.Write(sinkData[:min(n, int64(len(sinkData)))])
			if err != nil {
				return
			}
			n -= int64(k)
		}
	case 'U':
		buf := make([]byte, 256<<10)
		var n int64
		for {
			k, err := c.Read(buf)
			n += int64(k)
			if err != nil {
				break
			}
		}
		binary.BigEndian.PutUint64(hdr[1:], uint64(n))
		c.Write(hdr[1:])
	}
}

// runtimeDir is the Jupyter runtime directory of the host's user.
func (w *world) runtimeDir() string {
	return filepath.Join(w.host.Home, ".local/share/jupyter/runtime")
}

// makeStale writes n runtime files of dead pids into a hidden directory beside the runtime directory, from
// where toggleStale moves them in and out.
func (w *world) makeStale(ctx context.Context, n int) error {
	script := fmt.Sprintf(`set -e
mkdir -p %[1]s/.stale
i=0
while [ $i -lt %[2]d ]; do
	pid=$((3000000 + i))
	[ -d /proc/$pid ] && { i=$((i+1)); continue; }
	printf '{"base_url": "/", "hostname": "127.0.0.1", "password": false, "pid": %%d, "port": %%d, "root_dir": "%[3]s", "secure": false, "sock": "", "token": "0123456789abcdef0123456789abcdef0123456789abcdef", "url": "http://127.0.0.1:%%d/", "version": "1.23.3"}\n' $pid $((20000 + i)) $((20000 + i)) > %[1]s/.stale/jpserver-$pid.json
	i=$((i+1))
done`, w.runtimeDir(), n, w.host.Home)
	_, err := w.host.Run(ctx, script)
	return err
}

// toggleStale moves the stale files into the runtime directory (in) or back out.
func (w *world) toggleStale(ctx context.Context, in bool) error {
	from, to := filepath.Join(w.runtimeDir(), ".stale"), w.runtimeDir()
	if !in {
		from, to = to, from
	}
	// The live server's file has a pid below 3000000; the stale ones start with 3.
	_, err := w.host.Run(ctx, fmt.Sprintf("cd %s && find . -maxdepth 1 -name 'jpserver-3??????.json' -exec mv -t %s {} +", from, to))
	return err
}

// procStatus reads VmHWM and VmRSS (KiB) of pid.
func procStatus(pid int) (hwm, rss int64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = v
		case "VmRSS:":
			rss = v
		}
	}
	if hwm == 0 {
		return 0, 0, errors.New("no VmHWM in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return hwm, rss, nil
}

// procCPU returns the user and system CPU time pid has used, all threads together (clock-tick resolution).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after its closing parenthesis.
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / clockTicks), nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// waitPort waits until addr accepts a TCP connection.
func waitPort(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// freeLocalPort returns a TCP port free on 127.0.0.1 right now.
func freeLocalPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
