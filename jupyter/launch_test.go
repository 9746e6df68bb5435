//go:build linux

package jupyter_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
	"github.com/nbtunnel/nbtunnel/internal/testenv"
	"github.com/nbtunnel/nbtunnel/jupyter"
)

// TestScriptValuesQuoted checks that hostile option values reach the phase-2
// scripts' variables verbatim and run nothing.
func TestScriptValuesQuoted(t *testing.T) {
	for _, v := range hostile {
		o := jupyter.LaunchOptions{Venv: v, Frontend: v, Dir: v, Token: v, StateDir: v}
		script := string(jupyter.LaunchScript(o, "n"))
		head, _, ok := strings.Cut(script, "\nunset CDPATH")
		if !ok {
			t.Fatal("no prelude in launch script")
		}
		check := head + "\nprintf '%s|' \"$nbt_venv\" \"$nbt_frontend\" \"$nbt_dir\" \"$nbt_token\" \"$nbt_state\"\n"
		out, err := exec.Command("/bin/sh", "-c", check).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if want := strings.Repeat(v+"|", 5); string(out) != want {
			t.Errorf("values for %q came out as %q", v, out)
		}
		for _, s := range [][]byte{jupyter.LaunchScript(o, "n"), jupyter.StopScript(1, true, "n"),
			jupyter.PipScript(jupyter.Server{PID: 1}, []string{v, "x"}, "n")} {
			if out, err := exec.Command("/bin/sh", "-n", "-c", string(s)).CombinedOutput(); err != nil {
				t.Errorf("sh -n: %v\n%s", err, out)
			}
		}
	}
	if _, err := os.Stat("/tmp/nbtunnel-pwned"); err == nil {
		t.Errorf("a hostile value was executed")
	}
}

// runStatus runs script under sh -s with env and returns stdout and the exit status.
func runStatus(t *testing.T, script []byte, env ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-s")
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running script: %v", err)
	}
	if stderr.Len() > 0 {
		t.Logf("script stderr:\n%s", stderr.Bytes())
	}
	return out, cmd.ProcessState.ExitCode()
}

type remote struct {
	t    *testing.T
	home string
	env  []string
}

func newRemote(t *testing.T) *remote {
	home := t.TempDir()
	return &remote{t: t, home: home, env: []string{"HOME=" + home, "PATH=/usr/bin:/bin", "SHELL=/bin/sh", "LANG=C.UTF-8"}}
}

func (r *remote) launch(o jupyter.LaunchOptions) (jupyter.LaunchResult, error) {
	r.t.Helper()
	nonce, _ := jupyter.NewNonce()
	out, _ := runStatus(r.t, jupyter.LaunchScript(o, nonce), r.env...)
	res, err := jupyter.ParseLaunch(out, nonce)
	if err == nil {
		pid := res.Server.PID
		r.t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	}
	return res, err
}

func (r *remote) stop(pid int) error {
	nonce, _ := jupyter.NewNonce()
	out, _ := runStatus(r.t, jupyter.StopScript(pid, true, nonce), r.env...)
	return jupyter.ParseStop(out, pid, nonce)
}

