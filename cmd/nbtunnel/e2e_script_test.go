//go:build linux

package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// TestScriptsE2E runs the CLI scripts that need real hosts
// (testdata/e2e/*.txtar) against the test bed. Commands the scripts get
// besides testscript's own:
//
//	host NAME [password|behind OTHER]
//	                             a new test host; $NAME is its alias in $SSHCONFIG, $NAME_ADDR,
//	                             $NAME_USER its address and user; password: it also takes the
//	                             password in $NAME_PASSWORD; behind: reachable only through the
//	                             host OTHER (ProxyJump)
//	puttysession NAME SESSION [passphrase]
//	                             a PuTTY session in $HOME/.putty for the host, with a .ppk key
//	                             (encrypted with a passphrase if asked) and the host key cached
//	expand FILE                  replace ${VAR} in FILE with the script's variables
//	noisy NAME                   the host's login shell prints on stdout and stderr
//	jupyter start|stop|kill NAME [notebook|server]
//	sshd kill-connections NAME   end every ssh connection to the host
//	hostkey change NAME          a new host key ($SSHCONFIG's known_hosts goes stale)
//	bg ID nbtunnel ARGS...       start nbtunnel in the background: stdout to $WORK/ID.out, stderr to $WORK/ID.err
//	waitfor ID REGEXP [N]        wait (90s at most) until ID's stdout has N (default 1) lines matching REGEXP
//	linkworks ID                 the link of ID's last link/server_restarted JSON event answers 200
//	interrupt ID                 SIGINT to ID; it must exit 0 within 15s
func TestScriptsE2E(t *testing.T) {
	b := sharedBed(t)
	type bgProc struct {
		cmd  *exec.Cmd
		done chan struct{}
	}
	var mu sync.Mutex
	hosts := map[string]*testbed.Host{}
	jups := map[string]*testbed.Jupyter{}
	procs := map[string]*bgProc{}
	host := func(ts *testscript.TestScript, name string) *testbed.Host {
		mu.Lock()
		defer mu.Unlock()
		h := hosts[ts.Getenv("WORK")+"\x00"+name]
		if h == nil {
			ts.Fatalf("no host %s (use: host %s)", name, name)
		}
		return h
	}
	ctx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 90*time.Second)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/e2e",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("USER", "root")
			env.Setenv("SSHCONFIG", b.SSHConfig)
			env.Setenv("SSHKNOWN", b.KnownHosts)
			env.Setenv("SSHKEY", b.ClientKey)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"host": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("host cannot be negated")
				}
				password := len(args) == 2 && args[1] == "password"
				behind := len(args) == 3 && args[1] == "behind"
				if len(args) < 1 || len(args) > 1 && !password && !behind {
					ts.Fatalf("usage: host NAME [password|behind OTHER]")
				}
				c, cancel := ctx()
				defer cancel()
				o := testbed.HostOptions{Alias: fmt.Sprintf("s%d", hostSeq.Add(1))}
				if password {
					o.SSHDConfig = []string{"PasswordAuthentication yes"}
				}
				if behind {
					o.BehindJump = host(ts, args[2]).Alias
				}
				h, err := b.AddHost(c, o)
				ts.Check(err)
				if password {
					pass := "pw-" + h.Alias
					_, err := h.RunRoot(c, "echo '"+h.User+":"+pass+"' | chpasswd")
					ts.Check(err)
					ts.Setenv(args[0]+"_PASSWORD", pass)
				}
				mu.Lock()
				hosts[ts.Getenv("WORK")+"\x00"+args[0]] = h
				mu.Unlock()
				ts.Setenv(args[0], h.Alias)
				ts.Setenv(args[0]+"_ADDR", h.Addr)
				ts.Setenv(args[0]+"_USER", h.User)
			},
			"puttysession": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("puttysession cannot be negated")
				}
				if len(args) < 2 {
					ts.Fatalf("usage: puttysession NAME SESSION [passphrase]")
				}
				h := host(ts, args[0])
				pass := ""
				if len(args) > 2 {
					pass = args[2]
				}
				c, cancel := ctx()
				defer cancel()
				key, err := b.PuTTYKey(c, 3, pass)
				ts.Check(err)
				dir := filepath.Join(ts.Getenv("HOME"), ".putty")
				ts.Check(os.MkdirAll(filepath.Join(dir, "sessions"), 0o700))
				text := fmt.Sprintf("HostName=%s\nPortNumber=%d\nProtocol=ssh\nUserName=%s\nPublicKeyFile=%s\nProxyMethod=0\nProxyTelnetCommand=connect %%host %%port\\n\n",
					h.Addr, h.Port, h.User, key)
				ts.Check(os.WriteFile(filepath.Join(dir, "sessions", args[1]), []byte(text), 0o600))
				ts.Check(testbed.WritePuTTYHostKeys(dir, h))
			},
			"expand": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("expand cannot be negated")
				}
				for _, f := range args {
					data, err := os.ReadFile(ts.MkAbs(f))
					ts.Check(err)
					ts.Check(os.WriteFile(ts.MkAbs(f), []byte(os.Expand(string(data), ts.Getenv)), 0o600))
				}
			},
			"noisy": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("noisy cannot be negated")
				}
				h := host(ts, args[0])
				noise := "echo noise on stdout\necho noise on stderr 1>&2\n"
				for _, f := range []string{".bashrc", ".profile", ".bash_profile"} {
					ts.Check(os.WriteFile(filepath.Join(h.Home, f), []byte(noise), 0o644))
				}
			},
			"jupyter": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("jupyter cannot be negated")
				}
				if len(args) < 2 {
					ts.Fatalf("usage: jupyter start|stop|kill NAME [notebook|server]")
				}
				h := host(ts, args[1])
				key := ts.Getenv("WORK") + "\x00" + args[1]
				c, cancel := ctx()
				defer cancel()
				switch args[0] {
				case "start":
					kind := testbed.KindNotebook
					if len(args) > 2 && args[2] == "server" {
						kind = testbed.KindServer
					}
					j, err := h.StartJupyter(c, testbed.JupyterOptions{Kind: kind})
					ts.Check(err)
					ts.Defer(func() {
						c, cancel := ctx()
						defer cancel()
						j.Stop(c)
					})
					mu.Lock()
					jups[key] = j
					mu.Unlock()
				case "stop", "kill":
					mu.Lock()
					j := jups[key]
					mu.Unlock()
					if j == nil {
						ts.Fatalf("no Jupyter on %s", args[1])
					}
					if args[0] == "stop" {
						ts.Check(j.Stop(c))
					} else {
						ts.Check(j.Kill(c))
					}
				default:
					ts.Fatalf("usage: jupyter start|stop|kill NAME [notebook|server]")
				}
			},
			"sshd": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("sshd cannot be negated")
				}
				if len(args) != 2 || args[0] != "kill-connections" {
					ts.Fatalf("usage: sshd kill-connections NAME")
				}
				c, cancel := ctx()
				defer cancel()
				ts.Check(host(ts, args[1]).KillSSHDConnections(c))
			},
			"hostkey": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("hostkey cannot be negated")
				}
				if len(args) != 2 || args[0] != "change" {
					ts.Fatalf("usage: hostkey change NAME")
				}
				c, cancel := ctx()
				defer cancel()
				ts.Check(host(ts, args[1]).ChangeHostKey(c))
			},
			"bg": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("bg cannot be negated")
				}
				if len(args) < 2 || args[1] != "nbtunnel" {
					ts.Fatalf("usage: bg ID nbtunnel ARGS...")
				}
				id := args[0]
				out, err := os.Create(ts.MkAbs(id + ".out"))
				ts.Check(err)
				errf, err := os.Create(ts.MkAbs(id + ".err"))
				ts.Check(err)
				cmd := exec.Command(binPath, args[2:]...)
				cmd.Dir = ts.Getenv("WORK")
				cmd.Env = []string{"HOME=" + ts.Getenv("HOME"), "USER=root", "PATH=" + ts.Getenv("PATH")}
				cmd.Stdout, cmd.Stderr = out, errf
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
				ts.Check(cmd.Start())
				p := &bgProc{cmd: cmd, done: make(chan struct{})}
				go func() { cmd.Wait(); out.Close(); errf.Close(); close(p.done) }()
				ts.Defer(func() { cmd.Process.Kill(); <-p.done })
				mu.Lock()
				procs[ts.Getenv("WORK")+"\x00"+id] = p
				mu.Unlock()
			},
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("waitfor cannot be negated")
				}
				if len(args) < 2 {
					ts.Fatalf("usage: waitfor ID REGEXP [N]")
				}
				re, err := regexp.Compile(args[1])
				ts.Check(err)
				n := 1
				if len(args) > 2 {
					fmt.Sscanf(args[2], "%d", &n)
				}
				file := ts.MkAbs(args[0] + ".out")
				deadline := time.Now().Add(90 * time.Second)
				for {
					data, _ := os.ReadFile(file)
					count := 0
					for _, l := range strings.Split(string(data), "\n") {
						if re.MatchString(l) {
							count++
						}
					}
					if count >= n {
						return
					}
					if time.Now().After(deadline) {
						errs, _ := os.ReadFile(ts.MkAbs(args[0] + ".err"))
						ts.Fatalf("%s: %d line(s) match %q within 90s, want %d; stdout:\n%s\nstderr:\n%s", args[0], count, args[1], n, data, errs)
					}
					time.Sleep(100 * time.Millisecond)
				}
			},
			"linkworks": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("linkworks cannot be negated")
				}
				f, err := os.Open(ts.MkAbs(args[0] + ".out"))
				ts.Check(err)
				defer f.Close()
				link := ""
				sc := bufio.NewScanner(f)
				for sc.Scan() {
					var ev struct{ Event, URL string }
					if json.Unmarshal(sc.Bytes(), &ev) == nil && (ev.Event == "link" || ev.Event == "server_restarted") {
						link = ev.URL
					}
				}
				if link == "" {
					ts.Fatalf("%s printed no link event", args[0])
				}
				c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
				var code int
				for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
					resp, err := c.Get(link)
					if err == nil {
						code = resp.StatusCode
						resp.Body.Close()
						if code == 200 {
							return
						}
					}
					if time.Now().After(deadline) {
						ts.Fatalf("GET %s: %d, %v; want 200", redact(link), code, err)
					}
				}
			},
			"interrupt": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("interrupt cannot be negated")
				}
				mu.Lock()
				p := procs[ts.Getenv("WORK")+"\x00"+args[0]]
				mu.Unlock()
				if p == nil {
					ts.Fatalf("no background nbtunnel %s", args[0])
				}
				p.cmd.Process.Signal(syscall.SIGINT)
				select {
				case <-p.done:
				case <-time.After(15 * time.Second):
					ts.Fatalf("%s did not exit within 15s of SIGINT", args[0])
				}
				if code := p.cmd.ProcessState.ExitCode(); code != 0 {
					ts.Fatalf("%s exited %d after SIGINT, want 0", args[0], code)
				}
			},
		},
	})
}
