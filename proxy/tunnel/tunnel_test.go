package tunnel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// The tests in this file run tunnel.Tunnel against an sshtest server whose
// "remote" is this machine: the discovery script runs in a real /bin/sh
// with HOME set to a temporary directory, where fakeJupyter writes runtime
// files for a tiny HTTP server that answers as Jupyter's /api does.

// ioTimeout bounds every wait in these tests.
const ioTimeout = 30 * time.Second

// fakeJupyter answers GET BASE/api and BASE/api/status (with the token) as
// Jupyter does, and has a runtime file naming this test process's pid.
type fakeJupyter struct {
	Token string
	Port  int
	file  string
	srv   *http.Server
	done  chan struct{}
}

func startFakeJupyter(t *testing.T, r *sshtest.Remote, token string) *fakeJupyter {
	t.Helper()
	return startFakeJupyterAt(t, r, token, "127.0.0.1:0")
}

// startFakeJupyterAt is startFakeJupyter listening on addr.
func startFakeJupyterAt(t *testing.T, r *sshtest.Remote, token, addr string) *fakeJupyter {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	j := &fakeJupyter{Token: token, Port: ln.Addr().(*net.TCPAddr).Port, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"version": "6.4.12"}`)
	})
	mux.HandleFunc("/api/status", func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "token "+token && req.URL.Query().Get("token") != token {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		io.WriteString(w, `{"started": "now"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("token") != token {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		io.WriteString(w, "tree of "+token)
	})
	j.srv = &http.Server{Handler: mux, ReadHeaderTimeout: ioTimeout}
	go func() {
		defer close(j.done)
		j.srv.Serve(ln)
	}()
	pid := os.Getpid()
	j.file = filepath.Join(r.RuntimeDir(), fmt.Sprintf("nbserver-%d.json", pid))
	data, _ := json.Marshal(map[string]any{
		"pid": pid, "port": j.Port, "token": token, "base_url": "/", "hostname": "127.0.0.1",
		"notebook_dir": r.Home, "password": false, "secure": false, "url": "http://127.0.0.1:" + strconv.Itoa(j.Port) + "/",
	})
	if err := os.WriteFile(j.file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.stop)
	return j
}

// stop ends the server and removes its runtime file, as a clean exit does.
func (j *fakeJupyter) stop() {
	os.Remove(j.file)
	j.srv.Close()
	<-j.done
}

// tunnelRun is a Tunnel running in the background.
type tunnelRun struct {
	t      *testing.T
	tun    *tunnel.Tunnel
	log    *sshtest.LogRecorder
	links  chan string
	cancel context.CancelFunc
	done   chan error
}

