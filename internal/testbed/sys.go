package testbed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	sigKILL = syscall.SIGKILL
)

// cmdTimeout bounds each administrative command (ip, useradd, ...).
const cmdTimeout = 30 * time.Second

// command runs name with args as root and returns its standard output; the error carries its standard error.
func command(ctx context.Context, name string, args ...string) (string, error) {
	return commandIn(ctx, nil, "", nil, name, args...)
}

// commandIn runs name with args, environment env (nil: inherit), working directory dir and standard input
// stdin (nil: none), bounded by ctx and cmdTimeout.
func commandIn(ctx context.Context, env []string, dir string, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	path, err := lookPath(name)
	if err != nil {
		return "", fmt.Errorf("running %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return stdout.String(), fmt.Errorf("running %s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.String(), nil
}

// proc is a long-running child (sshd, Jupyter) started in its own session.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // valid after done is closed
}

// startProc starts cmd in a new session with stdout and stderr appended to logPath.
func startProc(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("starting %s: opening log: %w", name, err)
	}
	defer logf.Close()
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the process's whole session group (it is a session leader).
func (p *proc) signalGroup(sig syscall.Signal) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), sig)
	_ = syscall.Kill(p.pid(), sig)
}

// signal sends sig to the process alone.
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = syscall.Kill(p.pid(), sig)
	}
}

func (p *proc) waitUntil(deadline time.Time) bool {
	d := time.Until(deadline)
	if d < 0 {
		d = 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return p.exited()
	}
}

// logTail returns the last lines of a log file, for error messages.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", path, err)
	}
	s := strings.TrimRight(string(data), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return fmt.Sprintf("log %s:\n%s", path, strings.Join(lines, "\n"))
}

