package jupyter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// shells returns the POSIX shells to run the discovery script under: the
// system sh always, and bash, zsh (in sh emulation) and busybox ash when
// installed.
func shells(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{"sh": {"/bin/sh", "-s"}}
	if p, err := exec.LookPath("bash"); err == nil {
		out["bash"] = []string{p, "--posix", "-s"}
	}
	if p, err := exec.LookPath("dash"); err == nil {
		out["dash"] = []string{p, "-s"}
	}
	if p, err := exec.LookPath("zsh"); err == nil {
		out["zsh"] = []string{p, "--emulate", "sh", "-s"}
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		out["busybox"] = []string{p, "sh", "-s"}
	}
	return out
}

// runScript runs script under shell with a clean environment plus env.
func runScript(t *testing.T, shell []string, script []byte, env ...string) []byte {
	t.Helper()
	cmd := exec.Command(shell[0], shell[1:]...)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}, env...)
	cmd.Stdin = bytes.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Dir = "/"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v; stderr:\n%s", shell, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Errorf("%v wrote to stderr:\n%s", shell, stderr.Bytes())
	}
	return out
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func writeFile(t *testing.T, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func rt(pid, port int, extra string) string {
	return fmt.Sprintf(`{"pid": %d, "port": %d, "token": "tok%d", "base_url": "/", "root_dir": "/home/u/p%d"%s}`,
		pid, port, pid, pid, extra)
}

func TestDiscoveryScript(t *testing.T) {
	home := t.TempDir()
	run := filepath.Join(home, ".local", "share", "jupyter", "runtime")
	mac := filepath.Join(home, "Library", "Jupyter", "runtime")
	live, dead, dead2 := os.Getpid(), deadPID(t), deadPID(t)+1
	for dead2 == live || dead2 == dead {
		dead2++
	}
	t0 := time.Unix(1_700_000_000, 0).UTC()
	writeFile(t, filepath.Join(run, fmt.Sprintf("jpserver-%d.json", live)), rt(live, 8888, `, "version": "2.14.0"`), t0.Add(2*time.Hour))
	writeFile(t, filepath.Join(run, fmt.Sprintf("jpserver-%d-open.html", live)), "<html>", time.Time{})
	writeFile(t, filepath.Join(run, fmt.Sprintf("kernel-%d.json", live)), "{}", time.Time{})
	writeFile(t, filepath.Join(run, fmt.Sprintf("nbserver-%d.json", dead)), rt(dead, 8889, ""), t0.Add(time.Hour))
	// Same pid in another file kind, older: dropped in favour of the newer one.
	writeFile(t, filepath.Join(mac, fmt.Sprintf("jpserver-%d.json", dead)), rt(dead, 8890, ""), t0)
	writeFile(t, filepath.Join(run, "jpserver-1.json"), `{"pid": 1, "port": `, t0)
	writeFile(t, filepath.Join(run, "jpserver-2.json"), `{"pid": 2, "port": 1, "x": "`+strings.Repeat("x", 300<<10)+`"}`, t0)
	writeFile(t, filepath.Join(run, fmt.Sprintf("nbserver-%d.json", dead2)),
		fmt.Sprintf(`{"pid": %d, "sock": "/tmp/s'$(touch /tmp/pwned)`+"`x`"+`.sock", "token": "a\u0007b"}`, dead2), t0)
	for _, name := range []string{"nbserver-1 2.json", "jpserver-'$(touch x)'.json", "nbserver-\nNBTUNNEL-END x.json", `jpserver-"3".json`} {
		writeFile(t, filepath.Join(run, name), "{}", t0)
	}
	// JUPYTER_RUNTIME_DIR names the same directory through a symlink: scanned once.
	link := filepath.Join(home, "link")
	if err := os.Symlink(run, link); err != nil {
		t.Fatal(err)
	}

	for name, sh := range shells(t) {
		t.Run(name, func(t *testing.T) {
			nonce, err := jupyter.NewNonce()
			if err != nil {
				t.Fatal(err)
			}
			out := runScript(t, sh, jupyter.DiscoveryScript(nonce), "HOME="+home, "JUPYTER_RUNTIME_DIR="+link, "USER=u")
			// Banner noise before and after, including a marker with another nonce.
			out = append([]byte("Welcome!\nNBTUNNEL-BEGIN 0000 1\nV uid 1\n9\nno newline"), out...)
			out = append(out, "logout\n"...)
			d, err := jupyter.ParseDiscovery(out, nonce)
			if err != nil {
				t.Fatalf("ParseDiscovery: %v\n%s", err, out)
			}
			if d.Remote.UID != os.Getuid() || d.Remote.Home != home || d.Remote.User != "u" || d.Remote.OS != "Linux" {
				t.Errorf("Remote = %+v, want uid %d home %s user u OS Linux", d.Remote, os.Getuid(), home)
			}
			if got, want := strings.Join(d.Dirs, ","), run+","+mac; got != want {
				t.Errorf("Dirs = %s, want %s", got, want)
			}
			var got []string
			for _, s := range d.Servers {
				got = append(got, fmt.Sprintf("%s %d alive=%v port=%d %s", filepath.Base(s.File), s.PID, s.Alive, s.Port, s.Started.Format(time.RFC3339)))
			}
			want := []string{
				fmt.Sprintf("jpserver-%d.json %d alive=true port=8888 %s", live, live, t0.Add(2*time.Hour).Format(time.RFC3339)),
				fmt.Sprintf("nbserver-%d.json %d alive=false port=8889 %s", dead, dead, t0.Add(time.Hour).Format(time.RFC3339)),
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Servers =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(d.Servers) > 0 {
				s := d.Servers[0]
				if s.Token != fmt.Sprintf("tok%d", live) || s.Version != "2.14.0" || s.RootDir != fmt.Sprintf("/home/u/p%d", live) ||
					s.User != "u" || s.UID != os.Getuid() {
					t.Errorf("live server = %+v", s)
				}
				if !s.Started.Equal(t0.Add(2 * time.Hour)) {
					t.Errorf("Started = %v, want %v", s.Started, t0.Add(2*time.Hour))
				}
			}
			var probs []string
			for _, p := range d.Problems {
				probs = append(probs, p.Error())
			}
			all := strings.Join(probs, "\n")
			for _, want := range []string{
				run + "/jpserver-1.json: parsing JSON",
				run + "/jpserver-2.json: ",
				fmt.Sprintf("%s/nbserver-%d.json: \"token\" contains control characters", run, dead2),
				run + "/nbserver-1 2.json: name is not",
				run + "/jpserver-'$(touch x)'.json: name is not",
				run + "/nbserver-\nNBTUNNEL-END x.json: name is not",
				run + `/jpserver-"3".json: name is not`,
			} {
				if !strings.Contains(all, want) {
					t.Errorf("problems lack %q; got:\n%s", want, all)
				}
			}
			var big bool
			for _, p := range d.Problems {
				big = big || errors.Is(p, jupyter.ErrFileTooLarge)
			}
			if !big {
				t.Errorf("no ErrFileTooLarge problem in:\n%s", all)
			}
			if len(d.Problems) != 7 {
				t.Errorf("got %d problems, want 7:\n%s", len(d.Problems), all)
			}
		})
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Errorf("a runtime file's contents were executed")
	}
}

func TestDiscoveryNoRuntimeDirs(t *testing.T) {
	home := t.TempDir()
	nonce := "n1"
	out := runScript(t, []string{"/bin/sh", "-s"}, jupyter.DiscoveryScript(nonce), "HOME="+home)
	d, err := jupyter.ParseDiscovery(out, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Servers) != 0 || len(d.Problems) != 0 || len(d.Dirs) != 0 {
		t.Errorf("got %+v, want nothing", d)
	}
}

func TestParseDiscoveryErrors(t *testing.T) {
	tests := []struct {
		name, out string
		want      error
	}{
		{"no markers", "Welcome\nfish: Unknown command: sh\n", jupyter.ErrNoDiscoveryOutput},
		{"other nonce", "NBTUNNEL-BEGIN other 1\nNBTUNNEL-END other\n", jupyter.ErrNoDiscoveryOutput},
		{"truncated", "NBTUNNEL-BEGIN n 1\nV uid 1\n0\n", jupyter.ErrTruncatedOutput},
		{"truncated header", "NBTUNNEL-BEGIN n 1", jupyter.ErrTruncatedOutput},
	}
	for _, tt := range tests {
		_, err := jupyter.ParseDiscovery([]byte(tt.out), "n")
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := jupyter.ParseDiscovery([]byte("NBTUNNEL-BEGIN n 1\nV uid 99\n0\nNBTUNNEL-END n\n"), "n"); err == nil {
		t.Errorf("bad length: err = nil, want an error")
	}
}

// TestDiscoveryManyStaleFiles logs how long the script takes with 1,000 stale
// runtime files against none. It asserts only correctness, not time.
func TestDiscoveryManyStaleFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	empty, full := t.TempDir(), t.TempDir()
	run := filepath.Join(full, ".local", "share", "jupyter", "runtime")
	dead := deadPID(t)
	_ = os.MkdirAll(filepath.Join(empty, ".local", "share", "jupyter", "runtime"), 0o700)
	for i := range 1000 {
		pid := 3_000_000 + i
		writeFile(t, filepath.Join(run, fmt.Sprintf("jpserver-%d.json", pid)), rt(pid, 10000+i, ""), time.Time{})
	}
	_ = dead
	for name, sh := range shells(t) {
		var d [2]time.Duration
		for i, home := range []string{empty, full} {
			best := time.Duration(1 << 62)
			for range 3 {
				start := time.Now()
				out := runScript(t, sh, jupyter.DiscoveryScript("n"), "HOME="+home)
				if el := time.Since(start); el < best {
					best = el
				}
				disc, err := jupyter.ParseDiscovery(out, "n")
				if err != nil {
					t.Fatal(err)
				}
				if want := i * 1000; len(disc.Servers) != want {
					t.Fatalf("%s: got %d servers, want %d", name, len(disc.Servers), want)
				}
			}
			d[i] = best
		}
		t.Logf("%s: discovery with no runtime files %v, with 1000 stale files %v (adds %v)", name, d[0], d[1], d[1]-d[0])
	}
}
