//go:build linux

package main_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// The cluster tests share one real SLURM cluster (slurmctld on "hpc", slurmd on "cn1", one CPU) and run one
// after another; each cancels its jobs when it ends.

var (
	clusterOnce sync.Once
	cluster     *testbed.Cluster
	clusterErr  error
)

func sharedCluster(t *testing.T) *testbed.Cluster {
	t.Helper()
	testbed.Require(t, testbed.SlurmBinaries...)
	b := sharedBed(t)
	clusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster, clusterErr = b.AddCluster(ctx, testbed.ClusterOptions{Login: "hpc", Node: "cn1", Partition: "batch"})
		if clusterErr == nil {
			// A venv on the shared home, as a user would make one.
			_, clusterErr = cluster.Login.Run(ctx, "/usr/bin/python3 -m venv --system-site-packages envs/nb")
		}
	})
	if clusterErr != nil {
		t.Fatalf("starting the SLURM cluster: %v", clusterErr)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cluster.Slurm(ctx, "scancel -u $(id -un)")
		// Wait until the node is free again for the next test.
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			out, err := cluster.Slurm(ctx, "squeue -h -u $(id -un)")
			if err == nil && strings.TrimSpace(out) == "" {
				return
			}
		}
		out, err := cluster.Slurm(ctx, "squeue -u $(id -un)")
		t.Logf("jobs still in the queue after the test: %v\n%s", err, out)
	})
	return cluster
}

func slurmRun(t *testing.T, c *testbed.Cluster, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.Slurm(ctx, line)
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return strings.TrimSpace(out)
}