// lockFile creates path and takes an exclusive flock on it without blocking.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// globalLock serializes, across processes, the steps that pick names and addresses and that create or remove
// users (useradd and userdel refuse to run concurrently).
func globalLock(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(stateRoot, "lock")
	for {
		f, err := lockFile(path)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("locking %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cleanStale removes the resources of runs whose owner lock is no longer held (their process died).
// The caller holds the global lock. Errors are ignored: a leftover that cannot be removed now is retried by
// the next run.
func cleanStale(ctx context.Context) {
	entries, err := os.ReadDir(stateRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(stateRoot, e.Name())
		f, err := lockFile(filepath.Join(dir, "owner.lock"))
		if err != nil {
			continue // alive (or unreadable): not ours to touch
		}
		res, _ := readResources(dir)
		_ = cleanupResources(ctx, res)
		_ = os.RemoveAll(dir)
		f.Close()
	}
}

type resource struct{ kind, name string }

func readResources(stateDir string) ([]resource, error) {
	path := filepath.Join(stateDir, "resources")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	var res []resource
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, name, ok := strings.Cut(sc.Text(), " ")
		if ok && name != "" {
			res = append(res, resource{kind, name})
		}
	}
	return res, sc.Err()
}

// cleanupResources kills the processes in the recorded namespaces and of the recorded users, then removes
// routes, links, namespaces, users and directories. It only touches names with the bed's prefix.
func cleanupResources(ctx context.Context, res []resource) error {
	var errs []error
	var uids []int
	for _, r := range res {
		switch r.kind {
		case "netns":
			if strings.HasPrefix(r.name, namePrefix+"-") {
				killNetnsProcs(ctx, r.name)
			}
		case "user":
			if strings.HasPrefix(r.name, namePrefix) {
				if uid, ok := lookupUID(r.name); ok {
					uids = append(uids, uid)
				}
			}
		}
	}
	killUIDProcs(uids)
	for _, r := range res {
		if r.kind == "munged" && strings.Contains(r.name, "nbtunnel-testbed-") {
			killPidFile(r.name)
		}
	}
	for _, kind := range []string{"route", "link", "netns", "user", "dir"} {
		for i := len(res) - 1; i >= 0; i-- {
			r := res[i]
			if r.kind != kind {
				continue
			}
			var err error
			switch kind {
			case "route":
				if strings.HasPrefix(r.name, "10.213.") && routeExists(ctx, r.name) {
					_, err = command(ctx, "ip", "route", "del", "unreachable", r.name)
				}
			case "link":
				if strings.HasPrefix(r.name, namePrefix) && linkExists(r.name) {
					_, err = command(ctx, "ip", "link", "del", r.name)
				}
			case "netns":
				if strings.HasPrefix(r.name, namePrefix+"-") && fileExists("/run/netns/"+r.name) {
					_, err = command(ctx, "ip", "netns", "del", r.name)
				}
			case "user":
				if _, ok := lookupUID(r.name); ok && strings.HasPrefix(r.name, namePrefix) {
					_, err = command(ctx, "userdel", "-r", "-f", r.name)
					if err != nil && !userExists(r.name) {
						err = nil // userdel -r complains about a missing mail spool
					}
				}
			case "dir":
				if strings.Contains(filepath.Base(r.name), "nbtunnel-testbed-") {
					err = os.RemoveAll(r.name)
				}
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

func routeExists(ctx context.Context, prefix string) bool {
	out, err := command(ctx, "ip", "-4", "route", "show", "type", "unreachable", prefix)
	return err == nil && strings.TrimSpace(out) != ""
}

// killNetnsProcs SIGKILLs every process in the named namespace.
func killNetnsProcs(ctx context.Context, ns string) {
	if !fileExists("/run/netns/" + ns) {
		return
	}
	for range 3 {
		out, err := command(ctx, "ip", "netns", "pids", ns)
		if err != nil || strings.TrimSpace(out) == "" {
			return
		}
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killUIDProcs SIGKILLs every process whose real or effective uid is in uids, and waits (bounded) until none
// is left.
func killUIDProcs(uids []int) {
	if len(uids) == 0 {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := uidProcs(uids)
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func uidProcs(uids []int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		uid, ok := procUID(pid)
		if !ok {
			continue
		}
		for _, u := range uids {
			if uid == u {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// procUID returns the real uid of pid (zombies included: they still need reaping by their parent but hold
// nothing).
func procUID(pid int) (int, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	state := ""
	for _, line := range strings.Split(string(data), "\n") {
		if s, ok := strings.CutPrefix(line, "State:"); ok {
			state = strings.TrimSpace(s)
		}
		if s, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(s)
			if len(f) > 0 && !strings.HasPrefix(state, "Z") {
				uid, err := strconv.Atoi(f[0])
				return uid, err == nil
			}
		}
	}
	return 0, false
}

// procInfo returns the parent pid and command name of pid.
func procInfo(pid int) (ppid int, comm string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	s := string(data)
	open, closeParen := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closeParen < open {
		return 0, "", false
	}
	comm = s[open+1 : closeParen]
	f := strings.Fields(s[closeParen+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, comm, err == nil
}

// descendants returns every live descendant of root.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procInfo(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func lookupUID(name string) (int, bool) {
	u, _, ok := lookupUser(name)
	return u, ok
}

func userExists(name string) bool {
	_, ok := lookupUID(name)
	return ok
}

// lookupUser reads /etc/passwd directly (os/user may cache or use NSS modules).
func lookupUser(name string) (uid, gid int, ok bool) {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 7 && f[0] == name {
			u, err1 := strconv.Atoi(f[2])
			g, err2 := strconv.Atoi(f[3])
			return u, g, err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
}

// linkSubnet is 10.213.0.0/16, cut into /30 links: slot i is 10.213.(i/64).((i%64)*4).
var linkSubnet = netip.MustParsePrefix("10.213.0.0/16")

func slotPrefix(slot int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(slot / 64), byte(slot % 64 * 4)}), 30)
}

func slotAddr(slot, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 213, byte(slot / 64), byte(slot%64*4 + host)})
}

// usedSlots lists the /30 slots of 10.213.0.0/16 in use in the root namespace and in every nbt- namespace.
// The caller holds the global lock.
func usedSlots(ctx context.Context) (map[int]bool, error) {
	used := map[int]bool{}
	add := func(out string) {
		for _, f := range strings.Fields(out) {
			addr := f
			if i := strings.IndexByte(f, '/'); i >= 0 {
				addr = f[:i]
			}
			a, err := netip.ParseAddr(addr)
			if err != nil || !linkSubnet.Contains(a) {
				continue
			}
			b := a.As4()
			used[int(b[2])*64+int(b[3])/4] = true
		}
	}
	out, err := command(ctx, "ip", "-o", "-4", "addr", "show")
	if err != nil {
		return nil, err
	}
	add(out)
	out, err = command(ctx, "ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	add(out)
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), namePrefix+"-") {
			continue
		}
		out, err := command(ctx, "ip", "-n", e.Name(), "-o", "-4", "addr", "show")
		if err == nil {
			add(out)
		}
	}
	return used, nil
}

// inNetns runs fn on an OS thread switched into the named network namespace. Sockets fn creates stay in that
// namespace. If switching back fails the thread stays locked and is discarded when the goroutine ends.
func inNetns(ns string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: Go discards it when this goroutine exits.
		return errors.Join(ferr, fmt.Errorf("leaving namespace %s: %w", ns, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// dialNetns dials addr from inside the named namespace. Only numeric addresses are supported (no DNS).
func dialNetns(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(ns, func() error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		conn = c
		return err
	})
	return conn, err
}

// freePort returns a TCP port on 127.0.0.1 that is free inside the named namespace right now.
func freePort(ns string) (int, error) {
	var port int
	err := inNetns(ns, func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = l.Addr().(*net.TCPAddr).Port
		return l.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("picking a free port in namespace %s: %w", ns, err)
	}
	return port, nil
}
