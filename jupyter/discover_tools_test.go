package jupyter_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// TestDiscoveryToolVariants runs the discovery script with the tools of
// other systems: BSD stat (emulated), no usable stat (wc fallback, no
// mtime), and busybox applets (when busybox is installed).
func TestDiscoveryToolVariants(t *testing.T) {
	home := t.TempDir()
	run := filepath.Join(home, ".local", "share", "jupyter", "runtime")
	live, dead := os.Getpid(), deadPID(t)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	writeFile(t, filepath.Join(run, fmt.Sprintf("jpserver-%d.json", live)), rt(live, 8888, ""), t0)
	writeFile(t, filepath.Join(run, fmt.Sprintf("nbserver-%d.json", dead)), rt(dead, 8889, ""), t0.Add(-time.Hour))

	bin := func(name, script string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir + ":/usr/bin:/bin"
	}
	variants := []struct {
		name, path string
		wantTime   bool
	}{
		{"bsd stat", bin("bsd", "#!/bin/sh\n[ \"$1\" = -f ] || exit 1\nshift; f=$1; shift\n"+
			"[ \"$f\" = %z ] && exec /usr/bin/stat -c %s \"$@\"\n"+
			"[ \"$f\" = '%N %z %m %u' ] && exec /usr/bin/stat -c '%n %s %Y %u' \"$@\"\nexit 1\n"), true},
		{"no stat", bin("none", "#!/bin/sh\nexit 1\n"), false},
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		dir := t.TempDir()
		for _, tool := range []string{"sh", "stat", "awk", "xargs", "grep", "id", "uname", "wc", "ps", "tail", "date", "printf", "sleep"} {
			if err := os.Symlink(bb, filepath.Join(dir, tool)); err != nil {
				t.Fatal(err)
			}
		}
		variants = append(variants, struct {
			name, path string
			wantTime   bool
		}{"busybox applets", dir, true})
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			out := runScript(t, []string{"/bin/sh", "-s"}, jupyter.DiscoveryScript("n"), "HOME="+home, "PATH="+v.path)
			d, err := jupyter.ParseDiscovery(out, "n")
			if err != nil {
				t.Fatalf("ParseDiscovery: %v\n%s", err, out)
			}
			if len(d.Servers) != 2 || len(d.Problems) != 0 {
				t.Fatalf("got %+v, problems %v; want 2 servers", d.Servers, d.Problems)
			}
			s := d.Servers[0]
			if s.PID != live || !s.Alive || s.Port != 8888 || d.Servers[1].Alive {
				t.Errorf("servers = %+v", d.Servers)
			}
			if v.wantTime && (!s.Started.Equal(t0) || s.UID != os.Getuid()) {
				t.Errorf("Started = %v, UID %d; want %v, %d", s.Started, s.UID, t0, os.Getuid())
			}
			if !v.wantTime && !s.Started.IsZero() {
				t.Errorf("Started = %v, want zero without stat", s.Started)
			}
		})
	}
}
