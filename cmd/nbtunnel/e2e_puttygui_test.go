//go:build linux

package main_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// These tests drive the real PuTTY GUI (Debian's putty) under an Xvfb of
// their own. What the window shows is read from PuTTY's own session log
// (putty -sessionlog FILE records the window's text, "proxy: ..." lines
// included), so no screen scraping is needed.

// startXvfb starts an X server on a free display for the test and returns
// its DISPLAY. No window manager is needed. With NBTUNNEL_XVFB_FBDIR set,
// Xvfb also keeps its screen as an XWD file in that directory, for looking
// at what a user would see.
func startXvfb(t *testing.T) string {
	t.Helper()
	testbed.Require(t, "Xvfb", "putty")
	for n := 90 + os.Getpid()%100; n < 400; n++ {
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if _, err := os.Stat(sock); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		args := []string{":" + strconv.Itoa(n), "-screen", "0", "1024x768x24", "-nolisten", "tcp"}
		if dir := os.Getenv("NBTUNNEL_XVFB_FBDIR"); dir != "" {
			args = append(args, "-fbdir", dir)
		}
		cmd := exec.Command("Xvfb", args...)
		log := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting Xvfb: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		deadline := time.Now().Add(15 * time.Second)
		for {
			if _, err := os.Stat(sock); err == nil {
				t.Cleanup(func() {
					cmd.Process.Signal(syscall.SIGTERM)
					select {
					case <-done:
					case <-time.After(10 * time.Second):
						cmd.Process.Kill()
						<-done
					}
				})
				return ":" + strconv.Itoa(n)
			}
			select {
			case <-done:
				// Another X server took the display first: try the next.
			case <-time.After(50 * time.Millisecond):
				if time.Now().Before(deadline) {
					continue
				}
				cmd.Process.Kill()
				<-done
				t.Fatalf("Xvfb :%d did not start within 15s:\n%s", n, log)
			}
			break
		}
	}
	t.Fatal("no free X display for Xvfb")
	return ""
}

// puttyWindow is a running PuTTY GUI.
type puttyWindow struct {
	t       *testing.T
	cmd     *exec.Cmd
	log     string      // the session log: what the window shows
	tty     *syncBuffer // the terminal PuTTY was started from, if any
	done    chan struct{}
	session string
}

// sessionFile writes a saved session named name (which may hold spaces)
// for h, as PuTTY names its file.
func (u *puttyUser) sessionFile(t *testing.T, name string, h *testbed.Host, key string) string {
	t.Helper()
	path := u.session(t, name, h, key)
	escaped := filepath.Join(u.dir, "sessions", strings.ReplaceAll(name, " ", "%20"))
	if err := os.Rename(path, escaped); err != nil {
		t.Fatal(err)
	}
	return escaped
}

// startPuTTY opens the saved session in the PuTTY GUI on display. With
// fromTerminal it is started from a terminal (a pseudo-terminal that is its
// controlling terminal), else as from a desktop: its own session, no
// terminal, stdio on /dev/null.
func (u *puttyUser) startPuTTY(t *testing.T, display, session string, fromTerminal bool) *puttyWindow {
	t.Helper()
	w := &puttyWindow{t: t, log: filepath.Join(t.TempDir(), "putty.log"), done: make(chan struct{}), session: session}
	w.cmd = exec.Command("putty", "-load", session, "-sessionlog", w.log)
	w.cmd.Env = append(append([]string(nil), u.env...), "DISPLAY="+display)
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if fromTerminal {
		ptm, pts := openPty(t)
		w.cmd.Stdin, w.cmd.Stdout, w.cmd.Stderr = pts, pts, pts
		w.cmd.SysProcAttr.Setctty = true
		w.cmd.SysProcAttr.Ctty = 0
		w.tty = &syncBuffer{}
		go io.Copy(w.tty, ptm)
		defer pts.Close()
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { w.close() })
	return w
}

// screen is the window's text so far.
func (w *puttyWindow) screen() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}

// linkLine matches a link line as PuTTY shows it.
func (w *puttyWindow) linkLine() *regexp.Regexp {
	return regexp.MustCompile(`(?m)proxy: Jupyter on ` + regexp.QuoteMeta(w.session) + `: (https?://127\.0\.0\.1:\d+/[^\s]*)(.*)\r?$`)
}

