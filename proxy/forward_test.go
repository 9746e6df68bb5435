package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/proxy"
	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

// *ssh.Client is the Dialer the command uses.
var _ proxy.Dialer = (*ssh.Client)(nil)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestForwardHTTP(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})
	tcpSrv := httptest.NewServer(handler)
	defer tcpSrv.Close()

	sock := filepath.Join(t.TempDir(), "jupyter.sock")
	unixLn, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	unixSrv := httptest.NewUnstartedServer(handler)
	unixSrv.Listener = unixLn
	unixSrv.Start()
	defer unixSrv.Close()

	tests := []struct {
		name, network, addr string
	}{
		{"tcp", "tcp", tcpSrv.Listener.Addr().String()},
		{"unix", "unix", sock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := sshClient(t, sshtest.Options{})
			f := startForwarder(t, client, tt.network, tt.addr, nil)
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: ioTimeout}
			for i := range 3 {
				resp, err := hc.Get(fmt.Sprintf("http://%s/p%d", f.Addr(), i))
				if err != nil {
					t.Fatalf("GET through forwarder: %v", err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if got, want := string(body), fmt.Sprintf("hello /p%d", i); err != nil || got != want {
					t.Errorf("body = %q, %v; want %q", got, err, want)
				}
			}
			tr.CloseIdleConnections()
			waitFor(t, "the connection to end", func() bool { return f.Stats().Active == 0 })
			st := f.Stats()
			if st.Total < 1 || st.DialErrors != 0 || st.CopyErrors != 0 || st.BytesIn == 0 || st.BytesOut == 0 {
				t.Errorf("Stats() = %+v, want Total >= 1, no errors, bytes both ways", st)
			}
		})
	}
}

func TestForwardListensOnLoopbackOnly(t *testing.T) {
	f, err := proxy.Listen(context.Background(), 0)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer f.Close()
	host, port, _ := net.SplitHostPort(f.Addr())
	if host != "127.0.0.1" || port != strconv.Itoa(f.Port()) || f.Port() == 0 {
		t.Errorf("Addr() = %s, Port() = %d; want 127.0.0.1 and the same non-zero port", f.Addr(), f.Port())
	}
}

func TestListenPreferred(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := func() int {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}

	freePort := free()
	tests := []struct {
		name  string
		ports []int
		want  int // 0: any port but busyPort
	}{
		{"first free", []int{freePort}, freePort},
		{"busy skipped", []int{busyPort, freePort}, freePort},
		{"zero and out of range skipped", []int{0, -1, 70000, freePort}, freePort},
		{"all busy", []int{busyPort}, 0},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := proxy.ListenPreferred(context.Background(), tt.ports...)
			if err != nil {
				t.Fatalf("ListenPreferred(%v): %v", tt.ports, err)
			}
			defer f.Close()
			got := f.Port()
			if tt.want != 0 && got != tt.want || tt.want == 0 && (got == busyPort || got == 0) {
				t.Errorf("ListenPreferred(%v).Port() = %d, want %d (0: any but %d)", tt.ports, got, tt.want, busyPort)
			}
		})
	}
}

func TestForwardHalfClose(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	f := startForwarder(t, client, "tcp", tcpBackend(t), nil)
	c := dialLocal(t, f, "sink")
	payload := make([]byte, 300<<10)
	rand.Read(payload)
	if _, err := c.Write(payload); err != nil {
		t.Fatalf("writing: %v", err)
	}
	// The backend answers only after it has seen EOF: the half-close must travel through the channel,
	// and the answer must still come back on the half-open connection.
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	if want := strconv.Itoa(len(payload)); string(got) != want {
		t.Errorf("backend counted %q bytes, want %s", got, want)
	}
}

func TestForwardEcho(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run("buffered="+strconv.FormatBool(buffered), func(t *testing.T) {
			testForwardEcho(t, buffered)
		})
	}
}

func testForwardEcho(t *testing.T, buffered bool) {
	newClient := sshClient
	if buffered {
		newClient = sshClientBuffered
	}
	_, client := newClient(t, sshtest.Options{})
	f := startForwarder(t, client, "tcp", tcpBackend(t), nil)
	c := dialLocal(t, f, "echo")
	payload := make([]byte, 5<<20)
	rand.Read(payload)
	var got []byte
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, readErr = io.ReadAll(c)
	}()
	if _, err := c.Write(payload); err != nil {
		t.Fatalf("writing: %v", err)
	}
	c.CloseWrite()
	<-done
	if readErr != nil || !bytes.Equal(got, payload) {
		t.Errorf("echo returned %d bytes (err %v), want the %d bytes sent", len(got), readErr, len(payload))
	}
}

