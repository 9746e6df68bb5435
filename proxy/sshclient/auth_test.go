package sshclient_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/internal/sshtest"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
)

// passwords answers every password prompt from a list, then with err.
type passwords struct {
	answers []string
	err     error
	asked   int
}

func (p *passwords) Passphrase(context.Context, string) ([]byte, error) {
	return nil, errors.New("no passphrase here")
}

func (p *passwords) Password(context.Context, string, string) (string, error) {
	p.asked++
	if len(p.answers) == 0 {
		return "", p.err
	}
	pw := p.answers[0]
	p.answers = p.answers[1:]
	return pw, nil
}

func (p *passwords) Challenge(context.Context, string, string, string, []string, []bool) ([]string, error) {
	return nil, errors.New("no challenge here")
}

// An authentication failure is an *AuthError built from the client's own
// state (what it offered, what the server still allowed); a cancelled
// prompt is not one, and keeps its own error.
func TestDialAuthError(t *testing.T) {
	errCancelled := errors.New("prompt cancelled")
	tests := []struct {
		name        string
		opts        sshtest.Options
		prompter    *passwords
		wantAuth    bool
		wantMethods []string
		wantTried   []string
		wantErr     error
	}{
		{name: "no key for a key-only server", opts: sshtest.Options{}, wantAuth: true, wantMethods: []string{"publickey"}},
		{name: "wrong passwords", opts: sshtest.Options{NoPublicKey: true, Password: "right"},
			prompter: &passwords{answers: []string{"a", "b", "c"}}, wantAuth: true, wantMethods: []string{"password"}, wantTried: []string{"password", "password", "password"}},
		{name: "cancelled prompt", opts: sshtest.Options{NoPublicKey: true, Password: "right"},
			prompter: &passwords{err: errCancelled}, wantErr: errCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshtest.NewServer(t, tt.opts)
			host, port, _ := net.SplitHostPort(srv.Addr)
			p, _ := strconv.Atoi(port)
			h := &hostconf.Host{Alias: "fake", HostName: host, Port: p, User: "test", IdentityAgent: "none",
				HostKeys: sshtest.FixedHostKey{Key: srv.HostKey}}
			o := sshclient.Options{}
			if tt.prompter != nil {
				o.Prompter = tt.prompter
			}
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			c, err := sshclient.Dial(ctx, h, o)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded, want an error")
			}
			var ae *sshclient.AuthError
			if got := errors.As(err, &ae); got != tt.wantAuth {
				t.Fatalf("Dial error %v: is AuthError = %v, want %v", err, got, tt.wantAuth)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Dial error = %v, want it to wrap %v", err, tt.wantErr)
			}
			if ae == nil {
				return
			}
			if !slices.Equal(ae.Methods, tt.wantMethods) {
				t.Errorf("Methods = %q, want %q", ae.Methods, tt.wantMethods)
			}
			if !slices.Equal(ae.Tried, tt.wantTried) {
				t.Errorf("Tried = %q, want %q", ae.Tried, tt.wantTried)
			}
			if ae.User != "test" || ae.Addr != srv.Addr {
				t.Errorf("AuthError names %s at %s, want test at %s", ae.User, ae.Addr, srv.Addr)
			}
		})
	}
}
