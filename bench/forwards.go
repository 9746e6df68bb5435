package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fwd is a running local forward: an nbtunnel process, an `ssh -N -L` or the bench's own helper.
type fwd struct {
	name string
	cmd  *exec.Cmd
	addr string // 127.0.0.1:PORT
	link string // the link nbtunnel printed, or ""
	base string // http://127.0.0.1:PORT/BASE/ when it leads to Jupyter
}

func (f *fwd) pid() int { return f.cmd.Process.Pid }

// stop ends the forward's process (SIGINT, then SIGKILL after 5s) and reaps it.
func (f *fwd) stop() {
	if f == nil || f.cmd == nil || f.cmd.Process == nil {
		return
	}
	f.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		f.cmd.Process.Kill()
		<-done
	}
}

// openNbtunnel runs `nbtunnel open -F config alias` and waits for its link.
func (w *world) openNbtunnel(ctx context.Context, alias string) (*fwd, error) {
	cmd := w.nbtunnel(context.Background(), "open", "-F", w.config, alias)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fwd{name: "nbtunnel", cmd: cmd}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			f.stop()
			return nil, fmt.Errorf("nbtunnel open %s printed no link: %s", alias, stderr.String())
		}
		u, err := url.Parse(l)
		if err != nil {
			f.stop()
			return nil, fmt.Errorf("nbtunnel printed %q: %w", l, err)
		}
		f.link, f.addr = l, u.Host
		f.base = u.Scheme + "://" + u.Host + u.Path
		return f, nil
	case <-ctx.Done():
		f.stop()
		return nil, fmt.Errorf("nbtunnel open %s: %w; stderr: %s", alias, ctx.Err(), stderr.String())
	}
}

// sshForward runs `ssh -N -L 127.0.0.1:LOCAL:127.0.0.1:remotePort lab` with extra options and waits until
// the local port accepts.
func (w *world) sshForward(ctx context.Context, remotePort int, extra ...string) (*fwd, error) {
	lp, err := freeLocalPort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-N", "-o", "ExitOnForwardFailure=yes",
		"-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", lp, remotePort)}, extra...)
	cmd := w.ssh(context.Background(), append(args, "lab")...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fwd{name: "ssh -L", cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(lp)}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitPort(wctx, f.addr); err != nil {
		f.stop()
		return nil, err
	}
	f.base = "http://" + f.addr + w.jup.BaseURL
	return f, nil
}

// helperForward runs the bench binary as a forward built from package proxy (Dial, Listen, SetTarget,
// Serve: what `nbtunnel open` runs, pointed at any port) and waits for its port.
func (w *world) helperForward(ctx context.Context, remotePort int, cipher, profile string) (*fwd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(append([]string(nil), w.env...),
		helperEnv+"=forward", "BENCH_CONFIG="+w.config, "BENCH_HOST=lab",
		"BENCH_TARGET=127.0.0.1:"+strconv.Itoa(remotePort), "BENCH_CIPHER="+cipher, "BENCH_CPUPROFILE="+profile)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fwd{name: "nbtunnel forward", cmd: cmd}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			port <- sc.Text()
		}
		close(port)
		io.Copy(io.Discard, out)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			f.stop()
			return nil, fmt.Errorf("forward helper printed no port")
		}
		f.addr = "127.0.0.1:" + strings.TrimSpace(p)
		return f, nil
	case <-ctx.Done():
		f.stop()
		return nil, ctx.Err()
	}
}

// statusOK asks base+"api/status" with the token and wants 200.
func statusOK(ctx context.Context, c *http.Client, base, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"api/status", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %sapi/status: %s", base, resp.Status)
	}
	return nil
}

var oneShot = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
