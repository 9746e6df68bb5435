package install_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/install"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testBin = "/opt/nb tunnel/nbtunnel"

var cases = []struct {
	name     string
	alias    string
	others   []string // hosts whose resolved settings must not change
	explicit bool
	userCP   bool // the user's config has a ControlPath for alias
}{
	{name: "basic", alias: "gpu-box", others: []string{"gpu2", "bastion", "x.corp", "secret.corp", "anything"}},
	{name: "crlf", alias: "gpu-box", others: []string{"other"}, userCP: true},
	{name: "include", alias: "gpu-3", others: []string{"other", "gpu-4"}, explicit: true, userCP: true},
	{name: "globals", alias: "gpu-box", others: []string{"other", "x"}},
	{name: "pattern", alias: "gpu-7", others: []string{"gpu-9", "other"}},
}

var modes = []install.Mode{install.ProxyCommandMode, install.LocalCommandMode}

// copyCase copies testdata/openssh/NAME to a temp dir, with @DIR@ replaced
// by that dir; it returns the dir.
func copyCase(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "openssh", name)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".golden") {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, bytes.ReplaceAll(data, []byte("@DIR@"), []byte(dir)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInstallGolden(t *testing.T) {
	ctx := context.Background()
	for _, tc := range cases {
		for _, mode := range modes {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				dir := copyCase(t, tc.name)
				cfg := filepath.Join(dir, "config")
				orig, err := os.ReadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				o := install.Options{ConfigPath: cfg, ExplicitConfig: tc.explicit, BinPath: testBin, Mode: mode, Home: dir}
				res, err := install.Install(ctx, tc.alias, o)
				if err != nil || !res.Changed || res.Path != cfg || res.Backup != cfg+fileedit.BackupSuffix || res.Diff == "" {
					t.Fatalf("Install = %+v, %v; want a change of %s with a backup and a diff", res, err, cfg)
				}
				got, _ := os.ReadFile(cfg)
				golden := filepath.Join("testdata", "openssh", tc.name, strings.ToLower(mode.String())+".golden")
				norm := bytes.ReplaceAll(got, []byte(dir), []byte("@DIR@"))
				if *update {
					if err := os.WriteFile(golden, norm, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(norm, want) {
					t.Fatalf("installed config:\ngot  %q\nwant %q", norm, want)
				}
				if res, err := install.Install(ctx, tc.alias, o); err != nil || res.Changed || res.Diff != "" {
					t.Fatalf("second Install = %+v, %v; want no change", res, err)
				}
				if (len(res.Notes) > 0) != (mode == install.LocalCommandMode && tc.userCP) {
					t.Errorf("notes = %q; want a ControlPath note only in LocalCommand mode with the user's ControlPath (%v)", res.Notes, tc.userCP)
				}
				oracle(t, dir, orig, got, tc.alias, tc.others, mode, tc.explicit, tc.userCP)

				res, err = install.Uninstall(ctx, tc.alias, o)
				if err != nil || !res.Changed {
					t.Fatalf("Uninstall = %+v, %v; want a change", res, err)
				}
				if back, _ := os.ReadFile(cfg); !bytes.Equal(back, orig) {
					t.Fatalf("after Uninstall:\ngot  %q\nwant %q", back, orig)
				}
				if res, err := install.Uninstall(ctx, tc.alias, o); err != nil || res.Changed {
					t.Fatalf("second Uninstall = %+v, %v; want no change", res, err)
				}
			})
		}
	}
}

// sshG runs the real "ssh -G -F cfg host" and returns its settings.
func sshG(t *testing.T, cfg, host string) map[string]string {
	t.Helper()
	out, err := exec.Command("ssh", "-G", "-F", cfg, host).Output()
	if err != nil {
		t.Fatalf("ssh -G -F %s %s: %v", cfg, host, err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		if k == "" {
			continue
		}
		if old, ok := m[k]; ok {
			v = old + "\n" + v
		}
		m[k] = v
	}
	return m
}

func requireSSH(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("NBTUNNEL_E2E") == "1" {
			t.Fatalf("ssh not found: %v", err)
		}
		t.Skip("ssh not found; the ssh -G oracle needs openssh-client")
	}
}

// oracle checks with the real ssh that the installed config gives alias
// our hook and leaves everything else as the original config had it.
func oracle(t *testing.T, dir string, orig, installed []byte, alias string, others []string, mode install.Mode, explicit, userCP bool) {
	t.Helper()
	requireSSH(t)
	before, after := filepath.Join(dir, "before.cfg"), filepath.Join(dir, "after.cfg")
	if err := os.WriteFile(before, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(after, installed, 0o600); err != nil {
		t.Fatal(err)
	}
	flagF := ""
	if explicit {
		flagF = ` -F "` + filepath.Join(dir, "config") + `"`
	}
	was, is := sshG(t, before, alias), sshG(t, after, alias)
	ours := map[string]bool{"proxycommand": true, "proxyjump": true, "controlmaster": true, "controlpath": true,
		"permitlocalcommand": true, "localcommand": true}
	switch mode {
	case install.ProxyCommandMode:
		if want := `"` + testBin + `" proxy` + flagF + ` %n %p`; is["proxycommand"] != want {
			t.Errorf("ssh -G proxycommand = %q, want %q", is["proxycommand"], want)
		}
		if is["proxyjump"] != "" {
			t.Errorf("ssh -G proxyjump = %q, want none (our ProxyCommand wins)", is["proxyjump"])
		}
		for k := range ours {
			if k != "proxycommand" && k != "proxyjump" && is[k] != was[k] {
				t.Errorf("ssh -G %s = %q, want unchanged %q", k, is[k], was[k])
			}
		}
	case install.LocalCommandMode:
		if want := `"` + testBin + `" attach` + flagF + ` %n`; is["localcommand"] != want {
			t.Errorf("ssh -G localcommand = %q, want %q", is["localcommand"], want)
		}
		if is["permitlocalcommand"] != "yes" || is["controlmaster"] != "auto" {
			t.Errorf("ssh -G permitlocalcommand %q controlmaster %q, want yes and auto", is["permitlocalcommand"], is["controlmaster"])
		}
		if userCP {
			if is["controlpath"] != was["controlpath"] {
				t.Errorf("ssh -G controlpath = %q, want the user's %q", is["controlpath"], was["controlpath"])
			}
		} else if !strings.Contains(is["controlpath"], "/.ssh/nbtunnel-") {
			t.Errorf("ssh -G controlpath = %q, want ~/.ssh/nbtunnel-%%C", is["controlpath"])
		}
		if is["proxyjump"] != was["proxyjump"] || is["proxycommand"] != was["proxycommand"] {
			t.Errorf("ssh -G proxyjump/proxycommand changed: %q/%q, want %q/%q", is["proxyjump"], is["proxycommand"], was["proxyjump"], was["proxycommand"])
		}
	}
	for k, v := range was {
		if !ours[k] && is[k] != v {
			t.Errorf("host %q: ssh -G %s = %q, want unchanged %q", alias, k, is[k], v)
		}
	}
	for _, h := range others {
		was, is := sshG(t, before, h), sshG(t, after, h)
		for k, v := range was {
			if is[k] != v {
				t.Errorf("other host %q: ssh -G %s = %q, want unchanged %q", h, k, is[k], v)
			}
		}
		if len(is) != len(was) {
			t.Errorf("other host %q: ssh -G has %d settings, want %d", h, len(is), len(was))
		}
	}
}
