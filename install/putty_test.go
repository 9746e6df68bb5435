package install_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/hostconf/putty"
	"github.com/nbtunnel/nbtunnel/install"
)

// updateGolden reports whether -update was given (the flag is defined by
// the OpenSSH tests of this package).
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "putty", name)
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// newStore returns a file store in a temp home holding session name with
// the content of testdata/putty/FIXTURE.
func newStore(t *testing.T, name, fixture string) (*putty.FileStore, []byte) {
	t.Helper()
	st := putty.NewFileStore(t.TempDir(), func(string) string { return "" })
	data, err := os.ReadFile(filepath.Join("testdata", "putty", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(st.SessionDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Where(name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return st, data
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInstallPuttyGolden(t *testing.T) {
	ctx := context.Background()
	const bin = "/opt/nb tunnel/bin/nbtunnel"
	tests := []struct{ name, session, fixture string }{
		{"gpu", "gpu box", "session-gpu"},
		{"local", "local", "session-local"},
		{"hostile", `../x y'$(rm -rf ~)%host\`, "session-local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, orig := newStore(t, tt.session, tt.fixture)
			path := st.Where(tt.session)
			if filepath.Dir(path) != st.SessionDir {
				t.Fatalf("session file %s escapes %s", path, st.SessionDir)
			}

			d, err := install.InstallPutty(ctx, st, tt.session, bin, true)
			if err != nil || d == "" {
				t.Fatalf("dry run: %q, %v", d, err)
			}
			if got := readFile(t, path); string(got) != string(orig) {
				t.Errorf("dry run changed the session file")
			}

			d, err = install.InstallPutty(ctx, st, tt.session, bin, false)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".install.diff", []byte(strings.ReplaceAll(d, path, "SESSION")))
			golden(t, tt.name+".installed", readFile(t, path))
			sidecar := filepath.Join(st.Dir, "nbtunnel-saved", filepath.Base(path))
			golden(t, tt.name+".saved.json", readFile(t, sidecar))

			installed := readFile(t, path)
			if d, err := install.InstallPutty(ctx, st, tt.session, bin, false); err != nil || d != "" {
				t.Errorf("second install: diff %q, %v; want no change", d, err)
			}
			if got := readFile(t, path); string(got) != string(installed) {
				t.Errorf("second install changed the file")
			}

			s, err := st.Load(tt.session)
			if err != nil {
				t.Fatal(err)
			}
			cmd, _ := s.Get("ProxyTelnetCommand")
			if !strings.Contains(cmd, hostconf.PuttyHookMarker) || putty.ProxyMethod(s) != putty.ProxyCommand {
				t.Errorf("installed session: ProxyMethod %d, command %q", putty.ProxyMethod(s), cmd)
			}

			if _, err := install.UninstallPutty(ctx, st, tt.session, false); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); string(got) != string(orig) {
				t.Errorf("after uninstall:\n%q\nwant the original\n%q", got, orig)
			}
			if _, err := os.Stat(sidecar); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("sidecar %s left after uninstall (%v)", sidecar, err)
			}
			if d, err := install.UninstallPutty(ctx, st, tt.session, false); err != nil || d != "" {
				t.Errorf("second uninstall: %q, %v; want no change", d, err)
			}
		})
	}
}

func TestPuttyHookCommand(t *testing.T) {
	tests := []struct{ bin, session, want string }{
		{"/usr/bin/nbtunnel", "gpu", "/usr/bin/nbtunnel proxy --putty gpu %host %port"},
		{"/opt/a b/nbtunnel", "my box", `'/opt/a b/nbtunnel' proxy --putty 'my box' %host %port`},
		{"/x/nbtunnel", `50%\it's`, `/x/nbtunnel proxy --putty '50%%\\it'\\''s' %host %port`},
	}
	for _, tt := range tests {
		if got := install.PuttyHookCommand(tt.bin, tt.session); got != tt.want {
			t.Errorf("PuttyHookCommand(%q, %q) = %q, want %q", tt.bin, tt.session, got, tt.want)
		}
	}
}

func TestWritePuttyForward(t *testing.T) {
	ctx := context.Background()
	st, orig := newStore(t, "gpu", "session-gpu")
	path := st.Where("gpu")
	fwds := func() string {
		s, err := st.Load("gpu")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Get("PortForwardings")
		return v
	}
	user := "L8890=127.0.0.1:8888,4R2222=localhost:22,D1080="
	steps := []struct {
		port        int
		target      string
		wantChanged bool
		want        string
	}{
		{9001, "127.0.0.1:8888", true, user + ",L9001=127.0.0.1:8888"},
		{9001, "127.0.0.1:8888", false, user + ",L9001=127.0.0.1:8888"},
		{9002, "127.0.0.1:8889", true, user + ",L9002=127.0.0.1:8889"},
		{8890, "127.0.0.1:8888", false, user}, // the user's own entry does it
	}
	for i, st2 := range steps {
		changed, err := install.WritePuttyForward(ctx, st, "gpu", st2.port, st2.target)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if changed != st2.wantChanged {
			t.Errorf("step %d: changed = %v, want %v", i, changed, st2.wantChanged)
		}
		if i < 3 {
			if got := fwds(); got != st2.want {
				t.Errorf("step %d: PortForwardings = %q, want %q", i, got, st2.want)
			}
		}
	}
	golden(t, "gpu.forward", readFile(t, path))

	if _, err := install.WritePuttyForward(ctx, st, "gpu", 8890, "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "already forwarded") {
		t.Errorf("port taken by a user entry: got %v", err)
	}
	_, err := install.WritePuttyForward(ctx, st, "gpu", 9003, "/run/user/1000/jupyter.sock")
	if !errors.Is(err, install.ErrPuttyUnixSocket) || !strings.Contains(err.Error(), "nbtunnel install --putty gpu") {
		t.Errorf("unix socket target: got %v", err)
	}
	if _, err := install.WritePuttyForward(ctx, st, "nope", 9003, "127.0.0.1:1"); !errors.Is(err, putty.ErrNoSession) {
		t.Errorf("missing session: got %v", err)
	}

	// Install on top, then uninstall takes out both.
	if _, err := install.InstallPutty(ctx, st, "gpu", "/usr/bin/nbtunnel", false); err != nil {
		t.Fatal(err)
	}
	if _, err := install.UninstallPutty(ctx, st, "gpu", false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != string(orig) {
		t.Errorf("after uninstall:\n%s\nwant the original", got)
	}
}

func TestWritePuttyForwardAbsentKey(t *testing.T) {
	ctx := context.Background()
	st, orig := newStore(t, "bare", "session-bare")
	if _, err := install.WritePuttyForward(ctx, st, "bare", 9100, "127.0.0.1:8888"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, st.Where("bare")); !strings.HasSuffix(string(got), "PortForwardings=L9100=127.0.0.1:8888\n") {
		t.Errorf("got %q", got)
	}
	if _, err := install.UninstallPutty(ctx, st, "bare", false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, st.Where("bare")); string(got) != string(orig) {
		t.Errorf("after uninstall: %q, want %q", got, orig)
	}
}

// regStore is a putty.Store without files, like the Windows registry: the
// saved state goes into the session itself.
type regStore struct{ files map[string][]byte }

func (r *regStore) Where(name string) string { return `HKCU\...\Sessions\` + name }
func (r *regStore) Load(name string) (*putty.Session, error) {
	b, ok := r.files[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", putty.ErrNoSession, name)
	}
	return putty.ParseSessionFile(name, b), nil
}
func (r *regStore) Save(s *putty.Session) error {
	r.files[s.Name] = s.MarshalFile()
	return nil
}
func (r *regStore) HostKeys() (hostkeys.Checker, error) {
	return hostkeys.ParsePuttyHostKeys(nil, "none"), nil
}

func TestInstallPuttyNoSidecar(t *testing.T) {
	ctx := context.Background()
	orig := readFile(t, "testdata/putty/session-gpu")
	r := &regStore{files: map[string][]byte{"gpu": orig}}
	if _, err := install.InstallPutty(ctx, r, "gpu", `C:\Program Files\nbtunnel\nbtunnel.exe`, false); err != nil {
		t.Fatal(err)
	}
	if _, err := install.WritePuttyForward(ctx, r, "gpu", 9001, "127.0.0.1:8888"); err != nil {
		t.Fatal(err)
	}
	s, _ := r.Load("gpu")
	if v, ok := s.Get("NbtunnelSaved"); !ok || !strings.Contains(v, "ProxyMethod") {
		t.Errorf("saved state in the session: %q, %v", v, ok)
	}
	if _, err := install.UninstallPutty(ctx, r, "gpu", false); err != nil {
		t.Fatal(err)
	}
	if got := r.files["gpu"]; string(got) != string(orig) {
		t.Errorf("after uninstall:\n%s\nwant the original", got)
	}
}

func TestUninstallPuttyLostState(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, "gpu", "session-gpu")
	if _, err := install.InstallPutty(ctx, st, "gpu", "/usr/bin/nbtunnel", false); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(st.Dir, "nbtunnel-saved")); err != nil {
		t.Fatal(err)
	}
	d, err := install.UninstallPutty(ctx, st, "gpu", false)
	if err != nil || !strings.Contains(d, "+ProxyMethod=0") {
		t.Fatalf("uninstall without saved state: %q, %v", d, err)
	}
	s, _ := st.Load("gpu")
	if putty.ProxyMethod(s) != putty.ProxyNone {
		t.Errorf("proxy still on after uninstall")
	}
}

func TestRemovePuttyForwardKeepsHook(t *testing.T) {
	ctx := context.Background()
	st, orig := newStore(t, "gpu", "session-gpu")
	path := st.Where("gpu")
	if _, err := install.InstallPutty(ctx, st, "gpu", "/usr/bin/nbtunnel", false); err != nil {
		t.Fatal(err)
	}
	installed := readFile(t, path)
	d, err := install.DiffPuttyForward(ctx, st, "gpu", 9001, "127.0.0.1:8888")
	if err != nil {
		t.Fatal(err)
	}
	if want := "+PortForwardings=L8890=127.0.0.1:8888,4R2222=localhost:22,D1080=,L9001=127.0.0.1:8888\n"; !strings.HasSuffix(d, want) {
		t.Errorf("DiffPuttyForward = %q, want it to end with %q", d, want)
	}
	if got := readFile(t, path); string(got) != string(installed) {
		t.Errorf("DiffPuttyForward wrote the session")
	}
	if _, err := install.WritePuttyForward(ctx, st, "gpu", 9001, "127.0.0.1:8888"); err != nil {
		t.Fatal(err)
	}
	d, err = install.RemovePuttyForward(ctx, st, "gpu", true)
	if err != nil || !strings.Contains(d, "-PortForwardings=") {
		t.Errorf("RemovePuttyForward dry run = %q, %v; want a diff", d, err)
	}
	if _, err := install.RemovePuttyForward(ctx, st, "gpu", false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != string(installed) {
		t.Errorf("after RemovePuttyForward:\n%s\nwant the installed session:\n%s", got, installed)
	}
	if d, err := install.RemovePuttyForward(ctx, st, "gpu", false); err != nil || d != "" {
		t.Errorf("second RemovePuttyForward = %q, %v; want no change", d, err)
	}
	if _, err := install.UninstallPutty(ctx, st, "gpu", false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != string(orig) {
		t.Errorf("after uninstall:\n%s\nwant the original", got)
	}
}
