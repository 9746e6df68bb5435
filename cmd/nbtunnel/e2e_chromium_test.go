//go:build linux

package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// TestBrowserRunsNotebookCell is the user's whole path in a real browser:
// `nbtunnel open --open` hands headless Chromium the private redirect file
// (the token on no command line), Chromium follows it to the link and
// lists the remote directory, opens a notebook, runs its cell on a kernel
// (the kernel's websocket goes through the tunnel) and shows the cell's
// output, computed on the remote host. Chromium is driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe), by hand.
func TestBrowserRunsNotebookCell(t *testing.T) {
	testbed.Require(t, "chromium")
	h := newHost(t, testbed.HostOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nb := `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
 "source": ["import os\n", "print('computed on', os.uname().nodename, 'by uid', os.getuid(), 'answer', 6 * 7)"]}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}`
	if _, err := h.Run(ctx, "mkdir -p nb && echo '{}' > nb/seen-through-the-tunnel.txt && cat > nb/cell.ipynb <<'EOF'\n"+nb+"\nEOF"); err != nil {
		t.Fatal(err)
	}
	j := startJupyter(t, h, testbed.JupyterOptions{Kind: testbed.KindNotebook, RootDir: h.Home + "/nb"})

	// $BROWSER records what nbtunnel asks it to open.
	dir := t.TempDir()
	record := filepath.Join(dir, "opened")
	browser := filepath.Join(dir, "browser")
	os.WriteFile(browser, []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" > "+record+".tmp && mv "+record+".tmp "+record+"\n"), 0o755)
	env := append(userEnv(t, ""), "BROWSER="+browser)
	p, link := openLink(t, env, "--open", "-F", bed.SSHConfig, h.Alias)
	defer p.interrupt()
	checkLink(t, link, j)
	var opened string
	waitFor(t, 30*time.Second, func() bool {
		data, err := os.ReadFile(record)
		opened = strings.TrimSpace(string(data))
		return err == nil
	})
	if strings.Contains(opened, j.Token) || !strings.HasPrefix(opened, "file:///") {
		t.Fatalf("nbtunnel asked the browser to open %q: want a file URL without the token", opened)
	}

	cdp := startChromium(t)
	bctx, bcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer bcancel()
	var created struct{ TargetID string }
	cdp.call(bctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created)
	var attached struct{ SessionID string }
	cdp.call(bctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached)
	session := attached.SessionID
	eval := func(expr string) string {
		var res struct {
			Result struct {
				Value any
			}
			ExceptionDetails any
		}
		cdp.call(bctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
		if res.ExceptionDetails != nil {
			return ""
		}
		return fmt.Sprint(res.Result.Value)
	}
	waitJS := func(what, expr string, ok func(string) bool) string {
		t.Helper()
		var v string
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
			if v = eval(expr); ok(v) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s is %q after 90s; page: %.1500s", what, expr, v, eval("document.body ? document.body.innerText : ''"))
			}
		}
	}

	// The redirect file leads to the link: the tree page, listing the remote directory.
	cdp.call(bctx, session, "Page.navigate", map[string]any{"url": opened}, nil)
	u, _ := url.Parse(link)
	origin := u.Scheme + "://" + u.Host
	waitJS("following the redirect file", "location.href", func(v string) bool { return strings.HasPrefix(v, origin+"/tree") })
	waitJS("the tree page", "document.body.innerText", func(v string) bool { return strings.Contains(v, "seen-through-the-tunnel.txt") })

	// The token logged the browser in: the notebook opens without it, and its kernel connects.
	cdp.call(bctx, session, "Page.navigate", map[string]any{"url": origin + "/notebooks/cell.ipynb"}, nil)
	waitJS("the kernel", "!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected())",
		func(v string) bool { return v == "true" })
	eval("Jupyter.notebook.get_cell(0).execute(); true")
	out := waitJS("the cell's output", "Array.from(document.querySelectorAll('.output_area pre')).map(e => e.innerText).join('\\n')",
		func(v string) bool { return strings.Contains(v, "answer 42") })
	t.Logf("cell output: %q", out)
	if want := fmt.Sprintf("by uid %d answer 42", h.UID); !strings.Contains(out, want) {
		t.Errorf("cell output %q: want %q (run by the remote user)", out, want)
	}
}

// cdpConn speaks the DevTools protocol over Chromium's debugging pipe:
// JSON messages separated by NUL bytes, fd 3 into Chromium, fd 4 out.
type cdpConn struct {
	t       *testing.T
	w       io.Writer
	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpReply
}

type cdpReply struct {
	Result json.RawMessage
	Error  *struct{ Message string }
}

func startChromium(t *testing.T) *cdpConn {
	t.Helper()
	toChrome, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmdR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	t.Cleanup(func() {
		cmdW.Close()
		cmd.Process.Kill()
		cmd.Wait()
		cmdR.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%.3000s", stderr.String())
		}
	})
	c := &cdpConn{t: t, w: cmdW, waiting: map[int]chan cdpReply{}}
	go func() {
		r := bufio.NewReader(cmdR)
		for {
			msg, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			var m struct {
				ID     int
				Result json.RawMessage
				Error  *struct{ Message string }
			}
			if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
				continue // an event
			}
			c.mu.Lock()
			ch := c.waiting[m.ID]
			delete(c.waiting, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- cdpReply{Result: m.Result, Error: m.Error}
			}
		}
	}()
	return c
}

// call sends one command (to a page session, or the browser when session
// is "") and decodes its result into out (nil to drop it).
func (c *cdpConn) call(ctx context.Context, session, method string, params any, out any) {
	c.t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpReply, 1)
	c.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	_, err := c.w.Write(append(data, 0))
	c.mu.Unlock()
	if err != nil {
		c.t.Fatalf("CDP %s: %v", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			c.t.Fatalf("CDP %s: %s", method, r.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				c.t.Fatalf("CDP %s: decoding %s: %v", method, r.Result, err)
			}
		}
	case <-ctx.Done():
		c.t.Fatalf("CDP %s: no answer: %v", method, ctx.Err())
	}
}
