package hostconf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/hostconf/putty"
)

// memStore is an in-memory putty.Store over session file texts.
type memStore struct {
	files    map[string][]byte
	hostKeys []byte
	saves    int
}

func (m *memStore) Where(name string) string { return "mem:" + name }

func (m *memStore) Load(name string) (*putty.Session, error) {
	data, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", putty.ErrNoSession, name)
	}
	return putty.ParseSessionFile(name, data), nil
}

func (m *memStore) Save(s *putty.Session) error {
	m.saves++
	m.files[s.Name] = s.MarshalFile()
	return nil
}

func (m *memStore) HostKeys() (hostkeys.Checker, error) {
	return hostkeys.ParsePuttyHostKeys(m.hostKeys, "mem:sshhostkeys"), nil
}

// loadTestStore reads testdata/putty/store into a memStore.
func loadTestStore(t *testing.T) *memStore {
	t.Helper()
	m := &memStore{files: map[string][]byte{}}
	entries, err := os.ReadDir("testdata/putty/store/sessions")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata/putty/store/sessions", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m.files[strings.ReplaceAll(e.Name(), "%20", " ")] = data
	}
	if m.hostKeys, err = os.ReadFile("testdata/putty/store/sshhostkeys"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolvePutty(t *testing.T) {
	m := loadTestStore(t)
	ctx := context.Background()
	h, err := hostconf.ResolvePutty(ctx, m, "gpu box")
	if err != nil {
		t.Fatal(err)
	}
	if h.HostName != "gpu-box.example" || h.User != "alice" || h.Port != 2222 || h.Alias != "gpu box" {
		t.Errorf("gpu box: got host %q user %q port %d alias %q", h.HostName, h.User, h.Port, h.Alias)
	}
	if !reflect.DeepEqual(h.IdentityFiles, []string{"/home/bob/.ssh/gpu.ppk"}) {
		t.Errorf("IdentityFiles = %q", h.IdentityFiles)
	}
	if h.ServerAliveInterval != 30*time.Second {
		t.Errorf("ServerAliveInterval = %v, want 30s", h.ServerAliveInterval)
	}
	if want := []hostconf.Forward{{Listen: "127.0.0.1:8890", Target: "127.0.0.1:8888"}}; !reflect.DeepEqual(h.LocalForwards, want) {
		t.Errorf("LocalForwards = %+v, want %+v", h.LocalForwards, want)
	}
	if h.HostKeys == nil || h.ProxyCommand != "" || len(h.ProxyJump) != 0 || !strings.Contains(h.Source, "mem:gpu box") {
		t.Errorf("gpu box: HostKeys %v, ProxyCommand %q, ProxyJump %v, Source %q", h.HostKeys, h.ProxyCommand, h.ProxyJump, h.Source)
	}

	h, err = hostconf.ResolvePutty(ctx, m, "via-jump")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ProxyJump) != 1 || h.ProxyJump[0].HostName != "jump.example" || h.ProxyJump[0].User != "jj" || h.ProxyJump[0].Port != 22 {
		t.Errorf("via-jump: ProxyJump = %+v, want the jump session with user jj", h.ProxyJump)
	}
	h, err = hostconf.ResolvePutty(ctx, m, "via-host")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ProxyJump) != 1 || h.ProxyJump[0].HostName != "bastion.example" || h.ProxyJump[0].Port != 2200 || h.ProxyJump[0].User != "bu" || h.ProxyJump[0].HostKeys == nil {
		t.Errorf("via-host: ProxyJump = %+v", h.ProxyJump)
	}
	h, err = hostconf.ResolvePutty(ctx, m, "hooked")
	if err != nil || h.ProxyCommand != "" || len(h.ProxyJump) != 0 {
		t.Errorf("hooked: %v, ProxyCommand %q: want a direct connection", err, h.ProxyCommand)
	}
	h, err = hostconf.ResolvePutty(ctx, m, "legacy-cmd")
	if want := `ssh -W 10.0.0.8:22 \gw%%x41`; err != nil || h.ProxyCommand != want {
		t.Errorf("legacy-cmd: %v, ProxyCommand %q, want %q", err, h.ProxyCommand, want)
	}
	h, err = hostconf.ResolvePutty(ctx, m, "socks-local")
	if err != nil || h.ProxyCommand != "" {
		t.Errorf("socks proxy for localhost: %v; want it ignored as PuTTY does", err)
	}

	for _, tt := range []struct{ name, want string }{
		{"telnet", "protocol is \"telnet\""},
		{"socks", "SOCKS 5"},
		{"nohost", "no HostName"},
		{"loop", "too deep"},
		{"missing", "no such PuTTY session"},
	} {
		_, err := hostconf.ResolvePutty(ctx, m, tt.name)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s: got error %v, want one naming the session and saying %q", tt.name, err, tt.want)
		}
	}
}
