package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

func TestShellArg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gpu-box", "gpu-box"},
		{"user@lab.example:22", "user@lab.example:22"},
		{"lab box", `"lab box"`},
		{"", `""`},
		{"it's", `"it's"`},
		{`a$b c`, `'a$b c'`},
		{`x'$(rm -rf ~)`, `'x'\''$(rm -rf ~)'`},
		{`say "hi"`, `'say "hi"'`},
	} {
		if runtime.GOOS == "windows" {
			break
		}
		if got := shellArg(tc.in); got != tc.want {
			t.Errorf("shellArg(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestClientForwardPort(t *testing.T) {
	fwds := []hostconf.Forward{
		{Listen: "127.0.0.1:9000", Target: "10.0.0.5:8888"},
		{Listen: "192.168.1.2:9001", Target: "127.0.0.1:8888"},
		{Listen: "localhost:9002", Target: "localhost:8888"},
		{Listen: "9003", Target: "127.0.0.1:8890"},
		{Listen: "127.0.0.1:9004", Target: "/run/jupyter.sock"},
	}
	for _, tc := range []struct {
		network, addr string
		want          int
	}{
		{"tcp", "127.0.0.1:8888", 9002}, // 9001 listens on another address
		{"tcp", "127.0.0.1:8890", 9003},
		{"tcp", "127.0.0.1:8891", 0},
		{"unix", "/run/jupyter.sock", 0},
	} {
		if got := clientForwardPort(fwds, tc.network, tc.addr); got != tc.want {
			t.Errorf("clientForwardPort(%s %s) = %d, want %d", tc.network, tc.addr, got, tc.want)
		}
	}
}

// TestClaim: a claim is held by one holder at a time, a waiter gets it as
// soon as the holder lets go, and a waiter gives up when its context ends.
func TestClaim(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		t.Skip("no file locks here: claims are always free")
	}
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	}
	const port = 4242
	a, err := tryClaim(getenv, port)
	if err != nil || a == nil {
		t.Fatalf("first tryClaim = %v, %v; want the claim", a, err)
	}
	if b, err := tryClaim(getenv, port); b != nil || err != nil {
		t.Fatalf("second tryClaim = %v, %v; want nil, nil while the first holds it", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if c, err := waitClaim(ctx, getenv, port); c != nil || err == nil {
		t.Fatalf("waitClaim with a short context = %v, %v; want the context's error", c, err)
	}
	got := make(chan *portClaim)
	go func() {
		c, err := waitClaim(context.Background(), getenv, port)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	select {
	case <-got:
		t.Fatal("waitClaim returned while the claim was held")
	case <-time.After(100 * time.Millisecond):
	}
	a.release()
	a.release() // twice is fine
	select {
	case c := <-got:
		if c == nil {
			t.Fatal("waitClaim gave no claim")
		}
		c.release()
	case <-time.After(10 * time.Second):
		t.Fatal("waitClaim did not get the claim its holder let go")
	}
	// The waiter that gave up lets go of what its lock call got.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := tryClaim(getenv, port)
		if err != nil {
			t.Fatal(err)
		}
		if d != nil {
			d.release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the claim stays held after every holder let go")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOwnLineWriter(t *testing.T) {
	var b strings.Builder
	termLine(ownLineWriter{&b}, "Jupyter on %s: %s", "lab box", "http://127.0.0.1:1/")
	if got, want := b.String(), "\x1b[7D\x1b[K\x1bEproxy: Jupyter on lab box: http://127.0.0.1:1/\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
