package testbed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

func sshCmd(ctx context.Context, bed *testbed.Bed, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ssh", append([]string{"-F", bed.SSHConfig, "-o", "BatchMode=yes"}, args...)...)
}

func localPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// forward starts "ssh -N -L 127.0.0.1:LOCAL:TARGET alias" and returns the local port once it accepts.
func forward(t *testing.T, ctx context.Context, bed *testbed.Bed, alias, target string) int {
	t.Helper()
	port := localPort(t)
	cmd := sshCmd(ctx, bed, "-N", "-o", "ExitOnForwardFailure=yes", "-L", fmt.Sprintf("127.0.0.1:%d:%s", port, target), alias)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return port
		}
		select {
		case <-done:
			t.Fatalf("ssh -L %s exited: %s", target, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh -L %s: local port %d never accepted: %v; stderr: %s", target, port, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// argvContaining lists processes whose command line contains s.
func argvContaining(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), s) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}

func TestBed(t *testing.T) {
	bed := testbed.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	lab, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "lab"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ssh", func(t *testing.T) {
		out, err := sshCmd(ctx, bed, "lab", "echo", "hi").CombinedOutput()
		if got, want := string(out), "hi\n"; err != nil || got != want {
			t.Errorf("ssh lab echo hi = %q, %v; want %q", got, err, want)
		}
		out, err = sshCmd(ctx, bed, "lab", "id -un; echo $HOME").CombinedOutput()
		if got, want := string(out), lab.User+"\n"+lab.Home+"\n"; err != nil || got != want {
			t.Errorf("ssh lab id -un = %q, %v; want %q", got, err, want)
		}
		got, err := lab.Run(ctx, "id -un; pwd")
		if want := lab.User + "\n" + lab.Home + "\n"; err != nil || got != want {
			t.Errorf("Run(id -un; pwd) = %q, %v; want %q", got, err, want)
		}
		if _, err := lab.Run(ctx, "echo oops >&2; exit 3"); err == nil || !strings.Contains(err.Error(), "oops") {
			t.Errorf("Run(failing script) error = %v, want one containing its stderr", err)
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(lab.Addr, "22"), 5*time.Second)
		if err != nil {
			t.Errorf("root namespace cannot reach %s:22: %v", lab.Addr, err)
		} else {
			c.Close()
		}
		kh, err := os.ReadFile(bed.KnownHosts)
		if want := lab.Addr + " " + lab.HostKey + "\n"; err != nil || !strings.Contains(string(kh), want) {
			t.Errorf("known_hosts = %q, %v; want a line %q", kh, err, want)
		}
	})

	tests := []struct {
		name string
		opts testbed.JupyterOptions
	}{
		{"notebook", testbed.JupyterOptions{Kind: testbed.KindNotebook}},
		{"server", testbed.JupyterOptions{Kind: testbed.KindServer}},
		{"notebook-baseurl", testbed.JupyterOptions{Kind: testbed.KindNotebook, BaseURL: "/lab/x/", Token: "fixedtoken0123456789"}},
		{"server-baseurl", testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "nb"}},
		{"notebook-password", testbed.JupyterOptions{Kind: testbed.KindNotebook, Password: true}},
		{"server-password", testbed.JupyterOptions{Kind: testbed.KindServer, Password: true}},
		{"server-sock", testbed.JupyterOptions{Kind: testbed.KindServer, Sock: true}},
		{"notebook-sock", testbed.JupyterOptions{Kind: testbed.KindNotebook, Sock: true, BaseURL: "/s/"}},
	}
	for _, tt := range tests {
		t.Run("jupyter-"+tt.name, func(t *testing.T) {
			j, err := lab.StartJupyter(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Stop(ctx)
			data, err := os.ReadFile(j.RuntimeFile)
			if err != nil {
				t.Fatalf("runtime file: %v", err)
			}
			var info struct {
				Port    int    `json:"port"`
				Token   string `json:"token"`
				BaseURL string `json:"base_url"`
				Sock    string `json:"sock"`
				PID     int    `json:"pid"`
				Pw      bool   `json:"password"`
			}
			if err := json.Unmarshal(data, &info); err != nil {
				t.Fatalf("parsing %s: %v", j.RuntimeFile, err)
			}
			if info.Port != j.Port || info.Token != j.Token || info.BaseURL != j.BaseURL || info.Sock != j.Sock || info.PID != j.PID || info.Pw != tt.opts.Password {
				t.Errorf("runtime file %s = %+v; want port %d token %q base %q sock %q pid %d password %v",
					j.RuntimeFile, info, j.Port, j.Token, j.BaseURL, j.Sock, j.PID, tt.opts.Password)
			}
			if tt.opts.Token != "" && j.Token != tt.opts.Token {
				t.Errorf("Token = %q, want %q", j.Token, tt.opts.Token)
			}
			if tt.opts.Password && (j.Token != "" || j.Password == "") {
				t.Errorf("password server: Token %q Password %q; want empty token, a password", j.Token, j.Password)
			}
			if j.Token != "" {
				if procs := argvContaining(j.Token); len(procs) > 0 {
					t.Errorf("token visible in argv: %q", procs)
				}
			}

			var target string
			if j.Sock != "" {
				target = j.Sock
			} else {
				target = fmt.Sprintf("127.0.0.1:%d", j.Port)
				// Bound to 127.0.0.1 inside the namespace: not reachable on the host address from outside.
				if c, err := net.DialTimeout("tcp", net.JoinHostPort(lab.Addr, strconv.Itoa(j.Port)), 3*time.Second); err == nil {
					c.Close()
					t.Errorf("jupyter reachable directly at %s:%d from the root namespace", lab.Addr, j.Port)
				}
				if c, err := lab.DialContext(ctx, "tcp", net.JoinHostPort(lab.Addr, strconv.Itoa(j.Port))); err == nil {
					c.Close()
					t.Errorf("jupyter listens on %s:%d, want 127.0.0.1 only", lab.Addr, j.Port)
				}
			}
			port := forward(t, ctx, bed, "lab", target)
			url := fmt.Sprintf("http://127.0.0.1:%d%sapi/status", port, j.BaseURL)
			wantCode := http.StatusOK
			if tt.opts.Password {
				wantCode = http.StatusForbidden
			}
			if got := httpGet(t, url, j.Token); got != wantCode {
				t.Errorf("GET %s through ssh -L: status %d, want %d", url, got, wantCode)
			}
			if got := httpGet(t, url, ""); j.Token != "" && got != http.StatusForbidden {
				t.Errorf("GET %s without token: status %d, want 403", url, got)
			}

			if err := j.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(j.RuntimeFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Stop, runtime file %s: %v; want it removed", j.RuntimeFile, err)
			}
		})
	}

	t.Run("jupyter-kill-leaves-stale-file", func(t *testing.T) {
		j, err := lab.StartJupyter(ctx, testbed.JupyterOptions{Kind: testbed.KindServer})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(j.RuntimeFile); err != nil {
			t.Errorf("after Kill, runtime file %s: %v; want it left behind", j.RuntimeFile, err)
		}
		os.Remove(j.RuntimeFile)
	})

	t.Run("proxyjump", func(t *testing.T) {
		hidden, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "hidden", BehindJump: "lab", Shell: "/bin/sh"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := sshCmd(ctx, bed, "hidden", "id -un").CombinedOutput()
		if got, want := string(out), hidden.User+"\n"; err != nil || got != want {
			t.Errorf("ssh hidden id -un = %q, %v; want %q", got, err, want)
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(hidden.Addr, "22"), 3*time.Second); err == nil {
			c.Close()
			t.Errorf("hidden host %s reachable from the root namespace", hidden.Addr)
		}
		out, err = sshCmd(ctx, bed, "-o", "ProxyJump=none", "-o", "ConnectTimeout=3", "hidden", "true").CombinedOutput()
		if err == nil {
			t.Errorf("ssh hidden without ProxyJump succeeded: %s", out)
		}
	})

	t.Run("change-host-key", func(t *testing.T) {
		h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "rekey"})
		if err != nil {
			t.Fatal(err)
		}
		old := h.HostKey
		if err := h.ChangeHostKey(ctx); err != nil {
			t.Fatal(err)
		}
		if h.HostKey == old {
			t.Fatal("ChangeHostKey kept the key")
		}
		out, err := sshCmd(ctx, bed, "rekey", "true").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "HOST IDENTIFICATION HAS CHANGED") {
			t.Errorf("ssh after ChangeHostKey = %q, %v; want a changed-key failure", out, err)
		}
		if err := bed.UpdateKnownHosts(); err != nil {
			t.Fatal(err)
		}
		if out, err := sshCmd(ctx, bed, "rekey", "true").CombinedOutput(); err != nil {
			t.Errorf("ssh after UpdateKnownHosts: %v: %s", err, out)
		}
	})

	t.Run("kill-connections", func(t *testing.T) {
		cmd := sshCmd(ctx, bed, "lab", "echo up; sleep 60")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 3)
		if _, err := io.ReadFull(stdout, buf); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := lab.KillSSHDConnections(ctx); err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, stdout)
		err = cmd.Wait()
		if err == nil || time.Since(start) > 30*time.Second {
			t.Errorf("ssh session after KillSSHDConnections: %v after %v; want a prompt failure", err, time.Since(start))
		}
		if err := lab.RestartSSHD(ctx); err != nil {
			t.Fatal(err)
		}
		if out, err := sshCmd(ctx, bed, "lab", "true").CombinedOutput(); err != nil {
			t.Errorf("ssh after RestartSSHD: %v: %s", err, out)
		}
	})

	// Close removes everything.
	hosts := bed.Hosts()
	if err := bed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bed.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, h := range hosts {
		if _, err := os.Stat("/run/netns/" + h.Netns); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, namespace %s: %v", h.Netns, err)
		}
		if _, err := os.Stat(h.Home); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, home %s: %v", h.Home, err)
		}
		if out, err := exec.Command("getent", "passwd", h.User).CombinedOutput(); err == nil {
			t.Errorf("after Close, user %s exists: %s", h.User, out)
		}
	}
	if _, err := os.Stat(bed.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, %s: %v", bed.Dir, err)
	}
}

