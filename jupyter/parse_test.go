package jupyter_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

func v(key, val string) string { return "V " + key + " " + itoa(len(val)) + "\n" + val + "\n" }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func frame(body string) []byte {
	return []byte("motd\nNBTUNNEL-BEGIN n 1\n" + body + "NBTUNNEL-END n\ntrailing")
}

func TestParseLaunch(t *testing.T) {
	ok := frame(v("log", "/h/.nbtunnel/logs/1.log") + v("python", "/v/bin/python") + v("created", "1") +
		v("installed", "0") + v("frontend", "server") + v("version", "2.14.0") + v("runtime_dir", "/h/rt") +
		v("pid", "77") + v("kind", "jpserver") + v("file", "/h/rt/jpserver-77.json") +
		"C {\"pid\": 77,\nC  \"sock\": \"/h/.nbtunnel/run/j.sock\", \"token\": \"t\"}\n")
	r, err := jupyter.ParseLaunch(ok, "n")
	if err != nil {
		t.Fatal(err)
	}
	if r.Server.PID != 77 || r.Server.Sock != "/h/.nbtunnel/run/j.sock" || !r.Server.Alive || !r.Created || r.Installed ||
		r.Python != "/v/bin/python" || r.Frontend != "server" || r.Log != "/h/.nbtunnel/logs/1.log" {
		t.Errorf("ParseLaunch = %+v", r)
	}

	failed := frame(v("log", "/l") + v("stage", "pip") + v("error", "pip install jupyterlab failed (exit 1)") +
		"T ERROR: No matching distribution found for jupyterlab\nT NBTUNNEL-END n\n")
	_, err = jupyter.ParseLaunch(failed, "n")
	var le *jupyter.LaunchError
	if !errors.As(err, &le) || le.Stage != "pip" || len(le.LogTail) != 2 || le.Log != "/l" {
		t.Errorf("ParseLaunch(failed) = %v (%+v), want a pip LaunchError with 2 tail lines", err, le)
	}

	mismatch := frame(v("pid", "78") + v("file", "/h/rt/jpserver-77.json") + "C {\"pid\": 77, \"port\": 1}\n")
	if _, err := jupyter.ParseLaunch(mismatch, "n"); err == nil {
		t.Errorf("ParseLaunch with a pid mismatch: err = nil")
	}
	if _, err := jupyter.ParseLaunch([]byte("sh: not found"), "n"); !errors.Is(err, jupyter.ErrNoDiscoveryOutput) {
		t.Errorf("ParseLaunch(no frame) = %v", err)
	}
}

func TestParseStop(t *testing.T) {
	tests := []struct {
		result string
		want   error
	}{
		{"stopped", nil},
		{"gone", jupyter.ErrNotRunning},
		{"notowner", jupyter.ErrNotOwner},
		{"notjupyter", jupyter.ErrNotJupyterProcess},
		{"running", jupyter.ErrStillRunning},
	}
	for _, tt := range tests {
		err := jupyter.ParseStop(frame(v("args", "python -m notebook")+v("result", tt.result)), 5, "n")
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("ParseStop(%s) = %v, want %v", tt.result, err, tt.want)
		}
	}
	if err := jupyter.ParseStop(frame(v("result", "failed")), 5, "n"); err == nil {
		t.Errorf("ParseStop(failed) = nil")
	}
}

func TestParsePip(t *testing.T) {
	out := frame(v("server_python", "/v/bin/python") + v("python", "/k/bin/python"))
	out = append(out[:len(out)-len("trailing")], "Collecting x\nERROR: nope\n"...)
	r, err := jupyter.ParsePip(out, "n")
	if err != nil || r.Python != "/k/bin/python" || r.ServerPython != "/v/bin/python" || string(r.Output) != "Collecting x\nERROR: nope\n" {
		t.Errorf("ParsePip = %+v (%q), %v", r, r.Output, err)
	}
	if n := jupyter.FrameEnd(out[:20], "n"); n != -1 {
		t.Errorf("FrameEnd(partial) = %d, want -1", n)
	}
	_, err = jupyter.ParsePip(frame(v("error", "cannot find the interpreter of pid 5")), "n")
	if err == nil || !strings.Contains(err.Error(), "interpreter") {
		t.Errorf("ParsePip(error) = %v", err)
	}
}
