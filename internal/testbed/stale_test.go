package testbed_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

func TestMain(m *testing.M) {
	switch os.Getenv("NBT_TESTBED_CRASH_HELPER") {
	case "1":
		crashHelper()
		return
	case "cluster":
		crashClusterHelper()
		return
	}
	os.Exit(m.Run())
}

// crashHelper runs in a child process of TestStaleCleanup: it makes a bed that is never closed, prints
// "NETNS USER JUPYTERPID" and blocks until killed.
func crashHelper() {
	ctx := context.Background()
	bed, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "crash"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	j, err := h.StartJupyter(ctx, testbed.JupyterOptions{Kind: testbed.KindServer})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s %s %d\n", h.Netns, h.User, j.PID)
	select {}
}

// crashClusterHelper makes a bed with a cluster that is never closed, prints "LOGINNETNS NODENETNS DIR
// MUNGEDPID SLURMCTLDPID SLURMDPID" and blocks until killed.
func crashClusterHelper() {
	ctx := context.Background()
	bed, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := bed.AddCluster(ctx, testbed.ClusterOptions{Login: "crashlogin", Node: "crashnode"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pid := func(file string) string {
		data, _ := os.ReadFile(c.Dir + "/" + file)
		return strings.TrimSpace(string(data))
	}
	// slurmd writes its pid as the node sees it: find the real one by name in the node's namespace.
	slurmd := ""
	if out, err := exec.Command("ip", "netns", "pids", c.Node.Netns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if comm, _ := os.ReadFile("/proc/" + f + "/comm"); strings.TrimSpace(string(comm)) == "slurmd" {
				slurmd = f
			}
		}
	}
	fmt.Printf("%s %s %s %s %s %s\n", c.Login.Netns, c.Node.Netns, c.Dir, pid("munge/munged.pid"), pid("slurmctld.pid"), slurmd)
	select {}
}

// TestStaleCleanupCluster: a crashed run's cluster (daemons, namespaces, munged, directory) is removed by
// the next Start.
func TestStaleCleanupCluster(t *testing.T) {
	testbed.Require(t, testbed.SlurmBinaries...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NBT_TESTBED_CRASH_HELPER=cluster")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var f []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f = strings.Fields(sc.Text()); len(f) == 6 && strings.HasPrefix(f[0], "nbt-crashlogin-") {
			break
		}
		f = nil
	}
	if f == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("crash helper printed no cluster; stderr: %s", stderr.String())
	}
	cmd.Process.Kill() // crash: no Close
	cmd.Wait()
	// The crash left them behind, or the checks below prove nothing.
	for _, p := range []string{"/run/netns/" + f[0], "/run/netns/" + f[1], f[2]} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the crashed run left no %s behind (%v): nothing for Start to clean", p, err)
		}
	}

	bed, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bed.Close()
	for _, ns := range f[:2] {
		if _, err := os.Stat("/run/netns/" + ns); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("crashed run's namespace %s after Start: %v; want it removed", ns, err)
		}
	}
	if _, err := os.Stat(f[2]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crashed run's cluster directory %s after Start: %v; want it removed", f[2], err)
	}
	for i, name := range []string{"munged", "slurmctld", "slurmd"} {
		pid, err := strconv.Atoi(f[3+i])
		if err != nil {
			t.Errorf("no %s pid from the helper (%q)", name, f[3+i])
			continue
		}
		if alive(pid, 5*time.Second) {
			t.Errorf("crashed run's %s (pid %d) alive after Start", name, pid)
		}
	}
}

