package hostconf_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

func TestHostAliases(t *testing.T) {
	home := t.TempDir()
	write := func(rel, text string) string {
		p := filepath.Join(home, rel)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(".ssh/conf.d/b.conf", "Host b-host\n  HostName b\n")
	write(".ssh/conf.d/a.conf", "Host a-host a?x\n  HostName a\n")
	cfg := write(".ssh/config", "Host gpu lab gpu\n  HostName g\nInclude conf.d/*.conf\nMatch host x\n  User y\nHost *.example.org !bad other\nHost\t\"quoted\"\n")
	got, err := hostconf.HostAliases(hostconf.ResolveOptions{ConfigFile: cfg, Home: home})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gpu", "lab", "a-host", "b-host", "other", "quoted"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HostAliases = %q, want %q", got, want)
	}

	// A broken line in an included file costs that line only; an -F file
	// that does not exist is an error.
	write(".ssh/conf.d/c.conf", "Host \"unterminated\nHost c-host\n")
	got, err = hostconf.HostAliases(hostconf.ResolveOptions{ConfigFile: cfg, Home: home})
	if err != nil || len(got) != len(want)+1 || got[len(got)-3] != "c-host" {
		t.Errorf("HostAliases with a broken include line = %q, %v; want c-host added after b-host", got, err)
	}
	if _, err := hostconf.HostAliases(hostconf.ResolveOptions{ConfigFile: filepath.Join(home, "missing"), Home: home}); err == nil {
		t.Errorf("HostAliases with a missing -F file: no error")
	}
}