func TestForwardWaitsForTarget(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	backend := tcpBackend(t)
	tests := []struct {
		name  string
		start func(f *proxy.Forwarder)
	}{
		{"never set", func(*proxy.Forwarder) {}},
		{"reconnecting", func(f *proxy.Forwarder) { f.SetTarget(nil, "tcp", backend) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startForwarder(t, nil, "", "", func(f *proxy.Forwarder) { f.Grace = time.Hour })
			tt.start(f)
			c := dialLocal(t, f, "echo")
			io.WriteString(c, "ping")
			waitFor(t, "a waiting connection", func() bool { return f.Stats().Waiting == 1 })
			f.SetTarget(client, "tcp", backend)
			buf := make([]byte, 4)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
				t.Errorf("echo after SetTarget = %q, %v; want %q", buf, err, "ping")
			}
		})
	}
}

func TestForwardGraceExpires(t *testing.T) {
	var logged atomic.Int64
	f := startForwarder(t, nil, "", "", func(f *proxy.Forwarder) {
		f.Grace = time.Millisecond
		f.Logf = func(string, ...any) { logged.Add(1) }
	})
	c := dialLocal(t, f, "")
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil {
		t.Errorf("Read = %d, %v; want the connection closed", n, err)
	}
	waitFor(t, "the dial error count", func() bool { return f.Stats().DialErrors == 1 })
	if logged.Load() != 1 {
		t.Errorf("Logf called %d times, want 1", logged.Load())
	}
}

func TestForwardDialErrorKeepsServing(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	var mu sync.Mutex
	var lines []string
	f := startForwarder(t, client, "tcp", closedAddr, func(f *proxy.Forwarder) {
		f.Grace = time.Hour // a refused channel must fail at once, not wait
		f.Logf = func(format string, args ...any) {
			mu.Lock()
			lines = append(lines, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	})
	c := dialLocal(t, f, "")
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("Read = %d, %v; want the connection closed", n, err)
	}
	waitFor(t, "the dial error count", func() bool { return f.Stats().DialErrors == 1 })
	mu.Lock()
	if len(lines) != 1 {
		t.Errorf("Logf lines = %q, want one", lines)
	}
	mu.Unlock()

	f.SetTarget(client, "tcp", tcpBackend(t))
	c = dialLocal(t, f, "echo")
	io.WriteString(c, "ok")
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok" {
		t.Errorf("echo after a failed connection = %q, %v; want %q", buf, err, "ok")
	}
}

func TestForwardReconnect(t *testing.T) {
	s, client := sshClient(t, sshtest.Options{})
	backend := tcpBackend(t)
	f := startForwarder(t, client, "tcp", backend, func(f *proxy.Forwarder) { f.Grace = time.Hour })
	active := dialLocal(t, f, "echo")
	io.WriteString(active, "x")
	io.ReadFull(active, make([]byte, 1))

	s.DropAll()
	if err := client.Wait(); err == nil {
		t.Fatalf("client.Wait after DropAll = nil, want an error")
	}
	// A stream of the dead connection ends instead of hanging.
	if _, err := io.ReadAll(active); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reading a stream of the dropped connection: %v, want EOF", err)
	}
	// The forwarder has not been told yet: the dial fails on the dead client and the connection waits for
	// a new target.
	c := dialLocal(t, f, "echo")
	io.WriteString(c, "again")
	waitFor(t, "a waiting connection", func() bool { return f.Stats().Waiting == 1 })
	f.SetTarget(nil, "tcp", backend)
	f.SetTarget(s.Dial(t, nil), "tcp", backend)
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "again" {
		t.Errorf("echo after reconnect = %q, %v; want %q", buf, err, "again")
	}
}

func TestForwardShutdown(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, f *proxy.Forwarder)
	}{
		{"cancel", func(cancel context.CancelFunc, _ *proxy.Forwarder) { cancel() }},
		{"close", func(_ context.CancelFunc, f *proxy.Forwarder) { f.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := sshClient(t, sshtest.Options{})
			backend := tcpBackend(t)
			f, err := proxy.Listen(context.Background(), 0)
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			f.Grace = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- f.Serve(ctx) }()

			// One forwarded connection in mid-stream, one waiting for a target.
			f.SetTarget(client, "tcp", backend)
			busy := dialLocal(t, f, "echo")
			io.WriteString(busy, "x")
			io.ReadFull(busy, make([]byte, 1))
			f.SetTarget(nil, "", "")
			waiting := dialLocal(t, f, "echo")
			waitFor(t, "a waiting connection", func() bool { return f.Stats().Waiting == 1 })

			tt.stop(cancel, f)
			if err := <-served; err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			for _, c := range []net.Conn{busy, waiting} {
				if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("reading after shutdown: %v, want EOF", err)
				}
			}
			if st := f.Stats(); st.Active != 0 || st.Waiting != 0 {
				t.Errorf("Stats() after shutdown = %+v, want nothing active", st)
			}
			if _, err := net.Dial("tcp", f.Addr()); err == nil {
				t.Errorf("dialing %s after shutdown succeeded, want refused", f.Addr())
			}
			if err := f.Serve(context.Background()); err == nil {
				t.Errorf("second Serve = nil, want an error")
			}
		})
	}
}