func TestStaleCleanup(t *testing.T) {
	testbed.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A live bed in this process must survive another bed's Start.
	live := testbed.New(t)
	lh, err := live.AddHost(ctx, testbed.HostOptions{Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "NBT_TESTBED_CRASH_HELPER=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var netns, user string
	var jpid int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && strings.HasPrefix(f[0], "nbt-crash-") {
			netns, user = f[0], f[1]
			if jpid, err = strconv.Atoi(f[2]); err != nil {
				t.Fatalf("crash helper printed a bad jupyter pid %q", f[2])
			}
			break
		}
	}
	if netns == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("crash helper printed no host; stderr: %s", stderr.String())
	}
	cmd.Process.Kill() // crash: no Close
	cmd.Wait()
	// The crash left them behind, or the checks below prove nothing.
	if _, err := os.Stat("/run/netns/" + netns); err != nil {
		t.Fatalf("the crashed run left no namespace %s behind (%v)", netns, err)
	}
	if out, err := exec.Command("getent", "passwd", user).CombinedOutput(); err != nil {
		t.Fatalf("the crashed run left no user %s behind: %v %s", user, err, out)
	}
	if !alive(jpid, 0) {
		t.Fatalf("the crashed run's jupyter (pid %d) is not running: nothing for Start to kill", jpid)
	}

	bed, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bed.Close()

	if _, err := os.Stat("/run/netns/" + netns); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crashed run's namespace %s after Start: %v; want it removed", netns, err)
	}
	if out, err := exec.Command("getent", "passwd", user).CombinedOutput(); err == nil {
		t.Errorf("crashed run's user %s after Start: %s; want it removed", user, out)
	}
	if alive(jpid, 5*time.Second) {
		t.Errorf("crashed run's jupyter pid %d alive after Start", jpid)
	}
	if out, err := live.SSHCommand(ctx, lh.Alias, "true").CombinedOutput(); err != nil {
		t.Errorf("live bed's host after another Start: %v: %s", err, out)
	}
}

// alive reports whether pid is still running (not a zombie) after waiting up to wait for it to go.
func alive(pid int, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		s := string(data)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAddHostErrors(t *testing.T) {
	bed := testbed.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "one"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts testbed.HostOptions
		want string
	}{
		{"empty alias", testbed.HostOptions{}, "bad alias"},
		{"space in alias", testbed.HostOptions{Alias: "a b"}, "bad alias"},
		{"duplicate alias", testbed.HostOptions{Alias: "one"}, "alias in use"},
		{"unknown jump", testbed.HostOptions{Alias: "two", BehindJump: "nope"}, `no jump host "nope"`},
		{"missing shell", testbed.HostOptions{Alias: "three", Shell: "/nonexistent/sh"}, "shell"},
		{"bad sshd option", testbed.HostOptions{Alias: "four", SSHDConfig: []string{"NoSuchOption yes"}}, "sshd_config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bed.AddHost(ctx, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AddHost(%+v) error = %v, want one containing %q", tt.opts, err, tt.want)
			}
		})
	}
	if _, err := bed.Host("one").StartJupyter(ctx, testbed.JupyterOptions{Kind: "lab"}); err == nil {
		t.Error(`StartJupyter(Kind "lab") succeeded, want an error`)
	}
	if err := bed.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bed.AddHost(ctx, testbed.HostOptions{Alias: "late"}); err == nil {
		t.Error("AddHost after Close succeeded, want an error")
	}
}

func TestShells(t *testing.T) {
	bed := testbed.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, shell := range []string{"", "/bin/sh", "/usr/bin/zsh", "/usr/bin/tcsh"} {
		name := shell
		if name == "" {
			name = "default"
		}
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			if _, err := os.Stat(shell); shell != "" && err != nil {
				if os.Getenv(testbed.E2EEnv) == "1" {
					t.Fatalf("shell %s missing (run scripts/install-deps)", shell)
				}
				t.Skipf("shell %s not installed", shell)
			}
			h, err := bed.AddHost(ctx, testbed.HostOptions{Alias: fmt.Sprintf("sh%d", i), Shell: shell})
			if err != nil {
				t.Fatal(err)
			}
			want := shell
			if want == "" {
				want = "/bin/bash"
			}
			if h.Shell != want {
				t.Errorf("Shell = %q, want %q", h.Shell, want)
			}
			out, err := bed.SSHCommand(ctx, h.Alias, "echo hi").CombinedOutput()
			if got := string(out); err != nil || got != "hi\n" {
				t.Errorf("ssh %s (shell %s) echo hi = %q, %v; want %q", h.Alias, want, got, err, "hi\n")
			}
		})
	}
}
