package jupyter_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

// FuzzParseScriptOutput feeds remote output, as a hostile or broken remote
// could send it, to the parsers of the launch, stop, pip and started
// scripts: none may panic, and what they accept is consistent.
func FuzzParseScriptOutput(f *testing.F) {
	val := func(k, s string) string { return "V " + k + " " + strconv.Itoa(len(s)) + "\n" + s + "\n" }
	framed := func(body string) []byte { return []byte("motd\nNBTUNNEL-BEGIN n 1\n" + body + "NBTUNNEL-END n\n") }
	f.Add(framed(val("pid", "77") + val("file", "/h/rt/jpserver-77.json") + "C {\"pid\": 77, \"port\": 8888, \"token\": \"t\"}\n"))
	f.Add(framed(val("stage", "pip") + val("error", "failed") + "T line\n"))
	f.Add(framed(val("result", "stopped") + val("args", "python3 -m jupyter")))
	f.Add(framed(val("server_python", "/usr/bin/python3") + val("python", "/v/bin/python")))
	f.Add(framed(val("count", "2") + val("pid.1", "5") + val("file.1", "/f") + val("pid.2", "-1")))
	f.Add([]byte("NBTUNNEL-BEGIN n 1\nV pid 99999999999\n1\nNBTUNNEL-END n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		if r, err := jupyter.ParseLaunch(out, "n"); err == nil {
			if r.Server.PID <= 0 || !r.Server.Alive || r.Server.File == "" {
				t.Errorf("ParseLaunch accepted a bad server: %+v", r.Server)
			}
		}
		_ = jupyter.ParseStop(out, 77, "n")
		if r, err := jupyter.ParsePip(out, "n"); err == nil && !bytes.HasSuffix(out, r.Output) {
			t.Errorf("ParsePip output %q is not the tail of the input", r.Output)
		}
		if list, err := jupyter.ParseStarted(out, "n"); err == nil {
			if len(list) > 10000 {
				t.Errorf("ParseStarted returned %d entries", len(list))
			}
			for _, s := range list {
				if s.PID <= 0 {
					t.Errorf("ParseStarted returned pid %d", s.PID)
				}
			}
		}
		if n := jupyter.FrameEnd(out, "n"); n < -1 || n > len(out) {
			t.Errorf("FrameEnd = %d for %d bytes", n, len(out))
		}
	})
}
