package hostconf_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// memStore is an in-memory PuttyStore over session file texts.
type memStore struct {
	files    map[string][]byte
	hostKeys []byte
	saves    int
}

func (m *memStore) Where(name string) string { return "mem:" + name }

func (m *memStore) Load(name string) (*hostconf.PuttySession, error) {
	data, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", hostconf.ErrNoPuttySession, name)
	}
	return hostconf.ParsePuttySessionFile(name, data), nil
}

func (m *memStore) Save(s *hostconf.PuttySession) error {
	m.saves++
	m.files[s.Name] = s.MarshalFile()
	return nil
}

func (m *memStore) HostKeys() (hostconf.HostKeyChecker, error) {
	return hostconf.ParsePuttyHostKeys(m.hostKeys, "mem:sshhostkeys"), nil
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

func TestPuttySessionRoundTrip(t *testing.T) {
	for name, data := range loadTestStore(t).files {
		if got := hostconf.ParsePuttySessionFile(name, data).MarshalFile(); string(got) != string(data) {
			t.Errorf("%s: MarshalFile after no change differs:\n got %q\nwant %q", name, got, data)
		}
	}
	odd := "no equals line\nK=v=w\r\n\nK=second\nLast=x"
	if got := string(hostconf.ParsePuttySessionFile("x", []byte(odd)).MarshalFile()); got != odd {
		t.Errorf("odd file: got %q, want %q", got, odd)
	}
}

func TestPuttySessionEdit(t *testing.T) {
	tests := []struct {
		name, in string
		edit     func(s *hostconf.PuttySession)
		want     string
	}{
		{"change in place keeps CRLF", "A=1\r\nB=2\r\n", func(s *hostconf.PuttySession) { s.Set("A", "x") }, "A=x\r\nB=2\r\n"},
		{"append after missing final newline", "A=1", func(s *hostconf.PuttySession) { s.Set("B", "2") }, "A=1\nB=2\n"},
		{"first occurrence wins", "K=a\nK=b\n", func(s *hostconf.PuttySession) { s.Set("K", "c") }, "K=c\nK=b\n"},
		{"same value is no change", "A=1 \n", func(s *hostconf.PuttySession) { s.SetInt("A", 1); s.Set("A", "1 ") }, "A=1 \n"},
		{"delete removes all", "K=a\nX=1\nK=b\n", func(s *hostconf.PuttySession) { s.Delete("K") }, "X=1\n"},
		{"unknown lines kept", "# hi\nA=1\n", func(s *hostconf.PuttySession) { s.SetInt("A", 5) }, "# hi\nA=5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := hostconf.ParsePuttySessionFile("s", []byte(tt.in))
			tt.edit(s)
			if got := string(s.MarshalFile()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	s := hostconf.ParsePuttySessionFile("s", []byte("P=22x\nQ=-3\nR=abc\nV=a\rb\n"))
	for _, c := range []struct {
		key  string
		want int
	}{{"P", 22}, {"Q", -3}, {"R", 0}, {"missing", 7}} {
		if got := s.Int(c.key, 7); got != c.want {
			t.Errorf("Int(%q) = %d, want %d", c.key, got, c.want)
		}
	}
	if v, _ := s.Get("V"); v != "a" {
		t.Errorf("Get(V) = %q, want value cut at CR as PuTTY does", v)
	}
	if got, want := s.Keys(), []string{"P", "Q", "R", "V"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %q, want %q", got, want)
	}
}

func TestPuttyFileStoreLocation(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	s := hostconf.NewPuttyFileStore(home, getenv)
	if want := filepath.Join(home, ".putty", "sessions"); s.SessionDir != want {
		t.Errorf("default SessionDir = %s, want %s", s.SessionDir, want)
	}
	if want := filepath.Join(home, ".putty", "sshhostkeys"); s.HostKeysFile != want {
		t.Errorf("default HostKeysFile = %s, want %s", s.HostKeysFile, want)
	}
	if err := os.MkdirAll(filepath.Join(home, ".config", "putty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if s := hostconf.NewPuttyFileStore(home, getenv); s.Dir != filepath.Join(home, ".config", "putty") {
		t.Errorf("with ~/.config/putty: Dir = %s", s.Dir)
	}
	env["XDG_CONFIG_HOME"] = filepath.Join(home, "xdg")
	if s := hostconf.NewPuttyFileStore(home, getenv); s.Dir != filepath.Join(home, ".putty") {
		t.Errorf("XDG_CONFIG_HOME without putty dir: Dir = %s, want ~/.putty", s.Dir)
	}
	env["PUTTYDIR"] = "/p"
	env["PUTTYSESSIONS"] = "/s"
	if s := hostconf.NewPuttyFileStore(home, getenv); s.Dir != "/p" || s.SessionDir != "/s" || s.HostKeysFile != "/p/sshhostkeys" {
		t.Errorf("PUTTYDIR, PUTTYSESSIONS: got %+v", s)
	}
}

func TestPuttyFileStoreLoadSave(t *testing.T) {
	home := t.TempDir()
	st, err := hostconf.NewPuttyStore(home, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	name := "my box/1 ü"
	wantPath := filepath.Join(home, ".putty", "sessions", "my%20box%2F1%20%C3%BC")
	if got := st.Where(name); got != wantPath {
		t.Errorf("Where = %s, want %s", got, wantPath)
	}
	_, err = st.Load(name)
	if !errors.Is(err, hostconf.ErrNoPuttySession) || !strings.Contains(err.Error(), wantPath) {
		t.Errorf("Load of a missing session: %v, want ErrNoPuttySession naming %s", err, wantPath)
	}
	orig := "HostName=h\r\nZ=1\nPortNumber=22\n"
	if err := os.MkdirAll(filepath.Dir(wantPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wantPath, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := st.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	s.SetInt("PortNumber", 2222)
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(wantPath)
	if want := "HostName=h\r\nZ=1\nPortNumber=2222\n"; string(got) != want {
		t.Errorf("after Save: %q, want %q", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(wantPath))
	if len(entries) != 1 {
		t.Errorf("sessions dir holds %d files after Save, want only the session (PuTTY lists every file)", len(entries))
	}
	if b, err := os.ReadFile(filepath.Join(home, ".putty", "nbtunnel-backup", filepath.Base(wantPath))); err != nil || string(b) != orig {
		t.Errorf("backup of the previous session: %q, %v", b, err)
	}
	keys, err := st.HostKeys()
	if err != nil || keys == nil {
		t.Fatalf("HostKeys with no cache file: %v, %v", keys, err)
	}
}

func TestPlinkHostKeys(t *testing.T) {
	data, err := os.ReadFile("testdata/putty/plink/sshhostkeys")
	if err != nil {
		t.Fatal(err)
	}
	keys := hostconf.ParsePuttyHostKeys(data, "sshhostkeys")
	tests := []struct {
		pub   string
		port  int
		algs  []string
		other string // a key file of another type
	}{
		{"hostkey_ed25519.pub", 22871, []string{"ssh-ed25519"}, "hostkey_rsa.pub"},
		{"hostkey_rsa.pub", 22872, []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}, "hostkey_ed25519.pub"},
		{"hostkey_ecdsa.pub", 22873, []string{"ecdsa-sha2-nistp256"}, "hostkey_ecdsa384.pub"},
		{"hostkey_ecdsa384.pub", 22874, []string{"ecdsa-sha2-nistp384"}, "hostkey_ecdsa.pub"},
		{"hostkey_ecdsa521.pub", 22875, []string{"ecdsa-sha2-nistp521"}, "hostkey_ecdsa.pub"},
	}
	readPub := func(name string) ssh.PublicKey {
		b, err := os.ReadFile(filepath.Join("testdata/putty/plink", name))
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	for _, tt := range tests {
		t.Run(tt.pub, func(t *testing.T) {
			key := readPub(tt.pub)
			addr.Port = tt.port
			dialed := fmt.Sprintf("127.0.0.1:%d", tt.port)
			if err := keys.Callback("127.0.0.1")(dialed, addr, key); err != nil {
				t.Errorf("the key plink cached is refused: %v", err)
			}
			if got := keys.Algorithms(dialed); len(got) <= len(tt.algs) || !reflect.DeepEqual(got[:len(tt.algs)], tt.algs) {
				t.Errorf("Algorithms = %q, want %q first, then the other types", got, tt.algs)
			}
			// As plink 0.78 says: "The host key is not cached for this server".
			var herr *hostconf.HostKeyError
			err := keys.Callback("127.0.0.1")(dialed, addr, readPub(tt.other))
			if !errors.As(err, &herr) || herr.Problem != hostconf.HostKeyUnknown || herr.File != "sshhostkeys" || len(herr.Cached) != 1 ||
				!strings.Contains(err.Error(), "not cached for its type") {
				t.Errorf("another key type: got %v, want HostKeyUnknown naming the file and the cached type", err)
			}
			err = keys.Callback("127.0.0.1")("127.0.0.1:1", nil, key)
			if !errors.As(err, &herr) || herr.Problem != hostconf.HostKeyUnknown || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("other port: got %v, want HostKeyUnknown", err)
			}
		})
	}
}

func TestPuttyHostKeysChanged(t *testing.T) {
	plink, _ := os.ReadFile("testdata/putty/plink/sshhostkeys")
	b, _ := os.ReadFile("testdata/putty/plink/hostkey_ed25519.pub")
	key, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	// Same type, different value on the port the ed25519 key was cached for.
	changed := strings.Replace(string(plink), "ssh-ed25519@22871:127.0.0.1 0x1", "ssh-ed25519@22871:127.0.0.1 0x2", 1)
	keys := hostconf.ParsePuttyHostKeys([]byte(changed), "f")
	var herr *hostconf.HostKeyError
	err = keys.Callback("127.0.0.1:22871")("127.0.0.1:22871", nil, key)
	if !errors.As(err, &herr) || herr.Problem != hostconf.HostKeyChanged || herr.Line != 1 {
		t.Errorf("changed key: got %v, want HostKeyChanged at line 1", err)
	}
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

func FuzzPuttyHostKeys(f *testing.F) {
	data, _ := os.ReadFile("testdata/putty/plink/sshhostkeys")
	f.Add(string(data), "127.0.0.1:22871")
	f.Add("rsa2@22:h 0x10001,0xff\nssh-ed448@22:h 0x1,0x2\ndss@22:h 0x1,0x2,0x3,0x4\n", "h")
	f.Fuzz(func(t *testing.T, text, host string) {
		keys := hostconf.ParsePuttyHostKeys([]byte(text), "f")
		keys.Algorithms(host)
		b, _ := os.ReadFile("testdata/putty/plink/hostkey_ed25519.pub")
		k, _, _, _, _ := ssh.ParseAuthorizedKey(b)
		if k != nil {
			keys.Callback(host)("127.0.0.1:22", nil, k)
		}
	})
}

func FuzzPuttySession(f *testing.F) {
	f.Add([]byte("HostName=h\r\nPortNumber=22\nno equals\nK=a=b"), "PortNumber", "2222")
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		s := hostconf.ParsePuttySessionFile("s", data)
		if got := s.MarshalFile(); string(got) != string(data) {
			t.Fatalf("round trip of %q gave %q", data, got)
		}
		if key == "" || strings.ContainsAny(key, "=\r\n") || strings.ContainsAny(value, "\r\n") {
			return
		}
		s.Set(key, value)
		again := hostconf.ParsePuttySessionFile("s", s.MarshalFile())
		if got, ok := again.Get(key); !ok || got != value {
			t.Fatalf("after Set(%q, %q) on %q: Get = %q, %v", key, value, data, got, ok)
		}
	})
}
