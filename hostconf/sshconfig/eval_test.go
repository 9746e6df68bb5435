package sshconfig_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// writeFiles writes name -> text under dir (mode 0600, directories 0700).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "@DIR@", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, c *sshconfig.Config, key string) string {
	t.Helper()
	v, _ := c.Get(key)
	return v.Arg()
}

// TestEvaluateDefaultFiles covers what ssh -F cannot show: ~/.ssh/config
// then the system file, ~/.ssh-relative Includes in the user's file and
// /etc/ssh-relative ones in the system file.
func TestEvaluateDefaultFiles(t *testing.T) {
	home, etc := t.TempDir(), t.TempDir()
	writeFiles(t, home, map[string]string{
		".ssh/config":        "Include conf.d/*.conf ~/.ssh/extra\nHost a\n  Port 1001\n",
		".ssh/conf.d/1.conf": "Host a\n  User from-user-include\n",
		".ssh/extra":         "Host a\n  IdentityFile ~/.ssh/extra-key\n",
	})
	writeFiles(t, etc, map[string]string{
		"ssh_config":          "Include ssh_config.d/*.conf\nHost *\n  Port 22\n  ConnectTimeout 9\n",
		"ssh_config.d/x.conf": "Host a\n  ServerAliveInterval 5\n",
	})
	c, err := sshconfig.Evaluate(context.Background(), "a", sshconfig.Options{
		Home: home, SystemConfig: filepath.Join(etc, "ssh_config"), SystemDir: etc, LocalUser: "me",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{get(t, c, "user"), get(t, c, "port"), get(t, c, "connecttimeout"), get(t, c, "serveraliveinterval"), get(t, c, "identityfile")}
	want := []string{"from-user-include", "1001", "9", "5", "~/.ssh/extra-key"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(c.Files) != 5 {
		t.Errorf("got files %q, want 5", c.Files)
	}
}

func TestEvaluateSystemTildeInclude(t *testing.T) {
	home, etc := t.TempDir(), t.TempDir()
	writeFiles(t, etc, map[string]string{"ssh_config": "Include ~/x.conf\n"})
	_, err := sshconfig.Evaluate(context.Background(), "a", sshconfig.Options{Home: home, SystemConfig: filepath.Join(etc, "ssh_config")})
	var ce *sshconfig.Error
	if !errors.As(err, &ce) || ce.Line != 1 || !strings.Contains(err.Error(), "bad include path") {
		t.Errorf("got %v, want a bad include path error on line 1", err)
	}
}

func TestEvaluatePermissions(t *testing.T) {
	if os.Getuid() == 0 {
		// root owns everything it writes; only the mode is checked.
		t.Log("running as root")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config": "Include @DIR@/inc.conf\n", "inc.conf": "User u\n"})
	if err := os.Chmod(filepath.Join(dir, "inc.conf"), 0o664); err != nil {
		t.Fatal(err)
	}
	_, err := sshconfig.Evaluate(context.Background(), "a", sshconfig.Options{Home: dir, ConfigFile: filepath.Join(dir, "config")})
	var ce *sshconfig.Error
	if !errors.As(err, &ce) || ce.File != filepath.Join(dir, "inc.conf") || !strings.Contains(err.Error(), "permissions") {
		t.Errorf("got %v, want a permissions error naming inc.conf", err)
	}
}

func TestEvaluateExecAndSkip(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config": "# BEGIN ours\nHost a\n  User skipped\n# END ours\n" +
		"Match exec \"probe %h %p %n\"\n  User by-exec\n"})
	var ran []string
	c, err := sshconfig.Evaluate(context.Background(), "a", sshconfig.Options{
		Home: dir, ConfigFile: filepath.Join(dir, "config"),
		SkipLines: func(path string, data []byte) map[int]bool { return map[int]bool{1: true, 2: true, 3: true, 4: true} },
		Exec: func(ctx context.Context, cmd string) (bool, error) {
			ran = append(ran, cmd)
			return true, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if get(t, c, "user") != "by-exec" || !reflect.DeepEqual(ran, []string{"probe a 22 a"}) {
		t.Errorf("got user %q, commands %q; want by-exec and [probe a 22 a]", get(t, c, "user"), ran)
	}
}

func TestEvaluateUnsupported(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"CanonicalDomains": "CanonicalizeHostname yes\nCanonicalDomains example.com\n",
		"trailing dot":     "CanonicalizeHostname yes\nHostName a.\n",
		"permitted CNAMEs": "CanonicalizePermittedCNAMEs *.a:*.b\n",
		"unknown keyword":  "Host a\n  FrobnicateHosts yes\n",
		"newer Match":      "Match version 9\n",
	}
	for name, text := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := sshconfig.Evaluate(context.Background(), "a", sshconfig.Options{Home: dir, ConfigFile: p})
		var ue *sshconfig.UnsupportedError
		if !errors.Is(err, sshconfig.ErrUnsupported) || !errors.As(err, &ue) || ue.File != p {
			t.Errorf("%s: got %v, want an UnsupportedError naming %s", name, err, p)
		}
	}
}

func TestEvaluateCommandLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"config": "Host h\n  User cfg\n  Port 2\nMatch user cli\n  ConnectTimeout 3\n"})
	c, err := sshconfig.Evaluate(context.Background(), "cli@h", sshconfig.Options{Home: dir, ConfigFile: filepath.Join(dir, "config"), Port: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c.User() != "cli" || c.Port() != 7 || get(t, c, "connecttimeout") != "3" || c.Host != "h" {
		t.Errorf("got user %q port %d timeout %q host %q", c.User(), c.Port(), get(t, c, "connecttimeout"), c.Host)
	}
}