func TestForwardCloseBeforeServe(t *testing.T) {
	f, err := proxy.Listen(context.Background(), 0)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	f.Close()
	if err := f.Serve(context.Background()); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
}

func TestForwardManyKeepAliveClients(t *testing.T) {
	const clients, requests = 200, 5
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Query().Get("n"))
	}))
	defer srv.Close()
	_, client := sshClient(t, sshtest.Options{})
	f := startForwarder(t, client, "tcp", srv.Listener.Addr().String(), nil)

	var wg sync.WaitGroup
	errs := make(chan error, clients*requests)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: ioTimeout}
			for j := range requests {
				want := strconv.Itoa(i*requests + j)
				resp, err := hc.Get("http://" + f.Addr() + "/?n=" + want)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != want {
					errs <- fmt.Errorf("client %d request %d: body %q, %v; want %q", i, j, body, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := f.Stats()
	if st.DialErrors != 0 || st.Total < clients {
		t.Errorf("Stats() = %+v, want no dial errors and at least %d connections", st, clients)
	}
}

func TestForwardSlowReaderDoesNotStallOthers(t *testing.T) {
	_, client := sshClient(t, sshtest.Options{})
	f := startForwarder(t, client, "tcp", tcpBackend(t), nil)

	// A connection whose reader never reads: the backend's 64 MiB fill every buffer on the way, down
	// to the channel's flow-control window.
	slow := dialLocal(t, f, "source "+strconv.Itoa(64<<20))
	if _, err := io.ReadFull(slow, make([]byte, 1)); err != nil {
		t.Fatalf("first byte of the slow connection: %v", err)
	}
	waitFor(t, "bytes to pile up", func() bool { return f.Stats().BytesIn > 1<<20 })

	// Meanwhile other connections on the same SSH connection go on, in both directions.
	for i := range 20 {
		c := dialLocal(t, f, "echo")
		msg := bytes.Repeat([]byte{byte('a' + i%26)}, 100<<10)
		go c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d while another connection is stalled: %v", i, err)
		}
		c.Close()
	}
	// The slow connection still delivers everything once it reads.
	n, err := io.Copy(io.Discard, slow)
	if err != nil || n != 64<<20-1 {
		t.Errorf("slow connection delivered %d bytes (err %v), want %d", n, err, 64<<20-1)
	}
}

// fakeDialer dials the local network directly, standing in for an SSH client.
type fakeDialer struct {
	calls atomic.Int64
	err   error
}

func (d *fakeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.calls.Add(1)
	if d.err != nil {
		return nil, d.err
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func TestForwardStalledChannelUnblockedByClose(t *testing.T) {
	s, client := sshClient(t, sshtest.Options{})
	f := startForwarder(t, client, "tcp", tcpBackend(t), nil)
	c := dialLocal(t, f, "echo")
	waitFor(t, "the channel", func() bool { return s.Channels() == 1 })
	s.Stall()
	go c.Write(make([]byte, 8<<20)) // fills the window and then blocks the forwarder's channel write
	waitFor(t, "the window to fill", func() bool { return f.Stats().BytesOut > 1<<20 })
	f.Close() // must return although a copy is blocked in a channel write
	s.Resume()
}

func TestForwardPlainDialer(t *testing.T) {
	d := &fakeDialer{}
	f := startForwarder(t, d, "tcp", tcpBackend(t), nil)
	c := dialLocal(t, f, "sink")
	io.WriteString(c, "12345")
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "5" {
		t.Errorf("sink via a plain TCP dialer = %q, %v; want %q", got, err, "5")
	}
}

func TestForwardDialerErrorNotRetried(t *testing.T) {
	d := &fakeDialer{err: errors.New("no such target")}
	f := startForwarder(t, d, "tcp", "127.0.0.1:1", func(f *proxy.Forwarder) { f.Grace = time.Hour })
	c := dialLocal(t, f, "")
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("Read = %d, %v; want the connection closed", n, err)
	}
	if got := d.calls.Load(); got != 1 {
		t.Errorf("dialer called %d times, want 1", got)
	}
}