func (r *remote) discover() *jupyter.Discovery {
	r.t.Helper()
	nonce, _ := jupyter.NewNonce()
	out, _ := runStatus(r.t, jupyter.DiscoveryScript(nonce), r.env...)
	d, err := jupyter.ParseDiscovery(out, nonce)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func probe(t *testing.T, s jupyter.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var d net.Dialer
	if _, err := jupyter.Probe(ctx, d.DialContext, s); err != nil {
		t.Errorf("Probe(%v): %v", s, err)
	}
	bad := s
	bad.Token = "wrong"
	if _, err := jupyter.Probe(ctx, d.DialContext, bad); !errors.Is(err, jupyter.ErrTokenRejected) {
		t.Errorf("Probe with a wrong token: %v, want ErrTokenRejected", err)
	}
}

// TestLaunchRealJupyter starts Debian's Notebook and jupyter_server with
// LaunchScript, finds them with the discovery script, probes them, runs
// PipScript and stops them with StopScript.
func TestLaunchRealJupyter(t *testing.T) {
	testbed.Require(t)
	r := newRemote(t)
	token := "tok'$(touch /tmp/nbtunnel-pwned)`x`"
	// A state directory whose socket path would be too long for a unix
	// socket makes the script fall back to TCP on 127.0.0.1.
	long := "state/" + strings.Repeat("d", 90)
	tests := []struct {
		frontend, wantKind, state string
		wantTCP                   bool
	}{
		{"", jupyter.KindNotebook, "", false},
		{"server", jupyter.KindServer, "", false},
		{"server", jupyter.KindServer, long, true},
	}
	var started []jupyter.Server
	for _, tt := range tests {
		res, err := r.launch(jupyter.LaunchOptions{Frontend: tt.frontend, Token: token, Dir: "work/../", StateDir: tt.state})
		if err != nil {
			var le *jupyter.LaunchError
			if errors.As(err, &le) {
				t.Fatalf("launch %q: %v\n%s", tt.frontend, err, strings.Join(le.LogTail, "\n"))
			}
			t.Fatalf("launch %q: %v", tt.frontend, err)
		}
		s := res.Server
		if s.Kind != tt.wantKind || s.Token != token || res.Python != "/usr/bin/python3" || !s.Alive ||
			(s.Sock == "") != tt.wantTCP || (s.Port != 0) != tt.wantTCP {
			t.Errorf("launch %q = %+v", tt.frontend, res)
		}
		if tt.wantTCP {
			if s.Hostname != "127.0.0.1" {
				t.Errorf("TCP server bound to %q, want 127.0.0.1", s.Hostname)
			}
			probe(t, s)
			started = append(started, s)
			continue
		}
		if !strings.HasPrefix(s.Sock, filepath.Join(r.home, ".nbtunnel", "run")+"/") {
			t.Errorf("socket %s is not in the run directory", s.Sock)
		}
		if fi, err := os.Stat(filepath.Dir(s.Sock)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("run directory: %v, %v; want mode 0700", fi.Mode(), err)
		}
		if fi, err := os.Stat(res.Log); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("log %s: %v; want mode 0600", res.Log, err)
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(s.PID) + "/cmdline")
		if bytes.Contains(cmdline, []byte("tok")) {
			t.Errorf("token on the command line: %q", cmdline)
		}
		probe(t, s)
		started = append(started, s)
	}

	d := r.discover()
	alive := d.Alive()
	if len(alive) != 3 {
		t.Fatalf("discovery found %d live servers, want 3: %+v %v", len(alive), d.Servers, d.Problems)
	}

	// pip through the kernel's interpreter: Debian's python3 kernelspec.
	nonce, _ := jupyter.NewNonce()
	out, code := runStatus(t, jupyter.PipScript(started[0], []string{"--no-index", "nbtunnel-no-such-package"}, nonce), r.env...)
	pr, err := jupyter.ParsePip(out, nonce)
	if err != nil || pr.Python != "/usr/bin/python3" || code == 0 || len(pr.Output) == 0 {
		t.Errorf("pip: %+v, %v, exit %d; want /usr/bin/python3 and a failing pip", pr, err, code)
	}

	for _, s := range started {
		if err := r.stop(s.PID); err != nil {
			t.Errorf("stop %d: %v", s.PID, err)
		}
		if _, err := os.Stat(s.File); err == nil {
			t.Errorf("runtime file %s still there after stop", s.File)
		}
		if err := r.stop(s.PID); !errors.Is(err, jupyter.ErrNotRunning) {
			t.Errorf("second stop %d: %v, want ErrNotRunning", s.PID, err)
		}
	}
	// A process of ours that is not Jupyter (named to look a little like it) is left alone.
	other := exec.Command("/bin/sh", "-c", "sleep 60 # jupyter notebook.py")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if err := r.stop(other.Process.Pid); !errors.Is(err, jupyter.ErrNotJupyterProcess) {
		t.Errorf("stop of a sleep: %v, want ErrNotJupyterProcess", err)
	}
	if _, err := os.Stat("/tmp/nbtunnel-pwned"); err == nil {
		t.Errorf("the token was executed")
	}
}