// link waits for the link line in the window and returns the link and
// what follows it on the line.
func (w *puttyWindow) link(within time.Duration) (link, rest string) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := w.linkLine().FindStringSubmatch(w.screen()); m != nil {
			return m[1], strings.TrimRight(m[2], "\r")
		}
		select {
		case <-w.done:
			w.t.Fatalf("PuTTY exited before the link showed; window:\n%s", w.screen())
		case <-time.After(100 * time.Millisecond):
		}
	}
	w.t.Fatalf("no link in the PuTTY window within %v; window:\n%s", within, w.screen())
	return "", ""
}

// checkOwnLines checks that every line of the hook in the window starts
// a line of its own, whether it came before the shell's prompt or after:
// PuTTY writes "proxy: " wherever the cursor is (after the prompt when the
// login beat the hook), and the hook takes that back, moves to the next
// line and writes "proxy: LINE" there.
func (w *puttyWindow) checkOwnLines() {
	w.t.Helper()
	screen := w.screen()
	const ownLine = "proxy: \x1b[7D\x1b[K\x1bEproxy: "
	if n, own := strings.Count(screen, "proxy: Jupyter on"), strings.Count(screen, ownLine+"Jupyter on"); n == 0 || n != own {
		w.t.Errorf("%d link lines in the window, %d of them on a line of their own; window:\n%q", n, own, screen)
	}
}

// close ends PuTTY as closing its window does, and waits for it.
func (w *puttyWindow) close() {
	select {
	case <-w.done:
		return
	default:
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
}

// TestPuttyGUIShowsLink: after install --putty, the PuTTY window itself
// shows the link (ProxyLogToTerm=0 and the link on the hook's stderr),
// whether PuTTY was started from a desktop or from a terminal; the link
// answers; uninstall gives the session back byte for byte.
func TestPuttyGUIShowsLink(t *testing.T) {
	display := startXvfb(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer, BaseURL: "/g/"})
	for _, fromTerminal := range []bool{false, true} {
		name := map[bool]string{false: "desktop", true: "terminal"}[fromTerminal]
		t.Run(name, func(t *testing.T) {
			u := newPuttyUser(t)
			const session = "lab box"
			path := u.sessionFile(t, session, h, ppkKey(t, 3, ""))
			u.trust(t, h)
			orig := readBytes(t, path)
			_, errOut, code := runCmd(t, u.env, "install", "--putty", session)
			if code != 0 {
				t.Fatalf("install --putty: exit %d\n%s", code, errOut)
			}
			if !strings.Contains(errOut, "PuTTY now shows the Jupyter link in its window") || !strings.Contains(errOut, `'nbtunnel uninstall --putty "lab box"'`) {
				t.Errorf("install does not say where the link shows, or its hint is not quoted:\n%s", errOut)
			}
			if !strings.Contains(string(readBytes(t, path)), "ProxyLogToTerm=0\n") {
				t.Errorf("installed session lacks ProxyLogToTerm=0:\n%s", readBytes(t, path))
			}

			w := u.startPuTTY(t, display, session, fromTerminal)
			link, rest := w.link(60 * time.Second)
			if rest != "" {
				t.Errorf("link line ends with %q, want nothing after the link", rest)
			}
			checkLink(t, link, j)
			w.checkOwnLines()
			if fromTerminal {
				time.Sleep(time.Second) // anything written to the terminal would be there by now
				if strings.Contains(w.tty.String(), "Jupyter") {
					t.Errorf("the link went to the terminal PuTTY was started from:\n%s", w.tty)
				}
			}
			w.close()

			if _, errOut, code := runCmd(t, u.env, "uninstall", "--putty", session); code != 0 {
				t.Fatalf("uninstall --putty: exit %d\n%s", code, errOut)
			}
			if got := readBytes(t, path); string(got) != string(orig) {
				t.Errorf("uninstall did not restore the session:\n%s\nwant:\n%s", got, orig)
			}
		})
	}
}

