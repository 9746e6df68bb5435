//go:build linux

package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// These tests drive the real plink (putty-tools) with PuTTY saved sessions
// nbtunnel reads and edits. PUTTYDIR points both plink and nbtunnel at a
// directory of the test's own.

// puttyUser is a PuTTY user: a PUTTYDIR and an environment for nbtunnel
// and plink.
type puttyUser struct {
	dir string
	env []string
}

func newPuttyUser(t *testing.T) *puttyUser {
	t.Helper()
	testbed.Require(t, "plink", "puttygen")
	home := t.TempDir()
	dir := filepath.Join(home, "putty")
	if err := os.MkdirAll(filepath.Join(dir, "sessions"), 0o700); err != nil {
		t.Fatal(err)
	}
	return &puttyUser{dir: dir, env: append(userEnv(t, home), "PUTTYDIR="+dir)}
}

// session writes a saved session for h logging in with key.
func (u *puttyUser) session(t *testing.T, name string, h *testbed.Host, key string) string {
	t.Helper()
	text := fmt.Sprintf("HostName=%s\nPortNumber=%d\nProtocol=ssh\nUserName=%s\nPublicKeyFile=%s\nProxyMethod=0\nProxyTelnetCommand=connect %%host %%port\\n\n",
		h.Addr, h.Port, h.User, key)
	path := filepath.Join(u.dir, "sessions", name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (u *puttyUser) trust(t *testing.T, hosts ...*testbed.Host) {
	t.Helper()
	if err := testbed.WritePuTTYHostKeys(u.dir, hosts...); err != nil {
		t.Fatal(err)
	}
}

func ppkKey(t *testing.T, version int, passphrase string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := sharedBed(t).PuTTYKey(ctx, version, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// plink runs the real plink with u's environment, stdin closed after in.
func (u *puttyUser) plink(t *testing.T, in string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "plink", args...)
	cmd.Env = u.env
	cmd.Stdin = strings.NewReader(in)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// startPlink starts plink as startClient does.
func (u *puttyUser) startPlink(t *testing.T, args ...string) *sshSession {
	t.Helper()
	return startClient(t, u.env, "plink", args...)
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPuttyOpenPPK: nbtunnel open/list --putty with keys puttygen made,
// PPK versions 2 and 3, and host keys cached by plink itself or written
// by the bed.
func TestPuttyOpenPPK(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "/p/"})
	for _, tt := range []struct {
		name        string
		version     int
		plinkCaches bool
	}{
		{"v2-plink-cache", 2, true},
		{"v3-bed-cache", 3, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := newPuttyUser(t)
			u.session(t, "lab", h, ppkKey(t, tt.version, ""))
			if tt.plinkCaches {
				// plink asks whether to cache the key; "y" answers it.
				out, errOut, err := u.plink(t, "y\n", "-load", "lab", "echo", "cached")
				if err != nil || strings.TrimSpace(out) != "cached" {
					t.Fatalf("plink caching the host key: %v; stdout %q; stderr:\n%s", err, out, errOut)
				}
				if got := string(readBytes(t, filepath.Join(u.dir, "sshhostkeys"))); !strings.Contains(got, "@22:"+h.Addr) {
					t.Fatalf("plink's host-key cache = %q, want an entry for %s", got, h.Addr)
				}
			} else {
				u.trust(t, h)
			}
			out, errOut, code := runCmd(t, u.env, "list", "--putty", "lab")
			if code != 0 || !strings.Contains(out, fmt.Sprint(j.Port)) {
				t.Errorf("list --putty: exit %d, stdout %q, want the server's port %d; stderr:\n%s", code, out, j.Port, errOut)
			}
			p, link := openLink(t, u.env, "--putty", "lab")
			checkLink(t, link, j)
			if code := p.interrupt(); code != 0 {
				t.Errorf("exit status after SIGINT = %d, want 0; stderr:\n%s", code, p.stderr)
			}
		})
	}
}

// TestPuttyHostKeyRefused: a missing or wrong cached host key is refused.
func TestPuttyHostKeyRefused(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	other := newHost(t, testbed.HostOptions{})
	u := newPuttyUser(t)
	u.session(t, "lab", h, ppkKey(t, 3, ""))
	check := func(what string) string {
		t.Helper()
		_, errOut, code := runCmd(t, u.env, "open", "--putty", "lab")
		if code != 1 || !strings.Contains(errOut, "host key") || !strings.Contains(errOut, `"lab"`) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 and a host key error naming the session", what, code, errOut)
		}
		return errOut
	}
	if errOut := check("no cache"); !strings.Contains(errOut, "'plink -load lab'") {
		t.Errorf("unknown key: stderr lacks the hint to run plink -load lab:\n%s", errOut)
	}
	k, _, err := h.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	_, v, err := other.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.dir, "sshhostkeys"), []byte(k+" "+v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check("wrong key")
}

// TestPuttyProxyHook: after install --putty, a plain plink -load shows
// the link (install sets ProxyLogToTerm=0: plink shows its proxy command's
// stderr) and the session works as before; uninstall gives back the
// session file.
func TestPuttyProxyHook(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	for _, tt := range []struct {
		name      string
		version   int
		encrypted bool // the key file is encrypted; the key is in ssh-agent
	}{
		{"v3", 3, false},
		{"v2-encrypted-agent", 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := newPuttyUser(t)
			pass := ""
			if tt.encrypted {
				pass = "correct horse"
				u.env = append(u.env, "SSH_AUTH_SOCK="+startAgent(t, u.env))
			}
			path := u.session(t, "lab", h, ppkKey(t, tt.version, pass))
			u.trust(t, h)
			orig := readBytes(t, path)

			out, errOut, code := runCmd(t, u.env, "install", "--dry-run", "--putty", "lab")
			if code != 0 || !strings.Contains(out, "+ProxyMethod=5") || !strings.Contains(out, " proxy --putty lab %host %port") {
				t.Errorf("install --dry-run: exit %d, diff:\n%s\nwant +ProxyMethod=5 and our command; stderr:\n%s", code, out, errOut)
			}
			if got := readBytes(t, path); !bytes.Equal(got, orig) {
				t.Fatalf("install --dry-run changed the session:\n%s", got)
			}
			if _, errOut, code := runCmd(t, u.env, "install", "--putty", "lab"); code != 0 {
				t.Fatalf("install --putty: exit %d\n%s", code, errOut)
			}
			installed := readBytes(t, path)
			for _, want := range []string{"ProxyMethod=5\n", "ProxyType=4\n", "ProxyTelnetCommand=" + binPath + " proxy --putty lab %host %port\n"} {
				if !strings.Contains(string(installed), want) {
					t.Errorf("installed session lacks %q:\n%s", want, installed)
				}
			}

			s := u.startPlink(t, "-batch", "-load", "lab", "echo ready; cat")
			link := s.link(60 * time.Second)
			checkLink(t, link, j)
			if !regexp.MustCompile(`(?m)^proxy: Jupyter on lab: http://127\.0\.0\.1:\d+/\S*\r?$`).MatchString(s.stderr.String()) {
				t.Errorf("plink (no -v) does not show the link as a proxy line:\n%s", s.stderr)
			}
			// The link answers for as long as the session lasts.
			time.Sleep(time.Second)
			checkLink(t, link, j)
			s.finish()

			runCmd(t, u.env, "install", "--putty", "lab")
			if got := readBytes(t, path); !bytes.Equal(got, installed) {
				t.Errorf("a second install changed the session:\n%s", got)
			}
			if _, errOut, code := runCmd(t, u.env, "uninstall", "--putty", "lab"); code != 0 {
				t.Fatalf("uninstall --putty: exit %d\n%s", code, errOut)
			}
			if got := readBytes(t, path); !bytes.Equal(got, orig) {
				t.Errorf("uninstall did not restore the session:\n%s\nwant:\n%s", got, orig)
			}
		})
	}
}