// waitStderr waits until p's stderr contains want.
func waitStderr(t *testing.T, p *proc, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("nbtunnel's stderr does not say %q within %v:\n%s", want, within, p.stderr)
		}
		select {
		case <-p.done:
			if !strings.Contains(p.stderr.String(), want) {
				t.Fatalf("nbtunnel exited (%v) without saying %q:\n%s", p.err, want, p.stderr)
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// linkAnswers checks that a link answers api/status with its token and refuses without it.
func linkAnswers(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("link %q: %v; want a loopback link", redact(link), err)
	}
	token := u.Query().Get("token")
	if len(token) < 32 {
		t.Fatalf("link %q has no generated token", redact(link))
	}
	base := u.Scheme + "://" + u.Host + u.Path + "api/status"
	if code, body := get(t, base+"?token="+url.QueryEscape(token)); code != http.StatusOK {
		t.Errorf("GET api/status with the token = %d, want 200; body: %.200s", code, body)
	}
	if code, _ := get(t, base); code != http.StatusForbidden {
		t.Errorf("GET api/status without the token = %d, want 403", code)
	}
	return token
}

// launchPID returns the server's pid (as the node sees it) from a job's launch record.
func launchPID(rec string) string {
	_, after, ok := strings.Cut(rec, "\nV pid ")
	if !ok {
		return ""
	}
	lines := strings.SplitN(after, "\n", 3)
	if len(lines) < 2 {
		return ""
	}
	return strings.TrimSpace(lines[1])
}

func jobIDFrom(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(l, "nbtunnel: submitted job "); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("stderr names no submitted job:\n%s", stderr)
	return ""
}

// TestSlurmOpen: submit while another job holds the only node (ours pends, and says so), the link answers
// through the login host and a hop to the node, a fresh nbtunnel (new state dir) reattaches, a crashed
// server is started again inside the job and the link follows, list shows the job, stop cancels it and the
// first nbtunnel says so.
func TestSlurmOpen(t *testing.T) {
	c := sharedCluster(t)
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	defer step("end")
	blocker := slurmRun(t, c, "sbatch --parsable -J blocker -o /dev/null --wrap 'sleep 300'")
	env := userEnv(t, "")
	p := start(t, env, "open", "-F", bed.SSHConfig, "--slurm", "--sbatch", "--time=10 --comment='nbtunnel e2e'", "--venv", "envs/nb", "--notebook", c.Login.Alias)
	waitStderr(t, p, "queued on partition batch (Resources)", 30*time.Second)
	id := jobIDFrom(t, p.stderr.String())
	slurmRun(t, c, "scancel "+blocker)
	link := p.line(90 * time.Second)
	token := linkAnswers(t, link)
	se := p.stderr.String()
	for _, want := range []string{"job " + id + " running on cn1", "Jupyter listens on the node's loopback", "through hpc"} {
		if !strings.Contains(se, want) {
			t.Errorf("stderr does not say %q:\n%s", want, se)
		}
	}
	if strings.Contains(se, token) {
		t.Errorf("the token is on stderr:\n%s", se)
	}
	if pids := argvHolding(token); len(pids) != 0 {
		t.Errorf("the token is on the command line of pid(s) %v", pids)
	}
	// The job ran in the user's venv on the node and recorded the node.
	rec := filepath.Join(c.Login.Home, ".nbtunnel", "slurm", id)
	if data, err := os.ReadFile(filepath.Join(rec, "node")); err != nil || strings.TrimSpace(string(data)) != "cn1" {
		t.Errorf("job record %s/node = %q, %v; want cn1", rec, data, err)
	}
	launch, err := os.ReadFile(filepath.Join(rec, "launch.1"))
	if err != nil || !strings.Contains(string(launch), filepath.Join(c.Login.Home, "envs/nb/bin/python")) {
		t.Errorf("job's launch record %s/launch.1 does not name the venv's python: %v\n%.500s", rec, err, launch)
	}
	if fi, err := os.Stat(filepath.Join(rec, "launch.1")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("launch record mode %v, want 0600 (it holds the token)", fi.Mode().Perm())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ss, err := c.Node.RunInNode(ctx, "ss -Hltnp | grep python || true")
	if err != nil {
		t.Fatal(err)
	}
	listening := false
	for _, l := range strings.Split(ss, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		listening = true
		if !strings.HasPrefix(f[3], "127.0.0.1:") && !strings.HasPrefix(f[3], "[::1]:") {
			t.Errorf("Jupyter on the node listens beyond the loopback: %s", l)
		}
	}
	if !listening {
		// No TCP listener at all: then it must be a unix socket, or the
		// check above checked nothing.
		sock, err := c.Node.RunInNode(ctx, "ss -Hlxp | grep python || true")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(sock) == "" {
			t.Fatalf("no Jupyter listener found on the node (ss -ltnp and -lxp show none):\n%s", ss)
		}
	}

	step("Reattach from a fresh")
	// Reattach from a fresh nbtunnel with a state directory of its own.
	p2 := start(t, userEnv(t, ""), "open", "-F", bed.SSHConfig, "--slurm", c.Login.Alias)
	link2 := p2.line(60 * time.Second)
	if got := linkAnswers(t, link2); got != token {
		t.Errorf("reattached link has another token")
	}
	if !strings.Contains(p2.stderr.String(), "found job "+id) || strings.Contains(p2.stderr.String(), "submitted") {
		t.Errorf("reattach did not find job %s (or submitted one):\n%s", id, p2.stderr)
	}
	if _, errOut, code := runCmd(t, env, "open", "-F", bed.SSHConfig, "--slurm", "--job", "999999", c.Login.Alias); code != 1 || !strings.Contains(errOut, "job 999999 is not known to the scheduler on hpc") {
		t.Errorf("open --slurm --job 999999: exit %d, want 1 and a word about it:\n%s", code, errOut)
	}
	if code := p2.interrupt(); code != 0 {
		t.Errorf("reattached nbtunnel: exit %d after SIGINT, want 0", code)
	}
	if st := slurmRun(t, c, "squeue -h -j "+id+" -o %T"); st != "RUNNING" {
		t.Errorf("job %s after the reattached nbtunnel's Ctrl-C: %q, want RUNNING (only a job we submitted and wait for is cancelled)", id, st)
	}

	step("list shows the job")
	// list shows the job with node, state, time left and its server.
	out, errOut, code := runCmd(t, env, "list", "-F", bed.SSHConfig, "--slurm", c.Login.Alias)
	if code != 0 {
		t.Fatalf("list --slurm: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{id, "RUNNING", "cn1", "notebook pid", "batch"} {
		if !strings.Contains(out, want) {
			t.Errorf("list --slurm does not show %q:\n%s", want, out)
		}
	}

	step("On the login host itself")
	// On the login host itself, the job's runtime file (shared home, a pid of the node's) is not taken for a
	// stale one, and open without --slurm points at the job instead of starting Jupyter on the login host.
	_, errOut, code = runCmd(t, env, "list", "-F", bed.SSHConfig, c.Login.Alias)
	if code != 0 || !strings.Contains(errOut, "on node cn1) belongs to job "+id) {
		t.Errorf("plain list on the login host: exit %d, want 0 and a word about job %s:\n%s", code, id, errOut)
	}
	_, errOut, code = runCmd(t, env, "open", "-F", bed.SSHConfig, c.Login.Alias)
	if code != 1 || !strings.Contains(errOut, "'nbtunnel open --slurm hpc' forwards to") {
		t.Errorf("plain open on the login host: exit %d, want 1 and a hint to use --slurm:\n%s", code, errOut)
	}

	step("A crash of Jupyter")
	// A crash of Jupyter inside the job: the job starts it again and the link follows.
	pid := launchPID(string(launch))
	if pid == "" {
		t.Fatalf("no pid in the launch record:\n%s", launch)
	}
	if _, err := c.Node.RunInNode(ctx, "kill -9 "+pid); err != nil {
		t.Fatalf("killing Jupyter (node pid %s): %v", pid, err)
	}
	waitStderr(t, p, "started again", 60*time.Second)
	linkAnswers(t, link)

	step("stop cancels the job")
	// stop cancels the job; the open nbtunnel reports the end as such.
	_, errOut, code = runCmd(t, env, "stop", "-F", bed.SSHConfig, "--slurm", "--job", "999999", c.Login.Alias)
	if code != 1 || !strings.Contains(errOut, "no job 999999 of ours") {
		t.Errorf("stop --slurm --job 999999: exit %d, want 1 and a word about it:\n%s", code, errOut)
	}
	_, errOut, code = runCmd(t, env, "stop", "-F", bed.SSHConfig, "--slurm", "--job", id, c.Login.Alias)
	if code != 0 || !strings.Contains(errOut, "cancelled job "+id) {
		t.Errorf("stop --slurm: exit %d, want 0 and a word about job %s:\n%s", code, id, errOut)
	}
	if code := p.wait(30 * time.Second); code != 1 {
		t.Errorf("open after stop: exit %d, want 1", code)
	}
	if !strings.Contains(p.stderr.String(), "job "+id+" ended (CANCELLED") {
		t.Errorf("open does not report the cancelled job:\n%s", p.stderr)
	}
}

// TestSlurmDirect: when nbtunnel cannot log in to the node, Jupyter listens on the node's own address
// (not 0.0.0.0), the login host forwards to it, and the token protects it.
func TestSlurmDirect(t *testing.T) {
	c := sharedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Node.StopSSHD(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Node.RestartSSHD(ctx); err != nil {
			t.Errorf("restarting the node's sshd: %v", err)
		}
	})
	p := start(t, userEnv(t, ""), "open", "-F", bed.SSHConfig, "--slurm", "--sbatch", "--time=5", "--venv", "envs/nb", c.Login.Alias)
	link := p.line(90 * time.Second)
	linkAnswers(t, link)
	se := p.stderr.String()
	if want := "listens on the node's address " + c.Node.Addr + " only, protected by its token"; !strings.Contains(se, want) {
		t.Errorf("stderr does not say %q:\n%s", want, se)
	}
	ss, err := c.Node.RunInNode(ctx, "ss -Hltnp | grep python || true")
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	for _, l := range strings.Split(ss, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		if !strings.HasPrefix(f[3], c.Node.Addr+":") {
			t.Errorf("Jupyter listens on %s, want the node's address %s only", f[3], c.Node.Addr)
		}
		addr = f[3]
	}
	if addr == "" {
		t.Fatalf("no Jupyter listening on the node:\n%s", ss)
	}
	// From the login host, without the token, the server refuses.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return c.Login.DialContext(ctx, network, a)
		}}}
	resp, err := hc.Get("http://" + addr + "/api/status")
	if err != nil {
		t.Fatalf("GET api/status from the login host: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET api/status from the login host without the token = %d, want 403", resp.StatusCode)
	}
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
	// Once the link was up, Ctrl-C leaves the job it submitted running (to attach again later).
	if st := slurmRun(t, c, "squeue -h -u $(id -un) -n nbtunnel-jupyter -o %T"); st != "RUNNING" {
		t.Errorf("our job after Ctrl-C with a live link: %q, want RUNNING", st)
	}
	if !strings.Contains(p.stderr.String(), "keeps running on cn1") {
		t.Errorf("stderr does not say the job keeps running:\n%s", p.stderr)
	}
}

