package sshclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// AuthError reports that the server accepted none of the credentials tried.
// It is built from the client's authentication state, not from the text of
// an error.
type AuthError struct {
	User  string
	Addr  string
	Tried []string // what was offered: "agent key SHA256:...", "~/.ssh/id_ed25519", "password"...
	// Methods are the authentication methods the server still allowed
	// when the client ran out of credentials ("publickey", "password",
	// "keyboard-interactive"...).
	Methods []string
	// Unusable names each key file that could not be offered and why:
	// "key file PATH does not exist", "key file PATH: the key is encrypted
	// and ...". OpenSSH's default key files that do not exist are left out.
	Unusable []string
	Err      error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("authenticating as %s to %s: ", e.User, e.Addr)
	if len(e.Unusable) > 0 {
		msg += strings.Join(e.Unusable, "; ") + "; "
	}
	if len(e.Tried) == 0 {
		return msg + fmt.Sprintf("no credential to offer: %v", e.Err)
	}
	return msg + fmt.Sprintf("no credential was accepted (tried %s): %v", strings.Join(e.Tried, ", "), e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

type authState struct {
	ctx   context.Context
	h     *hostconf.Host
	o     Options
	user  string
	guard *guard
	tried []string
	// agentConn is the agent connection opened for this handshake.
	agentConn net.Conn
	// unusable says which key files could not be offered, and why.
	unusable []string

	// offered names the methods of methods(), as the protocol does.
	offered []string
	// allowed is what the server allowed after the last attempt, and
	// exhausted says that none of the offered methods was left to try
	// then: the handshake ends in an authentication failure.
	allowed   []string
	exhausted bool
	// promptErr is the last error a prompt returned (a cancelled prompt
	// ends the handshake with it; that is no authentication failure).
	promptErr error
}

// next is the ssh.ClientConfig's AuthCallback: it records the server's
// answer after each attempt and leaves the choice of the next method to
// the library (which takes the first offered method that is allowed and
// not yet tried, exactly as computed here).
func (a *authState) next(c *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	a.allowed = c.AllowedMethods
	a.exhausted = true
	for _, m := range a.offered {
		if slices.Contains(c.AllowedMethods, m) && !slices.Contains(c.TriedMethods, m) {
			a.exhausted = false
		}
	}
	return nil, nil
}

// failure returns the AuthError for a handshake that ended with err, or
// nil when err is no authentication failure.
func (a *authState) failure(addr string, err error) error {
	if !a.exhausted || (a.promptErr != nil && errors.Is(err, a.promptErr)) {
		return nil
	}
	return &AuthError{User: a.user, Addr: addr, Tried: a.tried, Methods: a.allowed, Unusable: a.unusable, Err: err}
}

func (a *authState) methods() []ssh.AuthMethod {
	m := []ssh.AuthMethod{ssh.PublicKeysCallback(a.signers)}
	a.offered = []string{"publickey"}
	if a.o.Prompter == nil {
		return m
	}
	if a.h.KbdInteractiveAuthentication == nil || *a.h.KbdInteractiveAuthentication {
		m = append(m, ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			if len(questions) == 0 {
				return nil, nil
			}
			a.tried = append(a.tried, "keyboard-interactive")
			var answers []string
			err := a.guard.pause(func() error {
				var err error
				answers, err = a.o.Prompter.Challenge(a.ctx, a.user, a.h.HostName, strings.TrimSpace(name+"\n"+instruction), questions, echos)
				return err
			})
			if err != nil {
				a.promptErr = err
			}
			return answers, err
		}))
		a.offered = append(a.offered, "keyboard-interactive")
	}
	if a.h.PasswordAuthentication == nil || *a.h.PasswordAuthentication {
		m = append(m, ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			a.tried = append(a.tried, "password")
			var pw string
			err := a.guard.pause(func() error {
				var err error
				pw, err = a.o.Prompter.Password(a.ctx, a.user, a.h.HostName)
				return err
			})
			if err != nil {
				a.promptErr = err
			}
			return pw, err
		}), 3))
		a.offered = append(a.offered, "password")
	}
	return m
}

