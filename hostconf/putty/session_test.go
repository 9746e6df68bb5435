package putty_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/putty"
)

func TestPuttySessionRoundTrip(t *testing.T) {
	dir := filepath.Join("..", "testdata", "putty", "store", "sessions")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("reading %s: %d entries, %v", dir, len(entries), err)
	}
	for _, e := range entries {
		name := e.Name()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := putty.ParseSessionFile(name, data).MarshalFile(); string(got) != string(data) {
			t.Errorf("%s: MarshalFile after no change differs:\n got %q\nwant %q", name, got, data)
		}
	}
	odd := "no equals line\nK=v=w\r\n\nK=second\nLast=x"
	if got := string(putty.ParseSessionFile("x", []byte(odd)).MarshalFile()); got != odd {
		t.Errorf("odd file: got %q, want %q", got, odd)
	}
}

func TestPuttySessionEdit(t *testing.T) {
	tests := []struct {
		name, in string
		edit     func(s *putty.Session)
		want     string
	}{
		{"change in place keeps CRLF", "A=1\r\nB=2\r\n", func(s *putty.Session) { s.Set("A", "x") }, "A=x\r\nB=2\r\n"},
		{"append after missing final newline", "A=1", func(s *putty.Session) { s.Set("B", "2") }, "A=1\nB=2\n"},
		{"first occurrence wins", "K=a\nK=b\n", func(s *putty.Session) { s.Set("K", "c") }, "K=c\nK=b\n"},
		{"same value is no change", "A=1 \n", func(s *putty.Session) { s.SetInt("A", 1); s.Set("A", "1 ") }, "A=1 \n"},
		{"delete removes all", "K=a\nX=1\nK=b\n", func(s *putty.Session) { s.Delete("K") }, "X=1\n"},
		{"unknown lines kept", "# hi\nA=1\n", func(s *putty.Session) { s.SetInt("A", 5) }, "# hi\nA=5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := putty.ParseSessionFile("s", []byte(tt.in))
			tt.edit(s)
			if got := string(s.MarshalFile()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	s := putty.ParseSessionFile("s", []byte("P=22x\nQ=-3\nR=abc\nV=a\rb\n"))
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
	s := putty.NewFileStore(home, getenv)
	if want := filepath.Join(home, ".putty", "sessions"); s.SessionDir != want {
		t.Errorf("default SessionDir = %s, want %s", s.SessionDir, want)
	}
	if want := filepath.Join(home, ".putty", "sshhostkeys"); s.HostKeysFile != want {
		t.Errorf("default HostKeysFile = %s, want %s", s.HostKeysFile, want)
	}
	if err := os.MkdirAll(filepath.Join(home, ".config", "putty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if s := putty.NewFileStore(home, getenv); s.Dir != filepath.Join(home, ".config", "putty") {
		t.Errorf("with ~/.config/putty: Dir = %s", s.Dir)
	}
	env["XDG_CONFIG_HOME"] = filepath.Join(home, "xdg")
	if s := putty.NewFileStore(home, getenv); s.Dir != filepath.Join(home, ".putty") {
		t.Errorf("XDG_CONFIG_HOME without putty dir: Dir = %s, want ~/.putty", s.Dir)
	}
	env["PUTTYDIR"] = "/p"
	env["PUTTYSESSIONS"] = "/s"
	if s := putty.NewFileStore(home, getenv); s.Dir != "/p" || s.SessionDir != "/s" || s.HostKeysFile != "/p/sshhostkeys" {
		t.Errorf("PUTTYDIR, PUTTYSESSIONS: got %+v", s)
	}
}

func TestPuttyFileStoreLoadSave(t *testing.T) {
	home := t.TempDir()
	st, err := putty.NewStore(home, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	name := "my box/1 ü"
	wantPath := filepath.Join(home, ".putty", "sessions", "my%20box%2F1%20%C3%BC")
	if got := st.Where(name); got != wantPath {
		t.Errorf("Where = %s, want %s", got, wantPath)
	}
	_, err = st.Load(name)
	if !errors.Is(err, putty.ErrNoSession) || !strings.Contains(err.Error(), wantPath) {
		t.Errorf("Load of a missing session: %v, want ErrNoSession naming %s", err, wantPath)
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

func FuzzPuttySession(f *testing.F) {
	f.Add([]byte("HostName=h\r\nPortNumber=22\nno equals\nK=a=b"), "PortNumber", "2222")
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		s := putty.ParseSessionFile("s", data)
		if got := s.MarshalFile(); string(got) != string(data) {
			t.Fatalf("round trip of %q gave %q", data, got)
		}
		if key == "" || strings.ContainsAny(key, "=\r\n") || strings.ContainsAny(value, "\r\n") {
			return
		}
		s.Set(key, value)
		again := putty.ParseSessionFile("s", s.MarshalFile())
		if got, ok := again.Get(key); !ok || got != value {
			t.Fatalf("after Set(%q, %q) on %q: Get = %q, %v", key, value, data, got, ok)
		}
	})
}
