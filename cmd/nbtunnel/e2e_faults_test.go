//go:build linux

package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// Hardening: faults on a live tunnel (sshd killed, stopped, Jupyter
// restarted), load, hostile remote files and shells, and secrets kept out
// of argv, logs and files. Every wait is a bounded poll.

// waitAnswers polls link's api/status (with the token) until it answers 200.
func waitAnswers(t *testing.T, p *proc, link string, j *testbed.Jupyter, within time.Duration) {
	t.Helper()
	u := statusURL(t, link, j)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			last = resp.Status
		} else {
			last = redact(err.Error())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within %v (last: %s); nbtunnel stderr:\n%s", redact(u), within, last, p.stderr)
}

func statusURL(t *testing.T, link string, j *testbed.Jupyter) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q does not parse: %v", redact(link), err)
	}
	return u.Scheme + "://" + u.Host + j.BaseURL + "api/status?token=" + url.QueryEscape(j.Token)
}

// killNetnsSSHD kills every sshd process in h's namespace (the per-connection
// ones that outlive a stopped listener).
func killNetnsSSHD(t *testing.T, h *testbed.Host) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", h.Netns).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", h.Netns, err)
	}
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.HasPrefix(string(comm), "sshd") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func noNewLine(t *testing.T, p *proc) {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if ok {
			t.Errorf("nbtunnel printed another line %q for the same server", redact(l))
		}
	default:
	}
}

func TestFaultSSHDConnectionKilled(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for round := 0; round < 2; round++ {
		if err := h.KillSSHDConnections(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, func() bool { return strings.Count(p.stderr.String(), "reconnected to") > round })
		waitAnswers(t, p, link, j, 60*time.Second)
	}
	noNewLine(t, p)
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit status after SIGINT = %d, want 0; stderr:\n%s", code, p.stderr)
	}
}

func TestFaultSSHDStoppedThenRestarted(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.StopSSHD(ctx); err != nil {
		t.Fatal(err)
	}
	killNetnsSSHD(t, h)
	// Down for a while: reconnect attempts fail and are reported.
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(p.stderr.String(), "reconnecting to "+h.Alias) })
	time.Sleep(3 * time.Second)
	if err := h.RestartSSHD(ctx); err != nil {
		t.Fatal(err)
	}
	waitAnswers(t, p, link, j, 60*time.Second)
	noNewLine(t, p)
	if n := strings.Count(p.stderr.String(), "reconnecting to "+h.Alias); n > 2 {
		t.Errorf("the failing reconnect was reported %d times without -v; want it said once (or twice if the error changed):\n%s", n, p.stderr)
	}
	p.interrupt()
}

func TestFaultJupyterRestartedNewTokenAndPort(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := j.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(p.stderr.String(), "is gone") })
	j2 := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	if j2.Token == j.Token || j2.Port == j.Port {
		t.Fatalf("the restarted server has the same token or port; the test proves nothing")
	}
	newLink := p.line(60 * time.Second)
	if newLink == link {
		t.Fatalf("the new link is the old one")
	}
	checkLink(t, newLink, j2)
	old, _ := url.Parse(link)
	nu, _ := url.Parse(newLink)
	if old.Port() != nu.Port() {
		t.Errorf("new link's local port = %s, want the same %s", nu.Port(), old.Port())
	}
	if n := strings.Count(p.stderr.String(), "is gone"); n != 1 {
		t.Errorf("the server's absence was reported %d times, want once:\n%s", n, p.stderr)
	}
	p.interrupt()
}