// signers lists agent keys first, then identity files, as OpenSSH does.
// Encrypted keys are decrypted only when the server accepts their public half.
func (a *authState) signers() ([]ssh.Signer, error) {
	var files []ssh.Signer
	var filePubs [][]byte
	for _, path := range a.h.IdentityFiles {
		s, err := a.identity(path)
		if err != nil {
			a.o.logf("skipping identity file %s: %v", path, err)
			a.unusable = append(a.unusable, fmt.Sprintf("key file %s: %v", path, err))
			continue
		}
		if s == nil {
			if !isDefaultIdentity(path) {
				a.unusable = append(a.unusable, fmt.Sprintf("key file %s does not exist", path))
			}
			continue
		}
		files = append(files, s)
		filePubs = append(filePubs, s.PublicKey().Marshal())
	}
	var out []ssh.Signer
	seen := map[string]bool{}
	for _, s := range a.agentSigners() {
		pub := s.PublicKey().Marshal()
		if a.h.IdentitiesOnly && !containsBytes(filePubs, pub) {
			continue
		}
		seen[string(pub)] = true
		a.tried = append(a.tried, "agent key "+ssh.FingerprintSHA256(s.PublicKey()))
		out = append(out, s)
	}
	for i, s := range files {
		if seen[string(filePubs[i])] {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

func (a *authState) agentSigners() []ssh.Signer {
	sock := a.h.IdentityAgent
	switch sock {
	case "none":
		return nil
	case "", "SSH_AUTH_SOCK":
		sock = a.o.getenv("SSH_AUTH_SOCK")
	}
	if sock == "" {
		sock = defaultAgent
	}
	if sock == "" {
		return nil
	}
	conn, err := dialAgent(a.ctx, sock)
	if err != nil {
		a.o.logf("not using the agent at %s: %v", sock, err)
		if sock == "pageant" {
			// A PuTTY session's keys are usually in Pageant: say so.
			a.unusable = append(a.unusable, err.Error())
		}
		return nil
	}
	ag := agent.NewClient(conn)
	stop := closeAfter(conn, 5*time.Second)
	signers, err := ag.Signers()
	stop()
	if err != nil {
		conn.Close()
		a.o.logf("not using the agent at %s: %v", sock, err)
		return nil
	}
	// The agent connection stays open for signing during authentication;
	// handshake closes it when authentication is over.
	a.agentConn = conn
	return signers
}

// isDefaultIdentity reports whether path is one of the key files OpenSSH
// tries when no IdentityFile is set (~/.ssh/id_rsa, ...): their absence is
// normal.
func isDefaultIdentity(path string) bool {
	switch filepath.Base(path) {
	case "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa":
		return filepath.Base(filepath.Dir(path)) == ".ssh"
	}
	return false
}

// identity loads one identity file. It returns nil, nil for a file that
// does not exist.
func (a *authState) identity(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.ToLower(path), ".ppk") {
		return a.ppkIdentity(path, data)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		a.tried = append(a.tried, path)
		return withCert(path, s), nil
	case errors.As(err, &missing):
		pub := missing.PublicKey
		if pub == nil {
			pub = readPub(path + ".pub")
		}
		if pub == nil {
			return nil, fmt.Errorf("the key is encrypted and %s.pub is missing", path)
		}
		if a.o.Prompter == nil {
			return nil, errors.New("the key is encrypted and no prompt is possible here (add it to your agent: ssh-add " + path + ")")
		}
		a.tried = append(a.tried, path)
		return withCert(path, &lazySigner{pub: pub, load: func() (ssh.Signer, error) {
			var s ssh.Signer
			err := a.guard.pause(func() error {
				for try := 0; try < 3; try++ {
					pass, err := a.o.Prompter.Passphrase(a.ctx, path)
					if err != nil {
						return err
					}
					s, err = ssh.ParsePrivateKeyWithPassphrase(data, pass)
					if err == nil {
						return nil
					}
					if !errors.Is(err, x509.IncorrectPasswordError) {
						return err
					}
					a.o.logf("bad passphrase for %s", path)
				}
				return fmt.Errorf("no correct passphrase for %s", path)
			})
			return s, err
		}}), nil
	default:
		return nil, err
	}
}

func (a *authState) ppkIdentity(path string, data []byte) (ssh.Signer, error) {
	if a.o.LoadPPK == nil {
		return nil, errors.New("PuTTY keys are not supported here")
	}
	s, err := a.o.LoadPPK(data, func() ([]byte, error) {
		if a.o.Prompter == nil {
			return nil, errors.New("the key is encrypted and no prompt is possible here (load it into your agent or Pageant)")
		}
		var pass []byte
		err := a.guard.pause(func() error {
			var err error
			pass, err = a.o.Prompter.Passphrase(a.ctx, path)
			return err
		})
		return pass, err
	})
	if err != nil {
		return nil, err
	}
	a.tried = append(a.tried, path)
	return s, nil
}

func readPub(path string) ssh.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	return pub
}

// withCert pairs s with the OpenSSH certificate beside its file, if any.
func withCert(path string, s ssh.Signer) ssh.Signer {
	pub := readPub(path + "-cert.pub")
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return s
	}
	cs, err := ssh.NewCertSigner(cert, s)
	if err != nil {
		return s
	}
	return cs
}

// lazySigner knows its public key up front and decrypts the private key the
// first time it must sign, so a passphrase is asked only for a key the
// server accepts.
type lazySigner struct {
	pub  ssh.PublicKey
	load func() (ssh.Signer, error)
	mu   sync.Mutex
	s    ssh.Signer
	err  error
}

func (l *lazySigner) PublicKey() ssh.PublicKey { return l.pub }

func (l *lazySigner) signer() (ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s == nil && l.err == nil {
		l.s, l.err = l.load()
	}
	return l.s, l.err
}

func (l *lazySigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := l.signer()
	if err != nil {
		return nil, err
	}
	return s.Sign(rand, data)
}

func (l *lazySigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := l.signer()
	if err != nil {
		return nil, err
	}
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand, data, algorithm)
	}
	return s.Sign(rand, data)
}

func (l *lazySigner) Algorithms() []string {
	switch l.pub.Type() {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	default:
		return []string{l.pub.Type()}
	}
}
