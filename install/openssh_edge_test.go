package install_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/install"
)

func TestInstallMissingFile(t *testing.T) {
	home := t.TempDir()
	o := install.Options{Home: home, BinPath: "/usr/local/bin/nbtunnel"}
	res, err := install.Install(context.Background(), "gpu-box", o)
	cfg := filepath.Join(home, ".ssh", "config")
	if err != nil || !res.Changed || res.Path != cfg || res.Backup != "" {
		t.Fatalf("Install = %+v, %v; want a new %s without a backup", res, err, cfg)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(cfg)); fi.Mode().Perm() != 0o700 {
		t.Errorf("~/.ssh mode = %v, want 0700", fi.Mode().Perm())
	}
	want := fileedit.BeginMarker("hook gpu-box") + "\nHost gpu-box\n    ProxyCommand \"/usr/local/bin/nbtunnel\" proxy %n %p\nHost *\n" + fileedit.EndMarker("hook gpu-box") + "\n"
	if got, _ := os.ReadFile(cfg); string(got) != want {
		t.Fatalf("config:\ngot  %q\nwant %q", got, want)
	}
	if _, err := install.Uninstall(context.Background(), "gpu-box", o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(cfg); len(got) != 0 {
		t.Fatalf("after Uninstall config = %q, want empty", got)
	}
}

func TestInstallDryRun(t *testing.T) {
	home := t.TempDir()
	o := install.Options{Home: home, BinPath: "/usr/local/bin/nbtunnel", DryRun: true}
	res, err := install.Install(context.Background(), "gpu-box", o)
	if err != nil || !res.Changed || !strings.Contains(res.Diff, "+    ProxyCommand") {
		t.Fatalf("dry run = %+v, %v; want a change with a diff", res, err)
	}
	if _, err := os.Stat(filepath.Join(home, ".ssh")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry run created ~/.ssh (stat: %v)", err)
	}
}

func TestInstallSymlinkAndForward(t *testing.T) {
	requireSSH(t)
	ctx := context.Background()
	home := t.TempDir()
	real := filepath.Join(home, "dotfiles", "ssh_config")
	orig := []byte("Host gpu-box\n\tHostName 10.9.9.9\n")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, ".ssh", "config")
	if err := os.Symlink("../dotfiles/ssh_config", cfg); err != nil {
		t.Fatal(err)
	}
	o := install.Options{Home: home, BinPath: "/usr/bin/nbtunnel", Mode: install.LocalCommandMode}
	res, err := install.Install(ctx, "gpu-box", o)
	if err != nil || res.Path != real {
		t.Fatalf("Install = %+v, %v; want path %s", res, err, real)
	}
	if fi, err := os.Lstat(cfg); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink (%v)", cfg, err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 kept", fi.Mode().Perm())
	}
	// Switching mode replaces the hook.
	o.Mode = install.ProxyCommandMode
	if res, err := install.Install(ctx, "gpu-box", o); err != nil || !res.Changed {
		t.Fatalf("Install in the other mode = %+v, %v; want a change", res, err)
	}
	fwd := hostconf.Forward{Listen: "127.0.0.1:18888", Target: "127.0.0.1:8888"}
	if _, _, err := install.WriteLocalForward(ctx, cfg, "gpu-box", fwd, fileedit.EditOptions{}); err != nil {
		t.Fatal(err)
	}
	g := sshG(t, cfg, "gpu-box")
	if g["localforward"] != "[127.0.0.1]:18888 [127.0.0.1]:8888" || g["proxycommand"] != `"/usr/bin/nbtunnel" proxy %n %p` || g["localcommand"] != "" {
		t.Errorf("ssh -G: localforward %q proxycommand %q localcommand %q; want our forward and ProxyCommand only",
			g["localforward"], g["proxycommand"], g["localcommand"])
	}
	if _, err := install.Uninstall(ctx, "gpu-box", o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := install.RemoveLocalForward(ctx, cfg, "gpu-box", fileedit.EditOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(real); !bytes.Equal(got, orig) {
		t.Fatalf("after removing everything:\ngot  %q\nwant %q", got, orig)
	}
}

func TestInstallControlPathDetection(t *testing.T) {
	tests := []struct {
		name, config string
		userCP       bool
	}{
		{"own host", "Host gpu-7\n  ControlPath /tmp/x-%C\n", true},
		{"global", "ControlPath=/tmp/x-%C\nHost a\n", true},
		{"pattern", "Host gpu-?\n  ControlPath /tmp/x-%C\n", true},
		{"negated", "Host gpu-* !gpu-7\n  ControlPath /tmp/x-%C\n", false},
		{"other host", "Host gpu-8\n  ControlPath /tmp/x-%C\n", false},
		{"none", "Host gpu-7\n  ControlPath none\n", false},
		{"match", "Match host gpu-7\n  ControlPath /tmp/x-%C\n", true},
		{"match list", "Match host a,GPU-7\n  ControlPath /tmp/x-%C\n", true},
		// A Host line takes no comma lists: "a,GPU-7" is one pattern (ssh -G agrees).
		{"comma on a Host line", "Host a,GPU-7\n  ControlPath /tmp/x-%C\n", false},
		{"? is one character", "Host gpu-7?\n  ControlPath /tmp/x-%C\n", false},
		{"quoted pattern", "Host \"gpu-7\"\n  ControlPath /tmp/x-%C\n", true},
		{"include", "Include @DIR@/inc.conf\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config")
			inc := "Host gpu-*\n  ControlPath /tmp/inc-%C\n"
			if err := os.WriteFile(filepath.Join(dir, "inc.conf"), []byte(inc), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(tt.config, "@DIR@", dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := install.Install(context.Background(), "gpu-7",
				install.Options{ConfigPath: cfg, BinPath: "/bin/nbtunnel", Mode: install.LocalCommandMode, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			wrote := strings.Contains(res.Diff, "+    ControlPath ~/.ssh/nbtunnel-%C")
			if wrote == tt.userCP || (len(res.Notes) > 0) != tt.userCP {
				t.Errorf("wrote our ControlPath %v, notes %q; want the user's ControlPath detected: %v", wrote, res.Notes, tt.userCP)
			}
		})
	}
}

func TestInstallErrors(t *testing.T) {
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged")
	if err := os.WriteFile(damaged, []byte("Host a\n"+fileedit.BeginMarker("hook gpu-box")+"\nHost gpu-box\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := install.Options{ConfigPath: filepath.Join(dir, "config"), BinPath: "/bin/nbtunnel"}
	tests := []struct {
		name  string
		alias string
		o     install.Options
		want  string
	}{
		{"relative bin", "h", install.Options{ConfigPath: ok.ConfigPath, BinPath: "nbtunnel"}, "not absolute"},
		{"unquotable bin", "h", install.Options{ConfigPath: ok.ConfigPath, BinPath: "/opt/$HOME/nbtunnel"}, "cannot be quoted"},
		{"pattern alias", "gpu-*", ok, "invalid host alias"},
		{"no path", "h", install.Options{BinPath: "/bin/nbtunnel"}, "neither a config path nor a home"},
		{"damaged", "gpu-box", install.Options{ConfigPath: damaged, BinPath: "/bin/nbtunnel"}, damaged + ":2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := install.Install(context.Background(), tt.alias, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	_, err := install.Uninstall(context.Background(), "gpu-box", install.Options{ConfigPath: damaged})
	var be *fileedit.BlockError
	if !errors.As(err, &be) || be.Line != 2 || be.Hint == "" {
		t.Fatalf("Uninstall of a damaged block: %v; want a *fileedit.BlockError at line 2 with a hint", err)
	}
}

// TestInstallConcurrent runs several installs at once: the lock must
// serialise them so that no edit is lost.
func TestInstallConcurrent(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte("Host a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := install.Install(context.Background(), fmt.Sprintf("h%d", i), install.Options{ConfigPath: cfg, BinPath: "/bin/nbtunnel"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(cfg)
	bs, err := fileedit.Blocks(cfg, data)
	if err != nil || len(bs) != 8 {
		t.Fatalf("got %d blocks (%v), want 8:\n%s", len(bs), err, data)
	}
}
