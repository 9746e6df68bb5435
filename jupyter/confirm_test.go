package jupyter_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// Confirm probes only candidates that can answer, keeps a password-only
// server that answered /api, and orders the live ones newest first.
func TestConfirm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	good := tcpServer(t, fakeJupyter("/", "tok"), false)
	pwOnly := tcpServer(t, fakeJupyter("/", "unguessable"), false)
	older := tcpServer(t, fakeJupyter("/", "tok"), false)
	now := time.Now()
	d := &jupyter.Discovery{
		Remote: jupyter.Remote{Listen: &jupyter.Listening{
			TCP:  map[int]bool{good: true, pwOnly: true, older: true},
			Unix: map[string]bool{},
		}},
		Servers: []jupyter.Server{
			{PID: 1, Port: older, BaseURL: "/", Token: "tok", Alive: true, Started: now.Add(-time.Hour)},
			{PID: 2, Port: good, BaseURL: "/", Token: "tok", Alive: true, Started: now},
			{PID: 3, Port: pwOnly, BaseURL: "/", Password: true, Alive: true, Started: now.Add(-time.Minute)},
			{PID: 4, Port: good, BaseURL: "/", Token: "tok", Alive: false},
			{PID: 5, Port: 1, BaseURL: "/", Token: "tok", Alive: true},
		},
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
	live, skipped, err := jupyter.Confirm(ctx, dial, d)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, s := range live {
		pids = append(pids, s.PID)
		if s.Token != "" && s.Version != "2.14.0" {
			t.Errorf("pid %d: Version = %q, want 2.14.0", s.PID, s.Version)
		}
	}
	if got, want := pids, []int{2, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("live pids = %v, want %v", got, want)
	}
	why := map[int]string{}
	for _, sk := range skipped {
		why[sk.Server.PID] = sk.Why.Error()
	}
	if !strings.Contains(why[4], "not running") {
		t.Errorf("dead server: why = %q, want it to say its process is not running", why[4])
	}
	if !strings.Contains(why[5], "nothing listens") {
		t.Errorf("server on an idle port: why = %q, want it to say nothing listens", why[5])
	}
}