// runTunnel starts t.Run and waits for the first link. The tunnel is
// cancelled, and Run's nil return checked, when the test ends.
func runTunnel(t *testing.T, r *sshtest.Remote, configure func(*tunnel.Tunnel)) (*tunnelRun, string) {
	t.Helper()
	log := &sshtest.LogRecorder{}
	tr := &tunnelRun{t: t, log: log, links: make(chan string, 16), done: make(chan error, 1)}
	tr.tun = &tunnel.Tunnel{
		Host:      r.Host,
		Options:   sshclient.Options{Logf: log.Logf},
		Reconnect: true,
		Watch:     20 * time.Millisecond,
		Logf:      log.Logf,
		Listen: func(ctx context.Context, _ jupyter.Server) (*proxy.Forwarder, error) {
			return proxy.Listen(ctx, 0)
		},
		OnLink:  func(link string, _ jupyter.Server, _ []jupyter.Server) { tr.links <- link },
		OnEvent: func(ev tunnel.Event) { log.Logf("event %s: %v", ev.Kind, ev.Err) },
	}
	if configure != nil {
		configure(tr.tun)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr.cancel = cancel
	go func() { tr.done <- tr.tun.Run(ctx) }()
	t.Cleanup(func() {
		if err := tr.stop(); err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	})
	return tr, tr.link()
}

func (tr *tunnelRun) link() string {
	tr.t.Helper()
	select {
	case l := <-tr.links:
		return l
	case err := <-tr.done:
		tr.done <- err
		tr.t.Fatalf("Run returned %v before a link; log:\n%s", err, tr.log)
	case <-time.After(ioTimeout):
		tr.t.Fatalf("no link within %v; log:\n%s", ioTimeout, tr.log)
	}
	return ""
}

// stop cancels Run and returns its result.
func (tr *tunnelRun) stop() error {
	tr.cancel()
	select {
	case err := <-tr.done:
		tr.done <- err
		return err
	case <-time.After(ioTimeout):
		return fmt.Errorf("Run did not return within %v of cancel", ioTimeout)
	}
}

// getLink fetches link on a fresh connection.
func getLink(link string) (int, string, error) {
	c := &http.Client{Timeout: ioTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(link)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func mustAnswer(t *testing.T, link, token string) {
	t.Helper()
	code, body, err := getLink(link)
	if err != nil || code != 200 || body != "tree of "+token {
		t.Fatalf("GET link = %d %q, %v; want 200 %q", code, body, err, "tree of "+token)
	}
}

// waitAnswers polls link until it answers 200 (bounded by ioTimeout).
func waitAnswers(t *testing.T, tr *tunnelRun, link, token string) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for {
		code, body, err := getLink(link)
		if err == nil && code == 200 && body == "tree of "+token {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("link did not answer within %v (last: %d %q %v); log:\n%s", ioTimeout, code, body, err, tr.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTunnelFirstLink(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	j := startFakeJupyter(t, r, "tok-first")
	_, link := runTunnel(t, r, nil)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Hostname(); got != "127.0.0.1" {
		t.Errorf("link host = %q, want 127.0.0.1", got)
	}
	if got := u.Query().Get("token"); got != j.Token {
		t.Errorf("link token = %q, want %q", got, j.Token)
	}
	mustAnswer(t, link, j.Token)
}

// A dropped connection (network failure), garbage on the wire (a broken
// middlebox) and a stalled connection noticed by keepalives all end in a
// reconnect: the same link answers again without a new OnLink.
func TestTunnelReconnects(t *testing.T) {
	faults := []struct {
		name   string
		inject func(*sshtest.Remote)
		heal   func(*sshtest.Remote)
	}{
		{"drop", (*sshtest.Remote).DropAll, nil},
		{"garbage", (*sshtest.Remote).SendGarbage, nil},
		{"stall", (*sshtest.Remote).Stall, (*sshtest.Remote).Resume},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			sshtest.LeakCheck(t)
			r := sshtest.NewRemote(t, func(h *hostconf.Host) {
				h.ServerAliveInterval = 20 * time.Millisecond
				h.ServerAliveCountMax = 2
			})
			j := startFakeJupyter(t, r, "tok-"+f.name)
			tr, link := runTunnel(t, r, nil)
			mustAnswer(t, link, j.Token)
			f.inject(r)
			sshtest.WaitFor(t, "the connection loss to be logged", func() bool { return tr.log.Count("connection to fake lost") > 0 })
			if f.heal != nil {
				f.heal(r)
			}
			sshtest.WaitFor(t, "a reconnect", func() bool { return tr.log.Count("reconnected to fake") > 0 })
			waitAnswers(t, tr, link, j.Token)
			// OnEvent heard the loss (with its cause), then the reconnect.
			events := tr.log.String()
			lost, back := strings.Index(events, "event connection_lost: "), strings.Index(events, "event reconnected: <nil>")
			if lost < 0 || back < lost || strings.HasPrefix(events[lost:], "event connection_lost: <nil>") {
				t.Errorf("events: want connection_lost with an error, then reconnected; log:\n%s", events)
			}
			select {
			case l := <-tr.links:
				t.Errorf("OnLink called again with %q after a reconnect to the same server", l)
			default:
			}
		})
	}
}

// Connections that arrive while the tunnel reconnects wait for the new
// connection instead of being reset.
func TestTunnelConnectionsWaitDuringReconnect(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	j := startFakeJupyter(t, r, "tok-wait")
	var calls atomic.Int32
	gate := make(chan struct{})
	tr, link := runTunnel(t, r, func(tun *tunnel.Tunnel) {
		tun.Connect = func(ctx context.Context) (*sshclient.Client, error) {
			if calls.Add(1) == 2 {
				select {
				case <-gate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return sshclient.Dial(ctx, tun.Host, tun.Options)
		}
	})
	r.DropAll()
	sshtest.WaitFor(t, "the reconnect to begin", func() bool { return calls.Load() == 2 })
	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		code, body, err := getLink(link)
		got <- result{code, body, err}
	}()
	fwd := tr.tun.Forwarder()
	sshtest.WaitFor(t, "the request to wait for a connection", func() bool { return fwd.Stats().Waiting == 1 })
	close(gate)
	res := <-got
	if res.err != nil || res.code != 200 || res.body != "tree of "+j.Token {
		t.Errorf("GET during reconnect = %d %q, %v; want 200", res.code, res.body, res.err)
	}
	if n := fwd.Stats().DialErrors; n != 0 {
		t.Errorf("forward dial errors = %d, want 0", n)
	}
}

// A server that restarts with a new token and port gets a new link on the
// same local port.
func TestTunnelServerRestart(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	j := startFakeJupyter(t, r, "tok-old")
	tr, link := runTunnel(t, r, nil)
	mustAnswer(t, link, j.Token)
	j.stop()
	j2 := startFakeJupyter(t, r, "tok-new")
	newLink := tr.link()
	old, _ := url.Parse(link)
	nu, _ := url.Parse(newLink)
	if old.Port() != nu.Port() {
		t.Errorf("new link port = %s, want the same local port %s", nu.Port(), old.Port())
	}
	if got := nu.Query().Get("token"); got != j2.Token {
		t.Errorf("new link token = %q, want %q", got, j2.Token)
	}
	mustAnswer(t, newLink, j2.Token)
}

// A server that is gone is reported once, however many watch rounds pass,
// and a server that comes back is picked up.
func TestTunnelServerGoneOnce(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	j := startFakeJupyter(t, r, "tok-gone")
	tr, link := runTunnel(t, r, nil)
	mustAnswer(t, link, j.Token)
	j.stop()
	sshtest.WaitFor(t, "the gone message", func() bool { return tr.log.Count("is gone") > 0 })
	seen := r.Execs()
	sshtest.WaitFor(t, "more discovery rounds", func() bool { return r.Execs() >= seen+3 })
	if n := tr.log.Count("is gone"); n != 1 {
		t.Errorf("the gone message was logged %d times, want once; log:\n%s", n, tr.log)
	}
	if n := tr.log.Count("event server_gone: "); n != 1 {
		t.Errorf("OnEvent heard server_gone %d times, want once; log:\n%s", n, tr.log)
	}
	j2 := startFakeJupyter(t, r, "tok-back")
	mustAnswer(t, tr.link(), j2.Token)
}

// A server that comes back at the same link (same port and token) is
// reported to OnEvent as server_back, and no new link is made.
func TestTunnelServerBackSameLink(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	j := startFakeJupyter(t, r, "tok-same")
	tr, link := runTunnel(t, r, nil)
	mustAnswer(t, link, j.Token)
	j.stop()
	sshtest.WaitFor(t, "the gone event", func() bool { return tr.log.Count("event server_gone: ") > 0 })
	j2 := startFakeJupyterAt(t, r, "tok-same", fmt.Sprintf("127.0.0.1:%d", j.Port))
	sshtest.WaitFor(t, "the back event", func() bool { return tr.log.Count("event server_back: <nil>") > 0 })
	mustAnswer(t, link, j2.Token)
	select {
	case l := <-tr.links:
		t.Errorf("OnLink called with %q for a server back at the same link", l)
	default:
	}
}

// Without Reconnect, Run ends with the connection.
func TestTunnelNoReconnect(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	startFakeJupyter(t, r, "tok-once")
	log := &sshtest.LogRecorder{}
	links := make(chan string, 1)
	tun := &tunnel.Tunnel{
		Host:    r.Host,
		Options: sshclient.Options{Logf: log.Logf},
		Watch:   time.Hour,
		Logf:    log.Logf,
		Listen: func(ctx context.Context, _ jupyter.Server) (*proxy.Forwarder, error) {
			return proxy.Listen(ctx, 0)
		},
		OnLink: func(link string, _ jupyter.Server, _ []jupyter.Server) { links <- link },
	}
	done := make(chan error, 1)
	go func() { done <- tun.Run(context.Background()) }()
	select {
	case <-links:
	case err := <-done:
		t.Fatalf("Run = %v before a link; log:\n%s", err, log)
	}
	r.DropAll()
	if err := <-done; err == nil {
		t.Errorf("Run after the connection dropped = nil, want an error")
	}
	if _, err := net.Dial("tcp", tun.Forwarder().Addr()); err == nil {
		t.Errorf("the local port still accepts after Run returned")
	}
}

// Cancelling Run closes the listener and the connections it serves, and
// leaves no goroutine behind (sshtest.LeakCheck).
func TestTunnelCancelClosesEverything(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	startFakeJupyter(t, r, "tok-cancel")
	tr, _ := runTunnel(t, r, nil)
	addr := tr.tun.Forwarder().Addr()
	// A connection in use (a websocket, say) when the user presses Ctrl-C.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sshtest.WaitFor(t, "the held connection to be forwarded", func() bool { return r.Channels() >= 1 && tr.tun.Forwarder().Stats().Active == 1 })
	if err := tr.stop(); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("read on a held connection after cancel = %d bytes, want EOF or reset", n)
	}
	if c2, err := net.Dial("tcp", addr); err == nil {
		c2.Close()
		t.Errorf("the local port still accepts after Run returned")
	}
	sshtest.WaitFor(t, "the ssh connection to close", func() bool { return r.Conns() == 0 })
}

// While the host stays down the tunnel retries, says so once (repeats go
// to Options.Logf, shown with -v only), and returns promptly when cancelled.
func TestTunnelRetriesQuietlyAndCancels(t *testing.T) {
	sshtest.LeakCheck(t)
	r := sshtest.NewRemote(t, nil)
	startFakeJupyter(t, r, "tok-down")
	var down atomic.Bool
	verbose := &sshtest.LogRecorder{}
	tr, _ := runTunnel(t, r, func(tun *tunnel.Tunnel) {
		tun.Options.Logf = verbose.Logf
		tun.Connect = func(ctx context.Context) (*sshclient.Client, error) {
			if down.Load() {
				return nil, errors.New("connecting to 127.0.0.1:1: connection refused")
			}
			return sshclient.Dial(ctx, tun.Host, tun.Options)
		}
	})
	down.Store(true)
	r.DropAll()
	sshtest.WaitFor(t, "repeated reconnect attempts", func() bool { return verbose.Count("next try in") >= 3 })
	if n := tr.log.Count("reconnecting to fake"); n != 1 {
		t.Errorf("the reconnect failure was said %d times, want once; log:\n%s", n, tr.log)
	}
	if err := tr.stop(); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}