// startAgent starts an ssh-agent on a socket of the test's own holding
// the bed's client key, and returns the socket.
func startAgent(t *testing.T, env []string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	agent.Env = env
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	add := exec.CommandContext(ctx, "ssh-add", sharedBed(t).ClientKey)
	add.Env = append(env, "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

// TestPuttyForwardWrite: forward --write --putty puts the forward into
// the session, a plain plink -N serves the link, and --remove takes it
// out again.
func TestPuttyForwardWrite(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u := newPuttyUser(t)
	path := u.session(t, "lab", h, ppkKey(t, 3, ""))
	u.trust(t, h)
	orig := readBytes(t, path)

	out, errOut, code := runCmd(t, u.env, "forward", "--write", "--dry-run", "--putty", "lab")
	if code != 0 || !strings.Contains(out, "+PortForwardings=L") {
		t.Errorf("forward --write --dry-run: exit %d, stdout:\n%s\nwant a diff; stderr:\n%s", code, out, errOut)
	}
	if got := readBytes(t, path); !bytes.Equal(got, orig) {
		t.Fatalf("--dry-run changed the session:\n%s", got)
	}
	out, errOut, code = runCmd(t, u.env, "forward", "--write", "--putty", "lab")
	if code != 0 {
		t.Fatalf("forward --write --putty: exit %d\n%s", code, errOut)
	}
	link := strings.TrimSpace(out)
	m := regexp.MustCompile(`^http://127\.0\.0\.1:(\d+)/`).FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("forward --write --putty printed %q, want a link", out)
	}
	want := fmt.Sprintf("PortForwardings=L%s=127.0.0.1:%d\n", m[1], j.Port)
	if got := string(readBytes(t, path)); !strings.Contains(got, want) {
		t.Errorf("session lacks %q:\n%s", want, got)
	}

	written := readBytes(t, path)
	if out2, errOut, code := runCmd(t, u.env, "forward", "--write", "--putty", "lab"); code != 0 || strings.TrimSpace(out2) != link {
		t.Errorf("a second forward --write: exit %d, link %q, want %q; stderr:\n%s", code, out2, link, errOut)
	}
	if got := readBytes(t, path); !bytes.Equal(got, written) {
		t.Errorf("a second forward --write changed the session:\n%s", got)
	}

	s := u.startPlink(t, "-batch", "-N", "-load", "lab")
	waitFor(t, 30*time.Second, func() bool { return portOpen(link) })
	checkLink(t, link, j)
	s.cmd.Process.Kill()
	<-s.done

	if _, errOut, code := runCmd(t, u.env, "forward", "--remove", "--putty", "lab"); code != 0 {
		t.Fatalf("forward --remove --putty: exit %d\n%s", code, errOut)
	}
	if got := readBytes(t, path); !bytes.Equal(got, orig) {
		t.Errorf("forward --remove did not restore the session:\n%s\nwant:\n%s", got, orig)
	}
}

// TestPuttyForwardUnixSocket: PuTTY cannot forward to a unix socket; the
// error says to use the proxy hook.
func TestPuttyForwardUnixSocket(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, Sock: true})
	u := newPuttyUser(t)
	path := u.session(t, "lab", h, ppkKey(t, 3, ""))
	u.trust(t, h)
	orig := readBytes(t, path)
	_, errOut, code := runCmd(t, u.env, "forward", "--write", "--putty", "lab")
	if code != 1 || !strings.Contains(errOut, "unix socket") || !strings.Contains(errOut, "nbtunnel install --putty lab") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1, a unix socket error and the install hint", code, errOut)
	}
	if got := readBytes(t, path); !bytes.Equal(got, orig) {
		t.Errorf("the session changed:\n%s", got)
	}
}

