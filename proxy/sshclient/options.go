package sshclient

import (
	"context"
	"io"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults applied when the host's config leaves a setting unset.
const (
	// DefaultConnectTimeout bounds the TCP connect and the non-interactive
	// part of the SSH handshake when ConnectTimeout is unset.
	DefaultConnectTimeout = 20 * time.Second
	// DefaultKeepaliveInterval is used when ServerAliveInterval is unset:
	// a dead link is noticed in seconds rather than at the TCP timeout.
	DefaultKeepaliveInterval = 15 * time.Second
	// DefaultKeepaliveCountMax is OpenSSH's ServerAliveCountMax default.
	DefaultKeepaliveCountMax = 3
)

// Prompter asks the user for secrets. A nil Prompter means that nothing may
// be asked: only agent keys and unencrypted identity files are tried. Calls
// come from one goroutine at a time.
type Prompter interface {
	// Passphrase asks for the passphrase of the private key in file.
	Passphrase(ctx context.Context, file string) ([]byte, error)
	// Password asks for the password of user@host.
	Password(ctx context.Context, user, host string) (string, error)
	// Challenge answers one keyboard-interactive round (a 2FA code, say).
	Challenge(ctx context.Context, user, host, instruction string, questions []string, echos []bool) ([]string, error)
}

// Options tune Dial. The zero value is usable.
type Options struct {
	Prompter Prompter
	// Getenv reads the environment (SSH_AUTH_SOCK); nil means no variables.
	Getenv func(string) string
	// Logf receives progress and non-fatal problems; nil discards them.
	Logf func(format string, args ...any)
	// Stderr receives a ProxyCommand's standard error; nil discards it.
	Stderr io.Writer
	// NoMaster ignores an existing ControlMaster socket.
	NoMaster bool
	// MasterOnly rides the ControlMaster socket and never authenticates;
	// Dial fails with ErrNoMaster when there is no usable master.
	MasterOnly bool
	// LoadPPK parses a PuTTY .ppk private key; nil means .ppk identity
	// files are skipped with a message.
	LoadPPK func(data []byte, passphrase func() ([]byte, error)) (ssh.Signer, error)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}
