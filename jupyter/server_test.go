package jupyter_test

import (
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

func TestLinkTarget(t *testing.T) {
	tests := []struct {
		s                           jupyter.Server
		wantLink, wantNet, wantAddr string
	}{
		{jupyter.Server{Port: 8888, BaseURL: "/", Token: "abc"}, "http://127.0.0.1:9000/?token=abc", "tcp", "127.0.0.1:8888"},
		{jupyter.Server{Port: 8888, BaseURL: "/user/a/", Token: "a b&c=d+e/f#g?h%"},
			"http://127.0.0.1:9000/user/a/?token=a+b%26c%3Dd%2Be%2Ff%23g%3Fh%25", "tcp", "127.0.0.1:8888"},
		{jupyter.Server{Port: 8888, BaseURL: "x", Secure: true}, "https://127.0.0.1:9000/x/", "tcp", "127.0.0.1:8888"},
		{jupyter.Server{Port: 8888, Hostname: "10.1.2.3"}, "http://127.0.0.1:9000/", "tcp", "127.0.0.1:8888"},
		{jupyter.Server{Port: 8888, Hostname: "::1"}, "http://127.0.0.1:9000/", "tcp", "[::1]:8888"},
		{jupyter.Server{Port: 8888, Hostname: "::"}, "http://127.0.0.1:9000/", "tcp", "127.0.0.1:8888"},
		{jupyter.Server{Sock: "/tmp/a b/j.sock", BaseURL: "/", Token: "t"}, "http://127.0.0.1:9000/?token=t", "unix", "/tmp/a b/j.sock"},
	}
	for _, tt := range tests {
		if got := tt.s.Link(9000); got != tt.wantLink {
			t.Errorf("Link(%+v) = %s, want %s", tt.s, got, tt.wantLink)
		}
		if n, a := tt.s.Target(); n != tt.wantNet || a != tt.wantAddr {
			t.Errorf("Target(%+v) = %s %s, want %s %s", tt.s, n, a, tt.wantNet, tt.wantAddr)
		}
	}
}
