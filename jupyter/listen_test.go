package jupyter_test

import (
	"net"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// The discovery script reports what listens on the remote host, so no
// channel is ever opened to a port nothing listens on.
func TestDiscoveryReportsListeners(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the listener report reads /proc/net, Linux only")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock := filepath.Join(t.TempDir(), "jupyter server.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	nonce, _ := jupyter.NewNonce()
	out := runScript(t, []string{"/bin/sh", "-s"}, jupyter.DiscoveryScript(nonce), "HOME="+t.TempDir())
	d, err := jupyter.ParseDiscovery(out, nonce)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    jupyter.Server
		want bool
	}{
		{jupyter.Server{Port: ln.Addr().(*net.TCPAddr).Port}, true},
		{jupyter.Server{Port: freePort}, false},
		{jupyter.Server{Sock: sock}, true},
		{jupyter.Server{Sock: sock + ".gone"}, false},
	} {
		listens, known := d.Remote.Listens(tc.s)
		if !known || listens != tc.want {
			t.Errorf("Listens(port %d, sock %q) = %v, %v; want %v, true", tc.s.Port, tc.s.Sock, listens, known, tc.want)
		}
	}
}