func TestPuTTY(t *testing.T) {
	bed := testbed.New(t, "plink", "puttygen")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "pt"})
	if err != nil {
		t.Fatal(err)
	}
	ppk, err := bed.PuTTYKey(ctx, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	plink := func(home string, stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "plink", append([]string{"-ssh", "-P", strconv.Itoa(h.Port), "-l", h.User, "-i", ppk, "-no-antispoof"}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PUTTYDIR=" + filepath.Join(home, ".putty"), "PATH=/usr/bin:/bin"}
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// plink trusts the entry the bed writes.
	home := t.TempDir()
	if err := testbed.WritePuTTYHostKeys(filepath.Join(home, ".putty"), h); err != nil {
		t.Fatal(err)
	}
	out, err := plink(home, "", "-batch", h.Addr, "echo hi")
	if got, want := out, "hi\n"; err != nil || got != want {
		t.Errorf("plink -batch with WritePuTTYHostKeys = %q, %v; want %q", got, err, want)
	}

	// The entry plink writes itself after "y" matches ours exactly.
	home2 := t.TempDir()
	if out, err := plink(home2, "y\n", h.Addr, "true"); err != nil {
		t.Fatalf("plink answering y: %v: %s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(home2, ".putty", "sshhostkeys"))
	if err != nil {
		t.Fatal(err)
	}
	k, v, err := h.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	if want := k + " " + v + "\n"; string(got) != want {
		t.Errorf("plink's sshhostkeys = %q, want %q", got, want)
	}

	// An encrypted version-2 key decrypts with its passphrase to the client key.
	enc, err := bed.PuTTYKey(ctx, 2, "s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	head, err := os.ReadFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(head), "PuTTY-User-Key-File-2: ssh-ed25519\nEncryption: aes256-cbc\n") {
		t.Errorf("%s starts %q, want a version-2 encrypted key", enc, head[:min(len(head), 80)])
	}
	pp := filepath.Join(t.TempDir(), "pp")
	if err := os.WriteFile(pp, []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := exec.CommandContext(ctx, "puttygen", enc, "-O", "public-openssh", "--old-passphrase", pp, "-o", "/dev/stdout").Output()
	if f := strings.Fields(string(pub)); err != nil || len(f) < 2 || f[0]+" "+f[1] != bed.ClientPublicKey {
		t.Errorf("public key of %s = %q, %v; want %q", enc, pub, err, bed.ClientPublicKey)
	}
}
