package hostconf_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

func TestLocalForwardPorts(t *testing.T) {
	cfg := "Host a\n  LocalForward 8888 localhost:8888\r\n" +
		"Host b\n\tLocalForward=127.0.0.1:9000 127.0.0.1:80 # web\n" +
		"  localforward [::1]:9001 host:1\n" +
		"  LocalForward /tmp/sock host:2\n" +
		"# LocalForward 7000 commented:1\n" +
		fileedit.BeginMarker(hostconf.ForwardBlockKey("gpu")) + "\nHost gpu\n  LocalForward 127.0.0.1:8890 127.0.0.1:8888\nHost *\n" +
		fileedit.EndMarker(hostconf.ForwardBlockKey("gpu")) + "\n"
	home := t.TempDir()
	got, err := hostconf.LocalForwardPorts("config", []byte(cfg), "gpu", home)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{8888, 9000, 9001}; !reflect.DeepEqual(got, want) {
		t.Errorf("LocalForwardPorts (our gpu block left out) = %v, want %v", got, want)
	}
	got, _ = hostconf.LocalForwardPorts("config", []byte(cfg), "other", home)
	if want := []int{8888, 9000, 9001, 8890}; !reflect.DeepEqual(got, want) {
		t.Errorf("LocalForwardPorts (for another alias) = %v, want %v", got, want)
	}
}

// TestLocalForwardPortsIncludes follows Include lines (relative to
// ~/.ssh, globs, nested), whatever block they are in.
func TestLocalForwardPortsIncludes(t *testing.T) {
	home := t.TempDir()
	files := map[string]string{
		".ssh/conf.d/a.conf": "Host x\n  LocalForward 7001 h:1\nInclude conf.d/nested\n",
		".ssh/conf.d/nested": "LocalForward 127.0.0.1:7002 h:2\n",
		".ssh/other":         "Host y\n  LocalForward 7003 h:3\n",
	}
	for name, text := range files {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := "Include conf.d/*.conf\nHost never-used\n  Include ~/.ssh/other\n  LocalForward 7000 h:0\n"
	got, err := hostconf.LocalForwardPorts(filepath.Join(home, ".ssh/config"), []byte(cfg), "gpu", home)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{7001, 7002, 7003, 7000}; !reflect.DeepEqual(got, want) {
		t.Errorf("LocalForwardPorts = %v, want %v", got, want)
	}
}
