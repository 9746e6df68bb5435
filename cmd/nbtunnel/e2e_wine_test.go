//go:build linux

package main_test

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// These tests run nbtunnel.exe (GOOS=windows) under Wine against the real
// test bed: PuTTY sessions in the registry, %USERPROFILE%\.ssh\config, the
// suite's own Windows programs (a relay for ProxyCommand, a test Pageant).

var (
	winExeOnce sync.Once
	winExe     string
	winExeErr  error
)

// winUser is a Windows user of the shared Wine prefix, for one test.
type winUser struct {
	w   *testbed.Wine
	exe string // nbtunnel.exe, a Linux path
}

func newWinUser(t *testing.T) *winUser {
	t.Helper()
	sharedBed(t)
	w := testbed.SharedWine(t)
	winExeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		winExe = filepath.Join(w.Dir, "nbtunnel.exe")
		winExeErr = testbed.BuildWindows(ctx, "./cmd/nbtunnel", winExe)
	})
	if winExeErr != nil {
		t.Fatal(winExeErr)
	}
	w.Lock(t)
	return &winUser{w: w, exe: winExe}
}

// buildWin cross-builds one of the suite's Windows programs once per run.
func (u *winUser) buildWin(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(u.w.Dir, filepath.Base(pkg)+".exe")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := testbed.BuildWindows(ctx, pkg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (u *winUser) reg(t *testing.T, key, name, typ, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := u.w.RegAdd(ctx, key, name, typ, data); err != nil {
		t.Fatal(err)
	}
}

const puttyKey = `HKCU\Software\SimonTatham\PuTTY`

// session writes a PuTTY session for h into the registry, as PuTTY saves it.
func (u *winUser) session(t *testing.T, name string, h *testbed.Host, ppk string) {
	t.Helper()
	k := puttyKey + `\Sessions\` + strings.ReplaceAll(name, " ", "%20") // as PuTTY escapes key names
	u.reg(t, k, "HostName", "REG_SZ", h.Addr)
	u.reg(t, k, "PortNumber", "REG_DWORD", strconv.Itoa(h.Port))
	u.reg(t, k, "Protocol", "REG_SZ", "ssh")
	u.reg(t, k, "UserName", "REG_SZ", h.User)
	if ppk != "" {
		u.reg(t, k, "PublicKeyFile", "REG_SZ", ppk)
	}
}

// trust writes h's host key into PuTTY's registry cache.
func (u *winUser) trust(t *testing.T, h *testbed.Host) {
	t.Helper()
	k, v, err := h.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	u.reg(t, puttyKey+`\SshHostKeys`, k, "REG_SZ", v)
}

// writeProfile writes a file under %USERPROFILE% (parts as path elements).
func (u *winUser) writeProfile(t *testing.T, data string, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{u.w.Profile}, parts...)...)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs nbtunnel.exe under Wine in its own session (no terminal).
func (u *winUser) start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startProc(t, u.w.Command(context.Background(), env, u.exe, args...), true)
}

// run runs nbtunnel.exe to completion.
func (u *winUser) run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := u.start(t, env, args...)
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	code = p.wait(2 * time.Minute)
	return strings.Join(out, "\n"), strings.ReplaceAll(p.stderr.String(), "\r\n", "\n"), code
}

// winPPK is the bed's client key as a .ppk, by its Windows path.
func winPPK(t *testing.T, version int, passphrase string) string {
	t.Helper()
	return testbed.WindowsPath(ppkKey(t, version, passphrase))
}

// TestWindowsPuttyRegistry: a PuTTY session and host key saved in the
// registry, `open --putty` gives a link that answers through the tunnel,
// Ctrl-C ends it cleanly, and the state is under %APPDATA%.
func TestWindowsPuttyRegistry(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u.session(t, "lab box", h, winPPK(t, 3, ""))
	u.trust(t, h)
	p := u.start(t, nil, "open", "--putty", "lab box")
	link := p.line(2 * time.Minute)
	checkLink(t, link, j)
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit status after Ctrl-C = %d, want 0; stderr:\n%s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), j.Token) {
		t.Errorf("stderr shows the token:\n%s", p.stderr)
	}
	// State (the remembered port) is under %APPDATA%, as Windows programs
	// keep theirs.
	if _, err := os.Stat(filepath.Join(u.w.Profile, "AppData", "Roaming", "nbtunnel", "ports.json")); err != nil {
		t.Errorf("no port memory under %%APPDATA%%\\nbtunnel: %v", err)
	}
	if _, err := os.Stat(filepath.Join(u.w.Profile, ".config")); err == nil {
		t.Errorf("nbtunnel made %%USERPROFILE%%\\.config")
	}
}

// relayDir is a directory with a space in its name holding the suite's
// relay program, so commands must quote it as a Windows user would.
func (u *winUser) relay(t *testing.T) (exe, log string) {
	t.Helper()
	built := u.buildWin(t, "./internal/testbed/testdata/winrelay")
	dir := filepath.Join(t.TempDir(), "my tools")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(dir, "relay.exe")
	if err := os.WriteFile(exe, b, 0o700); err != nil {
		t.Fatal(err)
	}
	return exe, filepath.Join(dir, "argv log.txt")
}

func checkRelayArgv(t *testing.T, log string, want ...string) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the relay did not run: %v", err)
	}
	if got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("relay argv = %q, want %q", got, want)
	}
}

// sshSetup copies the bed's client key to %USERPROFILE%\.ssh\id_win and
// its known_hosts (every host added so far) to the default known_hosts.
func (u *winUser) sshSetup(t *testing.T) {
	t.Helper()
	b := sharedBed(t)
	key, err := os.ReadFile(b.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	u.writeProfile(t, string(key), ".ssh", "id_win")
	kh, err := os.ReadFile(b.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	u.writeProfile(t, string(kh), ".ssh", "known_hosts")
}

// TestWindowsOpenSSHProxyCommand: a host of %USERPROFILE%\.ssh\config
// (its User from %ProgramData%\ssh\ssh_config) with the user's own ProxyCommand (a Windows program in a directory with a
// space, quoted as for Win32-OpenSSH) and IdentityFile ~\.ssh\...: the
// command runs without a shell, gets exactly its three arguments, and the
// link answers through it.
func TestWindowsOpenSSHProxyCommand(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	u.sshSetup(t)
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	exe, log := u.relay(t)
	u.writeProfile(t, fmt.Sprintf("Host lab\r\n  HostName %s\r\n  Port %d\r\n  IdentityFile ~\\.ssh\\id_win\r\n"+
		"  ProxyCommand \"%s\" \"%s\" %%h %%p\r\n", h.Addr, h.Port, testbed.WindowsPath(exe), testbed.WindowsPath(log)), ".ssh", "config")
	// The login name comes from the system-wide file Win32-OpenSSH reads.
	sys := filepath.Join(u.w.Prefix, "drive_c", "ProgramData", "ssh", "ssh_config")
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, []byte("Host lab\r\n  User "+h.User+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := u.start(t, nil, "open", "lab")
	checkLink(t, p.line(2*time.Minute), j)
	checkRelayArgv(t, log, testbed.WindowsPath(log), h.Addr, strconv.Itoa(h.Port))
	if code := p.interrupt(); code != 0 {
		t.Errorf("exit status after Ctrl-C = %d, want 0; stderr:\n%s", code, p.stderr)
	}

	// With no User anywhere, the login name is the Windows account's, as
	// Win32-OpenSSH sends it: "root" here, not "MACHINE\root".
	os.Remove(sys)
	_, stderr, code := u.run(t, nil, "open", "lab")
	if code != 1 || !strings.Contains(stderr, "authenticating as root to ") {
		t.Errorf("open without User: exit %d, want 1 and a login as root\n%s", code, stderr)
	}
}

// TestWindowsPuttyLocalProxy: a PuTTY session whose proxy is a local
// command (ProxyMethod 5), written as PuTTY wants it (backslashes doubled,
// %host %port): it runs as PuTTY runs it, without a shell.
func TestWindowsPuttyLocalProxy(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	exe, log := u.relay(t)
	u.session(t, "relayed", h, winPPK(t, 3, ""))
	u.trust(t, h)
	k := puttyKey + `\Sessions\relayed`
	u.reg(t, k, "ProxyMethod", "REG_DWORD", "5")
	dbl := func(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }
	u.reg(t, k, "ProxyTelnetCommand", "REG_SZ", fmt.Sprintf(`"%s" "%s" %%host %%port`, dbl(testbed.WindowsPath(exe)), dbl(testbed.WindowsPath(log))))
	p := u.start(t, nil, "open", "--putty", "relayed")
	checkLink(t, p.line(2*time.Minute), j)
	checkRelayArgv(t, log, testbed.WindowsPath(log), h.Addr, strconv.Itoa(h.Port))
	p.interrupt()
}

// TestWindowsInstallOpenSSH: install and uninstall in
// %USERPROFILE%\.ssh\config (CRLF lines, another host) byte for byte,
// install --local-command refused (no ControlMaster on Windows); the
// hook line, run as Win32-OpenSSH runs a ProxyCommand (CreateProcess with
// the command line as written, by the suite's winspawn), carries a real
// OpenSSH session and shows a link that answers; forward --write and
// --remove likewise.
func TestWindowsInstallOpenSSH(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u.sshSetup(t)
	orig := fmt.Sprintf("# my hosts\r\nHost other\r\n  HostName other.invalid\r\n\r\nHost lab\r\n  HostName %s\r\n  Port %d\r\n  User %s\r\n  IdentityFile ~\\.ssh\\id_win\r\n",
		h.Addr, h.Port, h.User)
	cfg := u.writeProfile(t, orig, ".ssh", "config")
	read := func() string {
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	_, stderr, code := u.run(t, nil, "install", "lab")
	if code != 0 {
		t.Fatalf("install lab: exit %d\n%s", code, stderr)
	}
	installed := read()
	hookLine := fmt.Sprintf(`ProxyCommand "%s" proxy %%n %%p`, testbed.WindowsPath(u.exe))
	if !strings.Contains(installed, hookLine) {
		t.Fatalf("config after install lacks %q:\n%s", hookLine, installed)
	}
	if _, stderr, code := u.run(t, nil, "install", "lab"); code != 0 || read() != installed {
		t.Errorf("second install: exit %d, changed the file: %v\n%s", code, read() != installed, stderr)
	}

	// The hook as Win32-OpenSSH runs it: %n and %p expanded, the value
	// handed to CreateProcess as the command line.
	spawn := u.buildWin(t, "./internal/testbed/testdata/winspawn")
	cmdline := fmt.Sprintf(`"%s" proxy lab %d`, testbed.WindowsPath(u.exe), h.Port)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ssh := sharedBed(t).SSHCommand(ctx, "-o", "ProxyCommand=wine "+spawn+" '"+cmdline+"'", h.Alias, "sleep 120")
	ssh.Env = u.w.Env(nil)
	ssh.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stderrPipe, err := ssh.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ssh.Process.Kill(); ssh.Wait() }()
	linkCh := make(chan string, 1)
	var sshErr syncBuffer
	go func() {
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			l := strings.TrimSuffix(sc.Text(), "\r")
			fmt.Fprintln(&sshErr, l)
			if i := strings.Index(l, "http://127.0.0.1:"); i >= 0 {
				select {
				case linkCh <- strings.Fields(l[i:])[0]:
				default:
				}
			}
		}
	}()
	select {
	case link := <-linkCh:
		checkLink(t, link, j)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no link from the hook within 2m; ssh stderr:\n%s", sshErr.String())
	}
	ssh.Process.Kill()

	if _, stderr, code := u.run(t, nil, "uninstall", "lab"); code != 0 {
		t.Fatalf("uninstall lab: exit %d\n%s", code, stderr)
	}
	// OpenSSH for Windows has no ControlMaster: the LocalCommand hook is
	// refused, and the file stays as it is.
	if _, stderr, code := u.run(t, nil, "install", "--local-command", "lab"); code != 1 || !strings.Contains(stderr, "no ControlMaster") {
		t.Errorf("install --local-command: exit %d, want 1 and a reason\n%s", code, stderr)
	}
	if got := read(); got != orig {
		t.Errorf("config after uninstall differs from the original:\n got %q\nwant %q", got, orig)
	}

	if _, stderr, code := u.run(t, nil, "forward", "--write", "lab"); code != 0 {
		t.Fatalf("forward --write lab: exit %d\n%s", code, stderr)
	}
	if got := read(); !strings.Contains(got, "LocalForward 127.0.0.1:") || !strings.Contains(got, orig) {
		t.Errorf("config after forward --write:\n%s", got)
	}
	if _, stderr, code := u.run(t, nil, "forward", "--remove", "lab"); code != 0 {
		t.Fatalf("forward --remove lab: exit %d\n%s", code, stderr)
	}
	if got := read(); got != orig {
		t.Errorf("config after forward --remove differs from the original:\n got %q\nwant %q", got, orig)
	}
}

// startPageant runs the suite's test Pageant (a window of class and title
// "Pageant" answering WM_COPYDATA; with pipe, also Pageant 0.75's named
// pipe) holding the bed's client key; it returns the file it logs
// requests to and a function that stops it.
func (u *winUser) startPageant(t *testing.T, pipe bool) (log string, stop func()) {
	t.Helper()
	exe := u.buildWin(t, "./internal/testbed/testdata/testpageant")
	log = filepath.Join(t.TempDir(), "pageant.log")
	args := []string{testbed.WindowsPath(sharedBed(t).ClientKey), testbed.WindowsPath(log)}
	if pipe {
		args = append(args, "pipe")
	}
	cmd := u.w.Command(context.Background(), nil, exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { cmd.Process.Kill(); cmd.Wait() }) }
	t.Cleanup(stop)
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && strings.TrimSpace(sc.Text()) == "ready"
		io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("test Pageant did not start: %s", stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("test Pageant not ready within 1m: %s", stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("test Pageant's log:\n%s", b)
		}
	})
	return log, stop
}

// TestWindowsPageant: a PuTTY session with no key file logs in with the
// key Pageant holds, through Pageant's window protocol (WM_COPYDATA), and
// through its named pipe when Pageant serves one.
func TestWindowsPageant(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u.session(t, "agent", h, "")
	u.trust(t, h)

	// Without Pageant there is no key: a clear failure, not a hang.
	_, stderr, code := u.run(t, nil, "open", "--putty", "agent")
	if code == 0 || !strings.Contains(stderr, "no Pageant window or pipe") {
		t.Errorf("open without Pageant: exit %d, want a failure; stderr:\n%s", code, stderr)
	}

	log, stop := u.startPageant(t, false)
	p := u.start(t, nil, "open", "--putty", "agent")
	checkLink(t, p.line(2*time.Minute), j)
	p.interrupt()
	b, _ := os.ReadFile(log)
	for _, want := range []string{"window: request 11\n", "window: request 13\n"} { // list keys, sign
		if !strings.Contains(string(b), want) {
			t.Errorf("Pageant's log lacks %q:\n%s", want, b)
		}
	}
	stop()

	// A Pageant that also serves the 0.75+ named pipe is asked there.
	// (The test Pageant computes the pipe's name as nbtunnel does.)
	log, _ = u.startPageant(t, true)
	p = u.start(t, nil, "open", "--putty", "agent")
	checkLink(t, p.line(2*time.Minute), j)
	p.interrupt()
	b, _ = os.ReadFile(log)
	if !strings.Contains(string(b), "pipe: connected\n") || strings.Contains(string(b), "window:") {
		t.Errorf("with Pageant's pipe served, its log is:\n%s\nwant the pipe used and the window not", b)
	}
}

// TestWindowsPuttyProxyOpensLinkFile: nbtunnel as a PuTTY session's proxy
// with no terminal (as PuTTY for Windows runs it) opens the link in the
// browser through a private redirect page: the browser (the suite's
// stand-in, through %BROWSER%) gets the page's path, never the token, and
// the page leads to the link. The SSH client here is the real OpenSSH,
// with nbtunnel.exe as its ProxyCommand; the link answers.
func TestWindowsPuttyProxyOpensLinkFile(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u.session(t, "gui", h, winPPK(t, 3, ""))
	u.trust(t, h)
	browser := u.buildWin(t, "./internal/testbed/testdata/winbrowser")
	log := filepath.Join(t.TempDir(), "browser.log")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ssh := sharedBed(t).SSHCommand(ctx, "-o", "ProxyCommand=wine "+u.exe+" proxy --putty gui %p", h.Alias, "sleep 120")
	ssh.Env = u.w.Env([]string{"BROWSER=" + testbed.WindowsPath(browser), "NBTUNNEL_BROWSER_LOG=" + testbed.WindowsPath(log)})
	ssh.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var sshErr syncBuffer
	ssh.Stderr = &sshErr
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ssh.Process.Kill(); ssh.Wait() }()
	var page string
	waitFor(t, 2*time.Minute, func() bool {
		b, _ := os.ReadFile(log)
		page = string(b)
		return strings.Contains(page, "</html>") || strings.Contains(page, "error:")
	})
	argv, body, _ := strings.Cut(page, "\n")
	if strings.Contains(argv, j.Token) || !strings.Contains(argv, "jupyter.html") {
		t.Errorf("the browser's arguments are %q: want the redirect page, never the token", argv)
	}
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the redirect page has no link:\n%s\nssh stderr:\n%s", body, sshErr.String())
	}
	checkLink(t, html.UnescapeString(m[1]), j)
	if !strings.Contains(sshErr.String(), "Jupyter on") {
		t.Errorf("the link is not on stderr (PuTTY's Event Log):\n%s", sshErr.String())
	}
}

// TestWindowsPuttyErrors: what a PuTTY user on Windows reads when the key
// file or the host-key cache is wrong: the file or registry value named,
// what is wrong with it, and what to do.
func TestWindowsPuttyErrors(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	other := newHost(t, testbed.HostOptions{})
	hostKeys := puttyKey + `\SshHostKeys`
	keyName, _, err := h.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	_, otherValue, err := other.PuTTYHostKey()
	if err != nil {
		t.Fatal(err)
	}
	missing := testbed.WindowsPath(filepath.Join(t.TempDir(), "gone.ppk"))
	encrypted := winPPK(t, 3, "sesame")
	for _, tc := range []struct {
		name  string
		setup func()
		want  []string
	}{
		{"missing ppk", func() { u.session(t, "s", h, missing); u.trust(t, h) },
			[]string{missing, "does not exist"}},
		{"encrypted ppk", func() { u.session(t, "s", h, encrypted); u.trust(t, h) },
			[]string{encrypted, "encrypted", "Pageant"}},
		{"changed host key", func() {
			u.session(t, "s", h, winPPK(t, 3, ""))
			u.reg(t, hostKeys, keyName, "REG_SZ", otherValue)
		}, []string{`HKEY_CURRENT_USER\Software\SimonTatham\PuTTY\SshHostKeys`, keyName}},
		{"other key type cached", func() {
			u.session(t, "s", h, winPPK(t, 3, ""))
			u.reg(t, hostKeys, strings.Replace(keyName, "ssh-ed25519@", "rsa2@", 1), "REG_SZ", "0x10001,0xc2f1b3")
		}, []string{"not cached for its type", "rsa2@", "ssh-ed25519", "plink -load s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			u.w.RegDelete(ctx, puttyKey)
			tc.setup()
			_, stderr, code := u.run(t, nil, "open", "--putty", "s")
			t.Logf("stderr:\n%s", stderr)
			if code == 0 {
				t.Fatalf("open succeeded; stderr:\n%s", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, bad := range []string{"SshHostKeys:", "tried nothing", "ssh-add", "no common algorithm", "panic"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr has %q:\n%s", bad, stderr)
				}
			}
		})
	}
}

// winConsole runs nbtunnel.exe with args on a new pseudo-terminal, 200
// columns wide so no line wraps; Wine gives a program started on a
// terminal a console backed by it.
func (u *winUser) winConsole(t *testing.T, args ...string) (ptm *os.File, screen *syncBuffer, cmd *exec.Cmd, done chan struct{}) {
	t.Helper()
	ptm, pts := openPty(t)
	ws := [4]uint16{50, 200, 0, 0}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pts.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		t.Fatalf("TIOCSWINSZ: %v", e)
	}
	cmd = u.w.Command(context.Background(), nil, u.exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done = make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	screen = &syncBuffer{}
	go io.Copy(screen, ptm)
	return ptm, screen, cmd, done
}

func waitScreen(t *testing.T, screen *syncBuffer, within time.Duration, want string) {
	t.Helper()
	for deadline := time.Now().Add(within); !strings.Contains(screen.String(), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the console within %v; console:\n%q", want, within, screen.String())
		}
	}
}

// TestWindowsConsolePrompt: nbtunnel.exe on a console asks for a .ppk's
// passphrase and for a password on CONIN$/CONOUT$ with echo off and the
// links answer; Ctrl-C at the prompt ends it.
func TestWindowsConsolePrompt(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	const pass = "s3cret phrase"
	u.session(t, "enc", h, winPPK(t, 3, pass))
	u.trust(t, h)

	ptm, screen, _, _ := u.winConsole(t, "open", "--putty", "enc")
	waitScreen(t, screen, 2*time.Minute, "Enter passphrase for key")
	io.WriteString(ptm, pass+"\r")
	waitScreen(t, screen, 2*time.Minute, "?token=")
	checkLink(t, linkRE.FindString(screen.String()), j)
	if strings.Contains(screen.String(), pass) {
		t.Errorf("the passphrase was echoed:\n%q", screen)
	}

	// A password, for a session with no key and no Pageant.
	hp := newHost(t, testbed.HostOptions{SSHDConfig: []string{"PasswordAuthentication yes"}})
	jp := startJupyter(t, hp, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	const pw = "correct horse battery"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := hp.RunRoot(ctx, "echo '"+hp.User+":"+pw+"' | chpasswd"); err != nil {
		t.Fatalf("setting the password: %v", err)
	}
	u.session(t, "pw", hp, "")
	u.trust(t, hp)
	ptm, screen, _, _ = u.winConsole(t, "open", "--putty", "pw")
	waitScreen(t, screen, 2*time.Minute, "password:")
	io.WriteString(ptm, pw+"\r")
	waitScreen(t, screen, 2*time.Minute, "?token=")
	checkLink(t, linkRE.FindString(screen.String()), jp)
	if strings.Contains(screen.String(), pw) {
		t.Errorf("the password was echoed:\n%q", screen)
	}

	ptm, screen, cmd, done := u.winConsole(t, "open", "--putty", "enc")
	waitScreen(t, screen, 2*time.Minute, "Enter passphrase for key")
	io.WriteString(ptm, "\x03")
	select {
	case <-done:
		t.Logf("after Ctrl-C at the prompt: exit status %d; console:\n%q", cmd.ProcessState.ExitCode(), screen)
		if strings.Contains(screen.String(), "?token=") {
			t.Errorf("Ctrl-C at the passphrase prompt still gave a link:\n%q", screen)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Ctrl-C at the prompt did not end nbtunnel.exe; console:\n%q", screen)
	}
}

// TestWindowsInstallPutty: install --putty writes the hook into the
// registry session (a local proxy command running nbtunnel.exe) and
// uninstall puts every value back as it was.
func TestWindowsInstallPutty(t *testing.T) {
	u := newWinUser(t)
	h := newHost(t, testbed.HostOptions{})
	u.session(t, "lab box", h, winPPK(t, 3, ""))
	u.trust(t, h)
	key := puttyKey + `\Sessions\lab%20box`
	u.reg(t, key, "ProxyMethod", "REG_DWORD", "0")
	u.reg(t, key, "ProxyTelnetCommand", "REG_SZ", `connect %host %port\n`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before, err := u.w.RegQuery(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := u.run(t, nil, "install", "--putty", "lab box"); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, stderr)
	}
	installed, err := u.w.RegQuery(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(installed, strings.ReplaceAll(testbed.WindowsPath(u.exe), `\`, `\\`)) || !regexp.MustCompile(`ProxyMethod\s+REG_DWORD\s+0x5`).MatchString(installed) {
		t.Errorf("session after install:\n%s", installed)
	}
	if _, stderr, code := u.run(t, nil, "uninstall", "--putty", "lab box"); code != 0 {
		t.Fatalf("uninstall --putty: exit %d\n%s", code, stderr)
	}
	after, err := u.w.RegQuery(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("session after uninstall differs:\n got %s\nwant %s", after, before)
	}
}
