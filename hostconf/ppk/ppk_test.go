package ppk_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf/ppk"
)

// The keys under testdata were made by puttygen 0.78 (see testdata/README);
// NAME.pub is `puttygen NAME.ppk -L` output.
const passphrase = "correct horse"

func pass(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

func readPub(t *testing.T, path string) (ssh.PublicKey, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return pub, comment
}

func TestParseRealKeys(t *testing.T) {
	files, err := filepath.Glob("testdata/*.ppk")
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 test keys, got %d (%v)", len(files), err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".ppk")
		if strings.HasSuffix(name, "argon2d") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			k, err := ppk.ParseKey(data, func() ([]byte, error) { calls++; return []byte(passphrase), nil })
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			wantEnc := strings.Contains(name, "enc") || strings.Contains(name, "argon2")
			if k.Encrypted != wantEnc {
				t.Errorf("Encrypted = %v, want %v", k.Encrypted, wantEnc)
			}
			if wantCalls := map[bool]int{true: 1, false: 0}[wantEnc]; calls != wantCalls {
				t.Errorf("passphrase asked %d times, want %d", calls, wantCalls)
			}
			wantPub, wantComment := readPub(t, strings.TrimSuffix(path, ".ppk")+".pub")
			if got := k.Signer().PublicKey().Marshal(); !bytes.Equal(got, wantPub.Marshal()) {
				t.Errorf("signer public key = %s, want %s (puttygen -L)", ssh.FingerprintSHA256(k.Signer().PublicKey()), ssh.FingerprintSHA256(wantPub))
			}
			if k.Comment != wantComment {
				t.Errorf("Comment = %q, want %q", k.Comment, wantComment)
			}
			if !strings.Contains(name, "-v"+string(rune('0'+k.Version))) {
				t.Errorf("Version = %d for %s", k.Version, name)
			}
			msg := []byte("nbtunnel signs this")
			algs := []string{""}
			if k.Algorithm == ssh.KeyAlgoRSA {
				algs = []string{ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512}
			}
			for _, alg := range algs {
				var sig *ssh.Signature
				if alg == "" {
					sig, err = k.Signer().Sign(rand.Reader, msg)
				} else {
					sig, err = k.Signer().(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, msg, alg)
				}
				if err != nil {
					t.Fatalf("Sign(%q): %v", alg, err)
				}
				if err := wantPub.Verify(msg, sig); err != nil {
					t.Errorf("signature %q does not verify with puttygen's public key: %v", alg, err)
				}
			}
			gotPub, gotComment, err := ppk.ParsePublicKey(data)
			if err != nil || !bytes.Equal(gotPub.Marshal(), wantPub.Marshal()) || gotComment != wantComment {
				t.Errorf("ParsePublicKey = %v, %q, %v; want the puttygen key, %q", gotPub, gotComment, err, wantComment)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tamper := func(data []byte, old, new string) []byte {
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("test data lacks %q", old)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		data []byte
		pass func() ([]byte, error)
		want error
	}{
		{"v3 wrong passphrase", read("ed25519-v3-enc.ppk"), pass("wrong"), ppk.ErrBadPassphrase},
		{"v2 wrong passphrase", read("rsa-v2-enc.ppk"), pass("wrong"), ppk.ErrBadPassphrase},
		{"no passphrase func", read("ecdsa256-v3-enc.ppk"), nil, ppk.ErrPassphraseRequired},
		{"v3 comment changed", tamper(read("ed25519-v3.ppk"), "Comment: test", "Comment: Test"), nil, ppk.ErrMAC},
		{"v2 comment changed", tamper(read("ecdsa384-v2.ppk"), "Comment: test", "Comment: Test"), nil, ppk.ErrMAC},
		{"v2 encryption stripped", tamper(read("ed25519-v2-enc.ppk"), "Encryption: aes256-cbc", "Encryption: none"), nil, ppk.ErrMAC},
		{"argon2d", read("ed25519-v3-argon2d.ppk"), pass(passphrase), ppk.ErrUnsupported},
		{"version 1", tamper(read("rsa-v2.ppk"), "File-2", "File-1"), nil, ppk.ErrUnsupported},
		{"version 4", tamper(read("rsa-v3.ppk"), "File-3", "File-4"), nil, ppk.ErrUnsupported},
		{"dss", []byte("PuTTY-User-Key-File-3: ssh-dss\n"), nil, ppk.ErrUnsupported},
		{"huge argon2 memory", tamper(read("ed25519-v3-enc.ppk"), "Argon2-Memory: 8192", "Argon2-Memory: 4000000000"), pass(passphrase), ppk.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ppk.Parse(tt.data, tt.pass)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse: got error %v, want %v", err, tt.want)
			}
		})
	}

	wantErr := errors.New("no terminal")
	_, err := ppk.Parse(read("ed25519-v3-enc.ppk"), func() ([]byte, error) { return nil, wantErr })
	if !errors.Is(err, wantErr) {
		t.Errorf("passphrase func error: got %v, want it wrapped", err)
	}
	for _, bad := range []string{"", "hello", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "-----BEGIN OPENSSH PRIVATE KEY-----\n"} {
		if _, err := ppk.Parse([]byte(bad), nil); err == nil {
			t.Errorf("Parse(%q): got no error", bad)
		}
	}
}

func TestCRLF(t *testing.T) {
	data, err := os.ReadFile("testdata/ecdsa521-v3.ppk")
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	if _, err := ppk.Parse(crlf, nil); err != nil {
		t.Errorf("Parse of a CRLF file: %v", err)
	}
}

func FuzzPPK(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ppk")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err == nil && !bytes.Contains(data, []byte("Argon2")) {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keep Argon2 out of the loop: it is slow by design.
		pf := pass(passphrase)
		if bytes.Contains(data, []byte("Key-Derivation")) {
			pf = func() ([]byte, error) { return nil, errors.New("no") }
		}
		k, err := ppk.ParseKey(data, pf)
		if err == nil && k.Signer() == nil {
			t.Fatal("no error and no signer")
		}
		ppk.ParsePublicKey(data)
	})
}
