package sshclient

import (
	"errors"
	"testing"
)

func TestProgramOf(t *testing.T) {
	for _, tt := range []struct{ cmdline, want string }{
		{`"C:\Program Files\Git\mingw64\bin\connect.exe" -S 127.0.0.1:7890 host 22`, `C:\Program Files\Git\mingw64\bin\connect.exe`},
		{`C:\tools\relay.exe "Z:\a b\log.txt" host 22`, `C:\tools\relay.exe`},
		{"relay.exe\thost", "relay.exe"},
		{"relay", "relay"},
		{`"unterminated`, "unterminated"},
		{"", ""},
	} {
		if got := programOf(tt.cmdline); got != tt.want {
			t.Errorf("programOf(%q) = %q, want %q", tt.cmdline, got, tt.want)
		}
	}
}

func TestIsDefaultIdentity(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/home/me/.ssh/id_ed25519", true},
		{`C:\Users\me\.ssh\id_rsa`, false}, // a Unix test: '\' is no separator here
		{"/home/me/.ssh/work_key", false},
		{"/home/me/keys/id_rsa", false},
		{"/home/me/lab.ppk", false},
	} {
		if got := isDefaultIdentity(tt.path); got != tt.want {
			t.Errorf("isDefaultIdentity(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestAuthErrorNamesUnusableKeys(t *testing.T) {
	e := &AuthError{User: "u", Addr: "h:22", Unusable: []string{"key file /k.ppk does not exist"}, Err: errTest}
	if got, want := e.Error(), "authenticating as u to h:22: key file /k.ppk does not exist; no credential to offer: test"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	e = &AuthError{User: "u", Addr: "h:22", Tried: []string{"/k"}, Err: errTest}
	if got, want := e.Error(), "authenticating as u to h:22: no credential was accepted (tried /k): test"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

var errTest = errors.New("test")