// TestPuttyGUISharedForwardTakeover: two PuTTY windows (as "Duplicate
// Session" opens them) and a plink of one session share one forward; as
// each closes, another takes the port over and the same link goes on
// answering, with no new line in the windows.
func TestPuttyGUISharedForwardTakeover(t *testing.T) {
	display := startXvfb(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook})
	u := newPuttyUser(t)
	const session = "lab box"
	u.sessionFile(t, session, h, ppkKey(t, 3, ""))
	u.trust(t, h)
	if _, errOut, code := runCmd(t, u.env, "install", "--putty", session); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, errOut)
	}

	first := u.startPuTTY(t, display, session, false)
	link, rest := first.link(60 * time.Second)
	if rest != "" {
		t.Errorf("first window: link line ends with %q, want nothing after the link", rest)
	}
	second := u.startPuTTY(t, display, session, false)
	link2, rest := second.link(60 * time.Second)
	if link2 != link || !strings.Contains(rest, "shared with another nbtunnel") {
		t.Errorf("second window shows %q%s, want the first's link, shared", redact(link2), rest)
	}
	third := u.startPlink(t, "-batch", "-load", session, "echo ready; cat")
	if got := third.link(60 * time.Second); got != link {
		t.Errorf("plink shows %q, want the same link %q", redact(got), redact(link))
	}
	if !strings.Contains(third.stderr.String(), "proxy: Jupyter on lab box: ") || !strings.Contains(third.stderr.String(), "shared with another nbtunnel") {
		t.Errorf("plink (no -v) does not show the shared link as a proxy line:\n%s", third.stderr)
	}
	checkLink(t, link, j)
	if n := hookProcesses(session); n != 3 {
		t.Fatalf("%d hook processes for %q, want 3", n, session)
	}

	first.close()
	waitFor(t, 30*time.Second, func() bool { return hookProcesses(session) == 2 })
	waitLinkAnswers(t, link, 30*time.Second)
	checkLink(t, link, j)

	second.close()
	waitFor(t, 30*time.Second, func() bool { return hookProcesses(session) == 1 })
	waitLinkAnswers(t, link, 30*time.Second)
	checkLink(t, link, j) // plink alone serves it now

	third.finish()
	first.checkOwnLines()
	second.checkOwnLines()
	if n := strings.Count(second.screen(), "Jupyter on"); n != 1 {
		t.Errorf("second window shows %d link lines, want 1 (keeping the link says nothing):\n%s", n, second.screen())
	}
	if n := strings.Count(third.stderr.String(), "Jupyter on"); n != 1 {
		t.Errorf("plink shows %d link lines, want 1:\n%s", n, third.stderr)
	}
}

// TestPuttyGUIOwnForward: with the hook and a PortForwardings entry from
// forward --write in one session, PuTTY's own forward serves the link; the
// window shows the link on a line of its own, with no claim that another
// nbtunnel forwards it.
func TestPuttyGUIOwnForward(t *testing.T) {
	display := startXvfb(t)
	h := newHost(t, testbed.HostOptions{})
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindServer})
	u := newPuttyUser(t)
	const session = "lab box"
	u.sessionFile(t, session, h, ppkKey(t, 3, ""))
	u.trust(t, h)
	out, errOut, code := runCmd(t, u.env, "forward", "--write", "--putty", session)
	if code != 0 {
		t.Fatalf("forward --write --putty: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, `'plink -N -load "lab box"'`) {
		t.Errorf("forward --write's hint does not quote the session name:\n%s", errOut)
	}
	written := strings.TrimSpace(out)
	if _, errOut, code := runCmd(t, u.env, "install", "--putty", session); code != 0 {
		t.Fatalf("install --putty: exit %d\n%s", code, errOut)
	}
	w := u.startPuTTY(t, display, session, false)
	link, rest := w.link(60 * time.Second)
	if link != written || rest != "" {
		t.Errorf("window shows %q%s, want the written forward's link %q alone", redact(link), rest, redact(written))
	}
	w.checkOwnLines()
	if strings.Contains(w.screen(), "another nbtunnel") {
		t.Errorf("window says another nbtunnel forwards the link:\n%s", w.screen())
	}
	waitLinkAnswers(t, link, 30*time.Second)
	checkLink(t, link, j)
}