// 200 concurrent HTTP keep-alive clients through one forward: no errors,
// connections reused, bounded memory in nbtunnel.
func TestLoad200KeepAliveClients(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	u := statusURL(t, link, j)
	const clients, rounds = 200, 5
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	var failures, reused atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := 0; r < rounds; r++ {
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
					if i.Reused {
						reused.Add(1)
					}
				}}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", u, nil)
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("request failed: %s", redact(err.Error())) })
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; stderr:\n%s", n, clients*rounds, p.stderr)
	}
	if reused.Load() == 0 {
		t.Errorf("no connection was reused: the keep-alive path was not exercised")
	}
	hwm := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("%d requests on %d connections; %d reused; nbtunnel peak RSS %d MiB", clients*rounds, clients, reused.Load(), hwm>>20)
	if hwm > 256<<20 {
		t.Errorf("nbtunnel's peak RSS = %d MiB, want under 256 MiB", hwm>>20)
	}
	p.interrupt()
}

// peakRSS reads VmHWM of pid in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// Hostile runtime files next to a live server: open still finds the live
// one, warns about the others, runs nothing they name, and echoes no
// control characters to the terminal.
func TestHostileRuntimeFiles(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	dir := filepath.Dir(j.RuntimeFile)
	pwned := filepath.Join(t.TempDir(), "pwned")
	// Live pids, so that the files are read and parsed, not skipped as stale.
	live := []int{1, os.Getpid(), h.SSHDPID()}
	if j.PID == live[1] || live[2] == 0 {
		t.Fatal("unexpected pids")
	}
	shellBait := "$(touch " + pwned + ");touch " + pwned + "`touch " + pwned + "`"
	files := []struct {
		name    string
		content string
		mine    bool // owned by the host's user (else root's)
	}{
		{fmt.Sprintf("nbserver-%d.json", live[0]), `{"pid": 1, "port": 8888, "token": "abc`, true},                                                         // invalid JSON
		{fmt.Sprintf("jpserver-%d.json", live[0]), `{"pid": "one", "port": [1], "token": 7}`, true},                                                        // wrong types
		{fmt.Sprintf("jpserver-%d.json", live[1]), `{"pid": ` + strconv.Itoa(live[1]) + `, "port": 1, "token": "a\u001b[2Jb"}`, true},                      // control chars in token
		{fmt.Sprintf("nbserver-%d.json", live[1]), `{"pid": ` + strconv.Itoa(live[1]) + `, "port": 0, "sock": "` + shellBait + `"}`, true},                 // shell metacharacters
		{fmt.Sprintf("nbserver-%d.json", live[2]), `{"pid": ` + strconv.Itoa(live[2]) + `, "port": 1, "base_url": "tree"}`, false},                         // base_url without slashes, root's file
		{fmt.Sprintf("jpserver-%d.json", live[2]), `{"pid": ` + strconv.Itoa(live[2]) + `, "port": 1, "x": "` + strings.Repeat("A", 400<<10) + `"}`, true}, // huge
		{"nbserver-\x1b[2J.json", `{}`, true},                      // a name with an escape sequence
		{"jpserver-12 3.json", `{}`, true},                         // a name with a space
		{"nbserver-$(touch " + "x" + ").json", `{}`, true},         // a name with shell syntax
		{"nbserver-" + strconv.Itoa(j.PID) + ".json~", `{}`, true}, // a backup file
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if f.mine {
			if err := os.Chown(path, h.UID, h.GID); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := userEnv(t, "")
	for _, verbose := range []bool{false, true} {
		args := []string{"-F", bed.SSHConfig, h.Alias}
		if verbose {
			args = append([]string{"-v"}, args...)
		}
		p, link := openLink(t, env, args...)
		checkLink(t, link, j)
		p.interrupt()
		errOut := p.stderr.String()
		if !strings.Contains(errOut, "runtime file") {
			t.Errorf("stderr (verbose %v) does not mention the skipped runtime files:\n%s", verbose, errOut)
		}
		if strings.ContainsAny(errOut, "\x1b\x00\x07") {
			t.Errorf("stderr (verbose %v) carries raw control characters from remote files: %q", verbose, errOut)
		}
		if len(errOut) > 64<<10 {
			t.Errorf("stderr (verbose %v) is %d bytes: the huge file was echoed", verbose, len(errOut))
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("a shell ran a command planted in a runtime file (%s exists)", pwned)
	}
}

// Login noise (echo in .bashrc and .profile, a fake begin marker) and a
// tcsh login shell do not disturb discovery.
func TestRemoteShellNoiseAndTcsh(t *testing.T) {
	tcsh, err := exec.LookPath("tcsh")
	if err != nil {
		if os.Getenv("NBTUNNEL_E2E") == "1" {
			t.Fatalf("tcsh is not installed: %v", err)
		}
		t.Skip("tcsh is not installed")
	}
	noise := "echo noise on stdout\necho noise on stderr 1>&2\necho 'NBTUNNEL-BEGIN fake 1'\necho 'NBTUNNEL-END fake'\n"
	for _, tc := range []struct {
		shell string
		files []string
	}{
		{"/bin/bash", []string{".bashrc", ".profile", ".bash_profile"}},
		{tcsh, []string{".tcshrc", ".cshrc", ".login"}},
	} {
		t.Run(filepath.Base(tc.shell), func(t *testing.T) {
			h := newHost(t, testbed.HostOptions{Shell: tc.shell})
			j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
			for _, f := range tc.files {
				path := filepath.Join(h.Home, f)
				if err := os.WriteFile(path, []byte(noise), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(path, h.UID, h.GID); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := bed.SSHCommand(ctx, h.Alias, "echo $0").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "noise on stdout") {
				t.Fatalf("the noise is not printed by the remote shell (err %v): %s", err, out)
			}
			p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
			checkLink(t, link, j)
			p.interrupt()
		})
	}
}

// Discovery needs only sh: python3, python and jupyter first on the remote
// PATH are traps that record being run; open works and springs none.
func TestDiscoveryRunsNoPython(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `mkdir -p "$HOME/trap" && for b in python3 python jupyter; do
printf '#!/bin/sh\ntouch "$HOME/ran-%s"\nexit 1\n' "$b" > "$HOME/trap/$b"; chmod +x "$HOME/trap/$b"; done
for f in .bashrc .profile; do
{ printf 'export PATH="$HOME/trap:$PATH"\n'; cat "$HOME/$f" 2>/dev/null; } > "$HOME/$f.new" && mv "$HOME/$f.new" "$HOME/$f"; done`
	if _, err := h.Run(ctx, script); err != nil {
		t.Fatal(err)
	}
	out, err := bed.SSHCommand(ctx, h.Alias, "command -v python3").Output()
	if err != nil || !strings.Contains(string(out), "/trap/python3") {
		t.Fatalf("the trap is not first on the remote PATH (%v): %s", err, out)
	}
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	p.interrupt()
	matches, _ := filepath.Glob(filepath.Join(h.Home, "ran-*"))
	if len(matches) > 0 {
		t.Errorf("discovery ran %v on the remote", matches)
	}
}

// cmdlinesWith lists the processes whose argv contains secret.
func cmdlinesWith(secret string) []string {
	var hits []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if strings.Contains(string(data), secret) {
			hits = append(hits, d+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return hits
}

// The token appears only in the stdout link: not in any process's argv,
// not on stderr (with or without -v), not in the state file; the local
// listener is on 127.0.0.1 only.
func TestNoSecretLeaks(t *testing.T) {
	jump := newHost(t, testbed.HostOptions{})
	h := newHost(t, testbed.HostOptions{BehindJump: jump.Alias})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	home := t.TempDir()
	env := userEnv(t, home)
	for _, verbose := range []bool{false, true} {
		args := []string{"-F", bed.SSHConfig, h.Alias}
		if verbose {
			args = append([]string{"-v"}, args...)
		}
		p, link := openLink(t, env, args...)
		if !strings.Contains(link, j.Token) {
			t.Fatalf("the link does not carry the token")
		}
		checkLink(t, link, j)
		if hits := cmdlinesWith(j.Token); len(hits) > 0 {
			t.Errorf("the token is in process arguments:\n%s", strings.Join(hits, "\n"))
		}
		u, _ := url.Parse(link)
		out, err := exec.Command("ss", "-Hltn", "sport = :"+u.Port()).Output()
		if err != nil {
			t.Fatalf("ss: %v", err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			if len(f) < 4 || f[3] != "127.0.0.1:"+u.Port() {
				t.Errorf("listener on port %s: %q, want 127.0.0.1:%s only", u.Port(), l, u.Port())
			}
		}
		p.interrupt()
		if strings.Contains(p.stderr.String(), j.Token) {
			t.Errorf("stderr (verbose %v) contains the token:\n%s", verbose, p.stderr)
		}
	}
	state := filepath.Join(home, ".config", "nbtunnel", "ports.json")
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s mode = %o, want 600", state, mode)
	}
	data, _ := os.ReadFile(state)
	if strings.Contains(string(data), j.Token) {
		t.Errorf("%s contains the token", state)
	}
	filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), j.Token) {
			t.Errorf("%s contains the token", path)
		}
		return nil
	})
}

// SIGTERM with connections in flight: nbtunnel exits promptly with status
// 0 and the port is closed.
func TestSIGTERMWithOpenConnections(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	p, link := openLink(t, userEnv(t, ""), "-F", bed.SSHConfig, h.Alias)
	checkLink(t, link, j)
	u, _ := url.Parse(link)
	var held []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request left half-sent, as a slow client would.
		io.WriteString(c, "GET "+j.BaseURL+"api HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		held = append(held, c)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0; stderr:\n%s", code, p.stderr)
	}
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("a held connection is still open after exit")
		}
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("%s still accepts after exit", u.Host)
	}
}