// TestSlurmTimeLimit: a job that reaches its time limit is reported as that.
func TestSlurmTimeLimit(t *testing.T) {
	c := sharedCluster(t)
	p := start(t, userEnv(t, ""), "open", "-F", bed.SSHConfig, "--slurm", "--sbatch", "--time=1", "--venv", "envs/nb", c.Login.Alias)
	link := p.line(90 * time.Second)
	linkAnswers(t, link)
	if code := p.wait(3 * time.Minute); code != 1 {
		t.Errorf("exit %d at the time limit, want 1", code)
	}
	if want := "reached its time limit (00:01:00)"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "connection") {
		t.Errorf("the time limit is reported as a connection problem:\n%s", p.stderr)
	}
}

// TestSlurmRefused: sbatch refusing the job (a bad partition, from the per-host defaults) shows the
// scheduler's own message; Ctrl-C while a job pends cancels the job we submitted and says so.
func TestSlurmRefusedAndCtrlC(t *testing.T) {
	c := sharedCluster(t)
	home := t.TempDir()
	env := userEnv(t, home)
	cfg := filepath.Join(home, ".config", "nbtunnel", "slurm")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("# defaults\nhpc   --partition=nope --time=5\n"), 0o600)
	_, errOut, code := runCmd(t, env, "open", "-F", bed.SSHConfig, "--slurm", c.Login.Alias)
	if code != 1 {
		t.Errorf("open with a bad partition: exit %d, want 1", code)
	}
	if want := "sbatch: error: invalid partition specified: nope"; !strings.Contains(errOut, want) {
		t.Errorf("stderr does not show the scheduler's message %q:\n%s", want, errOut)
	}
	if !strings.Contains(errOut, `host "hpc"`) {
		t.Errorf("the error does not name the host:\n%s", errOut)
	}

	blocker := slurmRun(t, c, "sbatch --parsable -J blocker -o /dev/null --wrap 'sleep 300'")
	defer slurmRun(t, c, "scancel "+blocker)
	p := start(t, env, "open", "-F", bed.SSHConfig, "--sbatch", "--time=5", c.Login.Alias)
	waitStderr(t, p, "queued on partition batch", 30*time.Second)
	id := jobIDFrom(t, p.stderr.String())
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit %d after SIGINT while pending, want 0", code)
	}
	if want := "cancelled job " + id; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, p.stderr)
	}
	if st := slurmRun(t, c, "squeue -h -j "+id+" -o %T"); st != "" {
		t.Errorf("job %s after Ctrl-C: %q, want it gone", id, st)
	}
	_ = fmt.Sprint
}

