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

// memStore is an in-memory PuttyStore over session file texts.
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

func TestPortForwardingsRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want []hostconf.PuttyForward
	}{
		{"", nil},
		{"L8890=127.0.0.1:8888", []hostconf.PuttyForward{{Type: 'L', Listen: "8890", Target: "127.0.0.1:8888"}}},
		{"4L127.0.0.1:1=h:2,6R::1:3=x:4,D1080=,D1081", []hostconf.PuttyForward{
			{Family: '4', Type: 'L', Listen: "127.0.0.1:1", Target: "h:2"},
			{Family: '6', Type: 'R', Listen: "::1:3", Target: "x:4"},
			{Type: 'D', Listen: "1080"},
			{Type: 'D', Listen: "1081"},
		}},
		{`L1=a\,b\=c\\d`, []hostconf.PuttyForward{{Type: 'L', Listen: "1", Target: `a,b=c\d`}}},
		{"X1=y,,L2=z,", []hostconf.PuttyForward{{Listen: "X1", Target: "y"}, {}, {Type: 'L', Listen: "2", Target: "z"}, {}}},
	}
	for _, tt := range tests {
		got, err := hostconf.ParsePortForwardings(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("Parse(%q) = %d entries, want %d", tt.in, len(got), len(tt.want))
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Family != w.Family || g.Type != w.Type || g.Listen != w.Listen || g.Target != w.Target {
				t.Errorf("Parse(%q)[%d] = %c %c %q %q, want %c %c %q %q", tt.in, i, g.Family, g.Type, g.Listen, g.Target, w.Family, w.Type, w.Listen, w.Target)
			}
		}
		if s := hostconf.FormatPortForwardings(got); s != tt.in {
			t.Errorf("Format(Parse(%q)) = %q", tt.in, s)
		}
	}
	fwds, _ := hostconf.ParsePortForwardings(`L1=a\,b,R2=c`)
	fwds[1].Target = "d,e"
	fwds = append(fwds, hostconf.PuttyForward{Family: '4', Type: 'L', Listen: "9", Target: `w\x`})
	if got, want := hostconf.FormatPortForwardings(fwds), `L1=a\,b,R2=d\,e,4L9=w\\x`; got != want {
		t.Errorf("Format after edit = %q, want %q", got, want)
	}
	if _, err := hostconf.ParsePortForwardings(`L1=a\`); err == nil {
		t.Error("a trailing lone backslash: got no error")
	}
}

func FuzzPortForwardings(f *testing.F) {
	for _, s := range []string{"L8890=127.0.0.1:8888,4R2222=localhost:22,D1080=", `L1=a\,b\=c`, ",,", "6D[::1]:1="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fwds, err := hostconf.ParsePortForwardings(s)
		if err != nil {
			return
		}
		if got := hostconf.FormatPortForwardings(fwds); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
		// Rewriting every entry from its fields must parse back to the same fields.
		fresh := make([]hostconf.PuttyForward, len(fwds))
		for i, x := range fwds {
			fresh[i] = hostconf.PuttyForward{Family: x.Family, Type: x.Type, Listen: x.Listen, Target: x.Target}
		}
		again, err := hostconf.ParsePortForwardings(hostconf.FormatPortForwardings(fresh))
		if err != nil || len(again) != len(fresh) && len(fresh) > 0 {
			t.Fatalf("re-parse of formatted %q: %d entries, %v", s, len(again), err)
		}
	})
}
