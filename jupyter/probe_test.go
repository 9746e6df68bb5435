package jupyter_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// fakeJupyter answers like Jupyter under base: GET base+"api" gives the
// version to anyone, GET base+"api/status" needs the token.
func fakeJupyter(base, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(base+"api", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version": "2.14.0"}`))
	})
	mux.HandleFunc(base+"api/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+token {
			http.Error(w, `{"message": "Forbidden"}`, http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"connections": 0}`))
	})
	return mux
}

// recordingDialer dials with net.Dialer and records what was asked.
type recordingDialer struct{ network, addr string }

func (d *recordingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.network, d.addr = network, addr
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func tcpServer(t *testing.T, h http.Handler, tls bool) int {
	t.Helper()
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

func TestProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sock := filepath.Join(t.TempDir(), "j.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	usrv := &http.Server{Handler: fakeJupyter("/user/a/", "s3cret"), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = usrv.Serve(ln) }()
	t.Cleanup(func() { _ = usrv.Close() })

	plain := tcpServer(t, fakeJupyter("/", "tok"), false)
	based := tcpServer(t, fakeJupyter("/x/y/", "tok"), false)
	secure := tcpServer(t, fakeJupyter("/", "tok"), true)
	other := tcpServer(t, http.NotFoundHandler(), false)
	htmlOK := tcpServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }), false)
	// A port that nothing listens on: listen, note the port, close.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()

	tests := []struct {
		name     string
		s        jupyter.Server
		wantErr  error
		wantAddr string
	}{
		{"tcp", jupyter.Server{Port: plain, BaseURL: "/", Token: "tok", Hostname: "0.0.0.0"}, nil, "127.0.0.1:" + strconv.Itoa(plain)},
		{"base url", jupyter.Server{Port: based, BaseURL: "/x/y/", Token: "tok"}, nil, ""},
		{"tls", jupyter.Server{Port: secure, BaseURL: "/", Token: "tok", Secure: true}, nil, ""},
		{"unix", jupyter.Server{Sock: sock, BaseURL: "/user/a/", Token: "s3cret"}, nil, sock},
		{"bad token", jupyter.Server{Port: plain, BaseURL: "/", Token: "wrong"}, jupyter.ErrTokenRejected, ""},
		{"no token", jupyter.Server{Port: plain, BaseURL: "/"}, jupyter.ErrTokenRejected, ""},
		{"wrong base", jupyter.Server{Port: plain, BaseURL: "/nope/", Token: "tok"}, jupyter.ErrNotJupyter, ""},
		{"not jupyter", jupyter.Server{Port: other, BaseURL: "/", Token: "tok"}, jupyter.ErrNotJupyter, ""},
		{"html", jupyter.Server{Port: htmlOK, BaseURL: "/", Token: "tok"}, jupyter.ErrNotJupyter, ""},
		{"http to https", jupyter.Server{Port: secure, BaseURL: "/", Token: "tok"}, jupyter.ErrNotJupyter, ""},
		{"nothing listens", jupyter.Server{Port: closed, BaseURL: "/", Token: "tok"}, jupyter.ErrNotListening, ""},
		{"no socket", jupyter.Server{Sock: sock + ".gone", BaseURL: "/", Token: "tok"}, jupyter.ErrNotListening, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Kind = "jupyter_server"
			d := &recordingDialer{}
			v, err := jupyter.Probe(ctx, d.dial, tt.s)
			if tt.wantErr == nil {
				if err != nil || v != "2.14.0" {
					t.Fatalf("Probe = %q, %v, want 2.14.0, nil", v, err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Probe err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantAddr != "" && d.addr != tt.wantAddr {
				t.Errorf("dialed %s %s, want %s", d.network, d.addr, tt.wantAddr)
			}
		})
	}
}

func TestProbeDialErrorKept(t *testing.T) {
	sentinel := errors.New("administratively prohibited")
	dial := func(context.Context, string, string) (net.Conn, error) { return nil, sentinel }
	_, err := jupyter.Probe(context.Background(), dial, jupyter.Server{Port: 1, BaseURL: "/"})
	if !errors.Is(err, jupyter.ErrNotListening) || !errors.Is(err, sentinel) {
		t.Errorf("err = %v, want both ErrNotListening and the dial error", err)
	}
}

func TestProbeContext(t *testing.T) {
	// A server that accepts and never answers: Probe must return when ctx ends.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var nd net.Dialer
	_, err = jupyter.Probe(ctx, nd.DialContext, jupyter.Server{Port: l.Addr().(*net.TCPAddr).Port, BaseURL: "/"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}