// TestSlurmPutty: open --putty SESSION --slurm, with the node's host key in PuTTY's cache: the job's link
// answers through a hop to the node.
func TestSlurmPutty(t *testing.T) {
	c := sharedCluster(t)
	u := newPuttyUser(t)
	u.session(t, "hpc-putty", c.Login, ppkKey(t, 3, ""))
	u.trust(t, c.Login, c.Node)
	p := start(t, u.env, "open", "--putty", "hpc-putty", "--slurm", "--sbatch", "--time=5", "--venv", "envs/nb")
	link := p.line(90 * time.Second)
	linkAnswers(t, link)
	if want := "reaching cn1 by ssh through hpc-putty"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, p.stderr)
	}
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
	out, errOut, code := runCmd(t, u.env, "stop", "--putty", "hpc-putty", "--slurm")
	if code != 0 || !strings.Contains(errOut, "cancelled job") {
		t.Errorf("stop --putty --slurm: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
}

// TestSlurmNodeHostKeyUnknown: a node whose host key the user's known_hosts lacks is refused, not gone
// around (no fallback to the node's address), and the job we submitted is cancelled.
func TestSlurmNodeHostKeyUnknown(t *testing.T) {
	c := sharedCluster(t)
	dir := t.TempDir()
	kh, err := os.ReadFile(bed.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(kh), "\n") {
		if l != "" && !strings.Contains(l, c.Node.Addr) {
			keep = append(keep, l)
		}
	}
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(strings.Join(keep, "\n")+"\n"), 0o600)
	cfg, err := os.ReadFile(bed.SSHConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfgPath, []byte(strings.ReplaceAll(string(cfg), bed.KnownHosts, filepath.Join(dir, "known_hosts"))), 0o600)
	_, errOut, code := runCmd(t, userEnv(t, ""), "open", "-F", cfgPath, "--sbatch", "--time=5", c.Login.Alias)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	id := jobIDFrom(t, errOut)
	for _, want := range []string{"logging in to node cn1", "host key", "cancelled job " + id} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "listens on the node's address") {
		t.Errorf("an unknown node host key led to the node's address instead of a refusal:\n%s", errOut)
	}
}

