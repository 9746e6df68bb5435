package jupyter_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/jupyter"
)

func TestParseRuntimeFileReal(t *testing.T) {
	tests := []struct {
		file string
		want jupyter.Server
	}{
		{"nbserver-9851.json", jupyter.Server{Kind: "notebook", PID: 9851, Port: 18888, Hostname: "127.0.0.1",
			BaseURL: "/", RootDir: "/tmp/jh", Token: "faketoken0123456789abcdef"}},
		{"nbserver-9914.json", jupyter.Server{Kind: "notebook", PID: 9914, Sock: "/tmp/jh/nb.sock", Hostname: "localhost",
			BaseURL: "/user/alice/", RootDir: "/tmp/jh", Token: "faketoken0123456789abcdef"}},
		{"jpserver-9853.json", jupyter.Server{Kind: "jupyter_server", PID: 9853, Port: 18889, Hostname: "127.0.0.1",
			BaseURL: "/", RootDir: "/tmp/jh", Version: "1.23.3", Token: "faketoken0123456789abcdef"}},
		{"jpserver-9855.json", jupyter.Server{Kind: "jupyter_server", PID: 9855, Sock: "/tmp/jh/js.sock", Hostname: "localhost",
			BaseURL: "/", RootDir: "/tmp/jh", Version: "1.23.3", Token: "faketoken0123456789abcdef"}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", "runtime", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		file := "/home/u/.local/share/jupyter/runtime/" + tt.file
		got, err := jupyter.ParseRuntimeFile(file, data)
		if err != nil {
			t.Fatalf("ParseRuntimeFile(%s): %v", tt.file, err)
		}
		tt.want.File = file
		if got != tt.want {
			t.Errorf("ParseRuntimeFile(%s) = %+v, want %+v", tt.file, got, tt.want)
		}
	}
}

func TestParseRuntimeFileLenient(t *testing.T) {
	tests := []struct {
		name, file, data string
		wantErr          string // substring; "" = success
		check            func(jupyter.Server) string
	}{
		{"minimal", "jpserver-5.json", `{"pid":5,"port":8888}`, "", func(s jupyter.Server) string {
			if s.BaseURL != "/" || s.Token != "" || s.Port != 8888 {
				return "defaults not applied"
			}
			return ""
		}},
		{"base_url without slashes", "jpserver-5.json", `{"pid":5,"port":1,"base_url":"user/x"}`, "", func(s jupyter.Server) string {
			if s.BaseURL != "/user/x/" {
				return "BaseURL " + s.BaseURL
			}
			return ""
		}},
		{"sock wins over port", "jpserver-5.json", `{"pid":5,"port":8888,"sock":"/tmp/a b'c"}`, "", func(s jupyter.Server) string {
			if s.Port != 0 || s.Sock != "/tmp/a b'c" {
				return "sock/port wrong"
			}
			return ""
		}},
		{"nulls are absent", "nbserver-5.json", `{"pid":5,"port":9,"token":null,"secure":null}`, "", nil},
		{"port as string", "jpserver-5.json", `{"pid":5,"port":"8888"}`, `"port" is a string, want an integer`, nil},
		{"port float", "jpserver-5.json", `{"pid":5,"port":8888.5}`, `want an integer`, nil},
		{"port range", "jpserver-5.json", `{"pid":5,"port":70000}`, `out of range`, nil},
		{"pid mismatch", "jpserver-5.json", `{"pid":6,"port":1}`, `does not match`, nil},
		{"no pid", "jpserver-5.json", `{"port":1}`, `no "pid"`, nil},
		{"no address", "jpserver-5.json", `{"pid":5}`, `neither "port" nor "sock"`, nil},
		{"token control", "jpserver-5.json", `{"pid":5,"port":1,"token":"ab\ncd"}`, `control characters`, nil},
		{"token bool", "jpserver-5.json", `{"pid":5,"port":1,"token":true}`, `"token" is a boolean`, nil},
		{"secure string", "jpserver-5.json", `{"pid":5,"port":1,"secure":"yes"}`, `"secure" is a string`, nil},
		{"base_url query", "jpserver-5.json", `{"pid":5,"port":1,"base_url":"/a?b"}`, `cannot be part of a link`, nil},
		{"invalid json", "jpserver-5.json", `{"pid":5,`, `parsing JSON`, nil},
		{"array", "jpserver-5.json", `[1]`, `parsing JSON`, nil},
		{"null doc", "jpserver-5.json", `null`, `not an object`, nil},
		{"empty", "jpserver-5.json", ``, `empty`, nil},
		{"bad utf8", "jpserver-5.json", "{\"pid\":5,\"port\":1,\"token\":\"\xff\"}", `UTF-8`, nil},
		{"bad name", "kernel-5.json", `{"pid":5,"port":1}`, `name is not`, nil},
		{"huge", "jpserver-5.json", `{"pid":5,"port":1,"x":"` + strings.Repeat("a", jupyter.MaxRuntimeFileSize) + `"}`, `too large`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jupyter.ParseRuntimeFile("/r/"+tt.file, []byte(tt.data))
			if tt.wantErr != "" {
				var fe *jupyter.FileError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) || fe.File != "/r/"+tt.file {
					t.Fatalf("err = %v, want *FileError for /r/%s containing %q", err, tt.file, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.check != nil {
				if msg := tt.check(got); msg != "" {
					t.Errorf("got %+v: %s", got, msg)
				}
			}
		})
	}
}
