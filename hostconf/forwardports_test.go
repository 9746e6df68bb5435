package hostconf_test

import (
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
	got, err := hostconf.LocalForwardPorts("config", []byte(cfg), "gpu")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{8888, 9000, 9001}; !reflect.DeepEqual(got, want) {
		t.Errorf("LocalForwardPorts (our gpu block left out) = %v, want %v", got, want)
	}
	got, _ = hostconf.LocalForwardPorts("config", []byte(cfg), "other")
	if want := []int{8888, 9000, 9001, 8890}; !reflect.DeepEqual(got, want) {
		t.Errorf("LocalForwardPorts (for another alias) = %v, want %v", got, want)
	}
}