// TestSlurmRunningToLink measures, on the real cluster, the time from the node coming free (the job
// holding it is cancelled, so ours starts running) to a link that answers with its token: nbtunnel open
// --slurm against the manual way (sbatch a script that starts jupyter-notebook on a fixed port, poll squeue
// and the job's log for the token over ssh, then ssh -J login -L to the node), both polling every 0.5 s.
// The times go to the test log (BENCHMARKS.md quotes them); the test asserts that both links answer.
func TestSlurmRunningToLink(t *testing.T) {
	c := sharedCluster(t)
	const reps = 5
	var ours, manual []time.Duration
	for i := 0; i < reps; i++ {
		ours = append(ours, slurmLinkNbtunnel(t, c))
		manual = append(manual, slurmLinkManual(t, c, i))
	}
	t.Logf("RUNNING to a live link, %d runs each: nbtunnel %v (median %v); manual %v (median %v)", reps, ours, median(ours), manual, median(manual))
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2].Round(10 * time.Millisecond)
}

func slurmLinkNbtunnel(t *testing.T, c *testbed.Cluster) time.Duration {
	t.Helper()
	blocker := slurmRun(t, c, "sbatch --parsable -J blocker -o /dev/null --wrap 'sleep 300'")
	p := start(t, userEnv(t, ""), "open", "-v", "-F", bed.SSHConfig, "--sbatch", "--time=5", "--venv", "envs/nb", "--notebook", c.Login.Alias)
	waitStderr(t, p, "queued on partition batch", 30*time.Second)
	t0 := time.Now()
	defer func() {
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(l, "after the job started running") {
				t.Logf("%s", l)
			}
		}
	}()
	slurmRun(t, c, "scancel "+blocker)
	link := p.line(90 * time.Second)
	linkAnswers(t, link)
	d := time.Since(t0)
	p.interrupt()
	slurmRun(t, c, "scancel -u $(id -un); while [ -n \"$(squeue -h -u $(id -un))\" ]; do sleep 0.2; done")
	return d
}

func slurmLinkManual(t *testing.T, c *testbed.Cluster, i int) time.Duration {
	t.Helper()
	port := 18800 + i
	log := fmt.Sprintf("manual-%d.log", i)
	hostRun(t, c.Login, fmt.Sprintf("rm -f %s; printf '#!/bin/sh\\nexec envs/nb/bin/python -m notebook --no-browser --ip=127.0.0.1 --port=%d\\n' >manual.sh", log, port))
	blocker := slurmRun(t, c, "sbatch --parsable -J blocker -o /dev/null --wrap 'sleep 300'")
	id := slurmRun(t, c, "sbatch --parsable -J manual --time=5 -o "+log+" manual.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sshOut := func(args ...string) string {
		out, _ := bed.SSHCommand(ctx, args...).Output()
		return strings.TrimSpace(string(out))
	}
	t0 := time.Now()
	slurmRun(t, c, "scancel "+blocker)
	var node string
	for {
		st := sshOut(c.Login.Alias, "squeue -h -j "+id+" -o %T,%N")
		if s, n, ok := strings.Cut(st, ","); ok && s == "RUNNING" {
			node = n
			break
		}
		if ctx.Err() != nil || st == "" {
			t.Fatalf("manual job %s did not run (squeue: %q); its log:\n%s", id, st, hostRun(t, c.Login, "cat "+log))
		}
		time.Sleep(500 * time.Millisecond)
	}
	var token string
	for {
		line := sshOut(c.Login.Alias, "grep -o 'token=[0-9a-f]*' "+log+" | head -1")
		if tok, ok := strings.CutPrefix(line, "token="); ok && tok != "" {
			token = tok
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no token in the manual job's log")
		}
		time.Sleep(500 * time.Millisecond)
	}
	lp := localPortFree(t)
	fwd := bed.SSHCommand(ctx, "-N", "-o", "ExitOnForwardFailure=yes", "-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", lp, port), node)
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { fwd.Process.Kill(); fwd.Wait() }()
	link := fmt.Sprintf("http://127.0.0.1:%d/?token=%s", lp, token)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/api/status?token=%s", lp, token))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the manual link never answered")
		}
		time.Sleep(500 * time.Millisecond)
	}
	d := time.Since(t0)
	linkAnswers(t, link)
	slurmRun(t, c, "scancel -u $(id -un); while [ -n \"$(squeue -h -u $(id -un))\" ]; do sleep 0.2; done")
	return d
}

