package jupyter_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

func FuzzParseRuntimeFile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "runtime", "*.json"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(p), data)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		s, err := jupyter.ParseRuntimeFile("/r/"+name, data)
		if err != nil {
			if !strings.Contains(err.Error(), "/r/"+name) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if !strings.HasPrefix(s.BaseURL, "/") || !strings.HasSuffix(s.BaseURL, "/") {
			t.Errorf("BaseURL %q not normalised", s.BaseURL)
		}
		if strings.IndexFunc(s.Token, unicode.IsControl) >= 0 {
			t.Errorf("Token %q has control characters", s.Token)
		}
		if (s.Sock == "") == (s.Port == 0) || s.Port < 0 || s.Port > 65535 || s.PID <= 0 {
			t.Errorf("bad address or pid: %+v", s)
		}
		u, err := url.Parse(s.Link(1234))
		if err != nil || u.Host != "127.0.0.1:1234" || u.Query().Get("token") != s.Token {
			t.Errorf("Link %q: %v", s.Link(1234), err)
		}
	})
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add([]byte("banner\nNBTUNNEL-BEGIN n 1\nV uid 1\n0\nD 2\n/r\nS jpserver-5.json 20 1700000000 1 0\n" +
		"C jpserver-5.json:{\"pid\":5,\"port\":1}\nNBTUNNEL-END n\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		d, err := jupyter.ParseDiscovery(out, "n")
		if err != nil {
			return
		}
		for i, s := range d.Servers {
			if s.File == "" || s.PID <= 0 {
				t.Errorf("server %d: %+v", i, s)
			}
			if i > 0 && s.Started.After(d.Servers[i-1].Started) {
				t.Errorf("servers not sorted newest first")
			}
		}
		for _, p := range d.Problems {
			if p == nil {
				t.Errorf("nil problem")
			}
		}
	})
}
