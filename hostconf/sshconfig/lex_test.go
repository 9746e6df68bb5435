package sshconfig_test

import (
	"reflect"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line    string
		keyword string
		args    []string
		ok      bool
	}{
		{"Host a b", "host", []string{"a", "b"}, true},
		{"  HostName=h.example", "hostname", []string{"h.example"}, true},
		{"Port = 22", "port", []string{"22"}, true},
		{"Port= 22", "port", []string{"22"}, true},
		{"Port =22", "port", []string{"22"}, true},
		{"Port==22", "port", []string{"=22"}, true},
		{"\tUser\t\"quoted user\"\t", "user", []string{"quoted user"}, true},
		{"User 'single quoted'", "user", []string{"single quoted"}, true},
		{`IdentityFile a\ b`, "identityfile", []string{"a b"}, true},
		{`IdentityFile "a\"b"`, "identityfile", []string{`a"b`}, true},
		{`IdentityFile a\x`, "identityfile", []string{`a\x`}, true},
		{"User a#b # comment", "user", []string{"a#b"}, true},
		{`Host "lab"`, "host", []string{"lab"}, true},
		{`Host ""`, "host", []string{""}, true},
		{"HOST x\r", "host", []string{"x"}, true},
		{"Host x\f", "host", []string{"x"}, true},
		{"Host x\x00 y", "host", []string{"x"}, true},
		{"# comment", "", nil, false},
		{"", "", nil, false},
		{"   ", "", nil, false},
		{"User", "", nil, false},        // no argument
		{"User \"open", "", nil, false}, // invalid quotes
		{"\"Host\" quoted", "host", []string{"quoted"}, true},
	}
	for _, tt := range tests {
		kw, args, ok := sshconfig.SplitLine(tt.line)
		if kw != tt.keyword || !reflect.DeepEqual(args, tt.args) || ok != tt.ok {
			t.Errorf("SplitLine(%q) = %q %q %v, want %q %q %v", tt.line, kw, args, ok, tt.keyword, tt.args, tt.ok)
		}
	}
}

func TestTokensExpand(t *testing.T) {
	tok := sshconfig.Tokens{Home: "/home/u", HostName: "h.example", Port: 2222, RemoteUser: "r", LocalUser: "u",
		Original: "h", LocalHost: "laptop.lan", UID: "1000"}
	env := map[string]string{"D": "/srv/%h", "E": "e"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		in, allowed, want string
		bad               bool
	}{
		{"%d/%h-%p-%r-%u-%n-%l-%L-%i-%k-%%", sshconfig.TokensDefault, "/home/u/h.example-2222-r-u-h-laptop.lan-laptop-1000-h-%", false},
		{"${D}/x-%h", sshconfig.TokensDefault, "/srv/%h/x-h.example", false}, // one pass: the value is not expanded again
		{"%h", sshconfig.TokensHostName, "h.example", false},
		{"%p", sshconfig.TokensHostName, "", true},
		{"%z", sshconfig.TokensDefault, "", true},
		{"a%", sshconfig.TokensDefault, "", true},
		{"${NOPE}", sshconfig.TokensDefault, "", true},
		{"${E", sshconfig.TokensDefault, "", true},
		{"${}", sshconfig.TokensDefault, "", true},
	}
	for _, tt := range tests {
		got, err := tok.Expand(tt.in, tt.allowed, getenv)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
	if c := tok.ConnHash(); len(c) != 40 {
		t.Errorf("ConnHash = %q, want 40 hex digits", c)
	}
}