// TestPuttyProxyHookTerminal: with a controlling terminal, a plain plink
// (no -v) shows the link on it, once, on a line of its own (the hook writes
// to the terminal itself: plink would strip what keeps a late line off the
// shell's prompt).
func TestPuttyProxyHookTerminal(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "/t/"})
	u := newPuttyUser(t)
	u.session(t, "lab", h, ppkKey(t, 3, ""))
	u.trust(t, h)
	if _, errOut, code := runCmd(t, u.env, "install", "--putty", "lab"); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, errOut)
	}
	ptm, pts := openPty(t)
	cmd := exec.Command("plink", "-batch", "-load", "lab", "echo ready; read x; echo got $x")
	cmd.Env = u.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	screen := &syncBuffer{}
	go io.Copy(screen, ptm) // ends with an error when plink and the hook close the terminal

	var link string
	waitFor(t, 60*time.Second, func() bool {
		link = linkRE.FindString(screen.String())
		return link != "" && strings.Contains(screen.String(), "ready")
	})
	checkLink(t, link, j)
	io.WriteString(ptm, "bye\n")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("plink did not exit after the command's input; terminal:\n%s", screen)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("plink exit status = %d, want 0; terminal:\n%s", code, screen)
	}
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(screen.String(), "got bye") })
	if !regexp.MustCompile(`\r\nJupyter on lab: http`).MatchString(screen.String()) || strings.Count(screen.String(), "Jupyter on lab") != 1 {
		t.Errorf("terminal does not show the link once, on a line of its own, naming the session:\n%q", screen)
	}
}

// openPty opens a pseudo-terminal pair; both ends are closed when the
// test ends.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking the pty: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("naming the pty: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestPuttyOpenEncryptedPPK: open --putty with an encrypted key (PPK v3,
// Argon2id) and no agent asks for the passphrase on the terminal.
func TestPuttyOpenEncryptedPPK(t *testing.T) {
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	u := newPuttyUser(t)
	const pass = "s3cret phrase"
	u.session(t, "lab", h, ppkKey(t, 3, pass))
	u.trust(t, h)
	openWithSecret(t, u.env, "passphrase", pass, j, "open", "--putty", "lab")
}

// openWithSecret runs nbtunnel with args on a pseudo-terminal of its own,
// waits for a prompt containing promptWord, types secret, and checks that
// the link printed answers and that the secret was not echoed.
func openWithSecret(t *testing.T, env []string, promptWord, secret string, j *testbed.Jupyter, args ...string) {
	t.Helper()
	ptm, pts := openPty(t)
	cmd := exec.Command(binPath, args...)
	cmd.Env = env
	stderr := &syncBuffer{}
	cmd.Stdin, cmd.Stderr = pts, stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	screen := &syncBuffer{}
	go io.Copy(screen, ptm)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(strings.ToLower(screen.String()), promptWord) })
	io.WriteString(ptm, secret+"\n")
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		lines <- sc.Text()
	}()
	select {
	case link := <-lines:
		checkLink(t, link, j)
	case <-time.After(60 * time.Second):
		t.Fatalf("no link within 60s; terminal:\n%s\nstderr:\n%s", screen, stderr)
	}
	if strings.Contains(screen.String(), secret) {
		t.Errorf("the %s was echoed:\n%s", promptWord, screen)
	}
}