func localPortFree(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSlurmProxyCommandHook: install --slurm writes the cluster option into the ProxyCommand hook; a plain
// interactive ssh to the login host then shows the link to Jupyter in a batch job (submitted with the host's
// defaults), the session's bytes pass untouched, a batch ssh (a remote command) submits nothing, and
// uninstall restores the config.
func TestSlurmProxyCommandHook(t *testing.T) {
	c := sharedCluster(t)
	home := t.TempDir()
	env := userEnv(t, home)
	os.MkdirAll(filepath.Join(home, ".config", "nbtunnel"), 0o700)
	os.WriteFile(filepath.Join(home, ".config", "nbtunnel", "slurm"), []byte("hpc --time=5\n"), 0o600)
	cfg := configWith(t, "")
	orig, _ := os.ReadFile(cfg)
	if _, errOut, code := runCmd(t, env, "install", "-F", cfg, "--slurm", c.Login.Alias); code != 0 {
		t.Fatalf("install --slurm: exit %d\n%s", code, errOut)
	}
	if g := sshG(t, cfg, c.Login.Alias); !strings.Contains(g, "proxycommand \""+binPath+"\" proxy --slurm") {
		t.Errorf("ssh -G after install --slurm lacks our ProxyCommand with --slurm:\n%s", g)
	}
	// A batch session (a remote command, as scp or rsync run) submits nothing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", "-F", cfg, c.Login.Alias, "true")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh %s true through the hook: %v\n%s", c.Login.Alias, err, out)
	}
	time.Sleep(2 * time.Second)
	if st := slurmRun(t, c, "squeue -h -u $(id -un)"); st != "" {
		t.Errorf("a batch ssh through the --slurm hook left jobs: %q", st)
	}
	s := startShell(t, env, "-F", cfg, c.Login.Alias)
	link := s.link(90 * time.Second)
	linkAnswers(t, link)
	for _, want := range []string{"submitted job", "running on cn1"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("ssh's stderr does not say %q:\n%s", want, s.stderr)
		}
	}
	if st := slurmRun(t, c, "squeue -h -u $(id -un) -n nbtunnel-jupyter -o %T"); st != "RUNNING" {
		t.Errorf("our job: %q, want RUNNING", st)
	}
	s.finish()
	if _, errOut, code := runCmd(t, env, "uninstall", "-F", cfg, c.Login.Alias); code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(cfg); string(orig) != string(after) {
		t.Errorf("uninstall did not restore the config")
	}
}

// TestSlurmConnectionsDropped: when the SSH connections to the login host and to the node drop, open
// reconnects both and the same link answers again.
func TestSlurmConnectionsDropped(t *testing.T) {
	c := sharedCluster(t)
	p := start(t, userEnv(t, ""), "open", "-v", "-F", bed.SSHConfig, "--sbatch", "--time=5", "--venv", "envs/nb", c.Login.Alias)
	link := p.line(90 * time.Second)
	linkAnswers(t, link)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, h := range []*testbed.Host{c.Node, c.Login} {
		if err := h.KillSSHDConnections(ctx); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(link)
	status := u.Scheme + "://" + u.Host + u.Path + "api/status?" + u.RawQuery
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, err := hc.Get(status)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link did not answer again after the connections dropped; stderr:\n%s", p.stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), "connection to cn1 lost; reconnecting") {
		t.Errorf("stderr does not say the node connection was lost:\n%s", p.stderr)
	}
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
}