// TestLaunchVenv uses a venv made with --system-site-packages, gives it its
// own python3 kernelspec, installs a local wheel into it with PipScript, and
// checks that Create without a package index fails with pip's last lines.
func TestLaunchVenv(t *testing.T) {
	testbed.Require(t)
	r := newRemote(t)
	venv := filepath.Join(r.home, "envs", "j")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--system-site-packages", venv).CombinedOutput(); err != nil {
		testenv.Skipf(t, "python3 -m venv: %v\n%s", err, out)
	}
	kdir := filepath.Join(venv, "share", "jupyter", "kernels", "python3")
	writeFile(t, filepath.Join(kdir, "kernel.json"),
		`{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "venv", "language": "python"}`, time.Time{})

	res, err := r.launch(jupyter.LaunchOptions{Venv: "envs/j", Frontend: "notebook", Token: "t1"})
	if err != nil {
		t.Fatalf("launch in venv: %v", err)
	}
	if res.Python != filepath.Join(venv, "bin", "python") || res.Frontend != "notebook" || res.Created {
		t.Errorf("launch in venv = %+v", res)
	}
	probe(t, res.Server)

	wheel := filepath.Join(t.TempDir(), "nbtdemo-0.1-py3-none-any.whl")
	makeWheel(t, wheel)
	nonce, _ := jupyter.NewNonce()
	out, code := runStatus(t, jupyter.PipScript(res.Server, []string{"--no-index", wheel}, nonce), r.env...)
	pr, err := jupyter.ParsePip(out, nonce)
	if err != nil || code != 0 || pr.Python != filepath.Join(venv, "bin", "python") {
		t.Fatalf("pip: %+v, %v, exit %d\n%s", pr, err, code, out)
	}
	if out, err := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import nbtdemo; print(nbtdemo.X)").Output(); err != nil || string(out) != "42\n" {
		t.Errorf("import nbtdemo in the venv: %q, %v", out, err)
	}
	if err := r.stop(res.Server.PID); err != nil {
		t.Errorf("stop: %v", err)
	}

	// Create with no package index: the venv is made, pip fails, and the
	// error carries pip's last lines. PIP_NO_INDEX keeps pip off the network.
	r.env = append(r.env, "PIP_NO_INDEX=1")
	_, err = r.launch(jupyter.LaunchOptions{Venv: "envs/new", Create: true, Frontend: "lab", Token: "t2"})
	var le *jupyter.LaunchError
	if !errors.As(err, &le) || le.Stage != "pip" || len(le.LogTail) == 0 {
		t.Fatalf("launch with Create and no index: %v, want a pip LaunchError with a log tail", err)
	}
	// The environment the failed launch created is removed, so a retry
	// starts from scratch.
	if _, err := os.Stat(filepath.Join(r.home, "envs", "new")); !os.IsNotExist(err) {
		t.Errorf("half-made venv left behind after a failed pip install: %v", err)
	}
	// A missing venv without Create is an error that says so.
	_, err = r.launch(jupyter.LaunchOptions{Venv: "envs/none", Token: "t3"})
	if !errors.As(err, &le) || le.Stage != "venv" {
		t.Errorf("launch in a missing venv: %v, want a venv LaunchError", err)
	}
}

func makeWheel(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	files := map[string]string{
		"nbtdemo/__init__.py":                 "X = 42\n",
		"nbtdemo-0.1.dist-info/METADATA":      "Metadata-Version: 2.1\nName: nbtdemo\nVersion: 0.1\n",
		"nbtdemo-0.1.dist-info/WHEEL":         "Wheel-Version: 1.0\nGenerator: nbtunnel-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		"nbtdemo-0.1.dist-info/top_level.txt": "nbtdemo\n",
	}
	var record strings.Builder
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
		record.WriteString(name + ",,\n")
	}
	record.WriteString("nbtdemo-0.1.dist-info/RECORD,,\n")
	w, _ := z.Create("nbtdemo-0.1.dist-info/RECORD")
	_, _ = w.Write([]byte(record.String()))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStartedScript lists the launch records of live processes, oldest
// first, and forgets the records of dead ones.
func TestStartedScript(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, ".nbtunnel", "servers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = live.Process.Kill(); _ = live.Wait() }()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	writeFile(t, filepath.Join(dir, strconv.Itoa(dead.Process.Pid)), "/x/a.json\n/x/a.log\n", old)
	writeFile(t, filepath.Join(dir, strconv.Itoa(os.Getpid())), "/r/me's.json\n/l/me log\n", old)
	writeFile(t, filepath.Join(dir, strconv.Itoa(live.Process.Pid)), "/r/é.json\n/l/b.log\n", time.Time{})
	writeFile(t, filepath.Join(dir, "junk"), "x\n", time.Time{})
	nonce, _ := jupyter.NewNonce()
	out, _ := runStatus(t, jupyter.StartedScript("", nonce), "HOME="+home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8")
	got, err := jupyter.ParseStarted(out, nonce)
	if err != nil {
		t.Fatalf("ParseStarted: %v\n%s", err, out)
	}
	want := []jupyter.Started{
		{PID: os.Getpid(), File: "/r/me's.json", Log: "/l/me log", Seq: 1},
		{PID: live.Process.Pid, File: "/r/é.json", Log: "/l/b.log", Seq: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(dead.Process.Pid))); !os.IsNotExist(err) {
		t.Errorf("the dead process's record is still there: %v", err)
	}
}