// A known_hosts file with malformed lines: they are skipped with a warning
// naming the file and line, and the good line is used.
func TestMalformedKnownHosts(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	good, err := os.ReadFile(bed.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	bad := "garbage\n" + h.Addr + " ssh-ed25519 AAAA!!!\n@bogus " + h.Addr + " ssh-ed25519 AAAA\n"
	if err := os.WriteFile(kh, append([]byte(bad), good...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configWith(t, fmt.Sprintf("Host %s\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n", h.Alias, kh))
	p, link := openLink(t, userEnv(t, ""), "-F", cfg, h.Alias)
	checkLink(t, link, j)
	p.interrupt()
	for _, want := range []string{kh + ":1", kh + ":2", kh + ":3"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr does not name %s:\n%s", want, p.stderr)
		}
	}
}

// Malformed ssh config: the CLI names the host, the file and the line, and
// hints at the next step. No network is touched.
func TestBadConfigMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "DIR", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("b.conf", "Include DIR/a.conf\n")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		want string
	}{
		{"quote", write("q.conf", "Host x\n  HostName \"unterminated\n"), `nbtunnel: error: host "x": reading ` + dir + `/q.conf line 2: `},
		{"jump quote", write("j.conf", "Host x\n  HostName 127.0.0.1\n  ProxyJump \"a\n"), `nbtunnel: error: host "x": reading ` + dir + `/j.conf line 3: `},
		{"include loop", write("a.conf", "Host x\n  HostName 127.0.0.1\nInclude DIR/b.conf\n"), `Include loop: ` + dir + `/a.conf -> ` + dir + `/b.conf -> ` + dir + `/a.conf`},
		{"unreadable", filepath.Join(dir, "adir"), `nbtunnel: error: host "x": reading ` + dir + `/adir: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCmd(t, userEnv(t, ""), "open", "-F", tt.file, "x")
			if code != 1 {
				t.Errorf("exit = %d, want 1", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
			if !strings.Contains(errOut, "nbtunnel: hint: ") {
				t.Errorf("stderr has no hint:\n%s", errOut)
			}
		})
	}
}
