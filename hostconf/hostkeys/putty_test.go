package hostkeys_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

func TestPlinkHostKeys(t *testing.T) {
	data, err := os.ReadFile("testdata/plink/sshhostkeys")
	if err != nil {
		t.Fatal(err)
	}
	keys := hostkeys.ParsePuttyHostKeys(data, "sshhostkeys")
	tests := []struct {
		pub   string
		port  int
		algs  []string
		other string // a key file of another type
	}{
		{"hostkey_ed25519.pub", 22871, []string{"ssh-ed25519"}, "hostkey_rsa.pub"},
		{"hostkey_rsa.pub", 22872, []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}, "hostkey_ed25519.pub"},
		{"hostkey_ecdsa.pub", 22873, []string{"ecdsa-sha2-nistp256"}, "hostkey_ecdsa384.pub"},
		{"hostkey_ecdsa384.pub", 22874, []string{"ecdsa-sha2-nistp384"}, "hostkey_ecdsa.pub"},
		{"hostkey_ecdsa521.pub", 22875, []string{"ecdsa-sha2-nistp521"}, "hostkey_ecdsa.pub"},
	}
	readPub := func(name string) ssh.PublicKey {
		b, err := os.ReadFile(filepath.Join("testdata/plink", name))
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	for _, tt := range tests {
		t.Run(tt.pub, func(t *testing.T) {
			key := readPub(tt.pub)
			addr.Port = tt.port
			dialed := fmt.Sprintf("127.0.0.1:%d", tt.port)
			if err := keys.Callback("127.0.0.1")(dialed, addr, key); err != nil {
				t.Errorf("the key plink cached is refused: %v", err)
			}
			if got := keys.Algorithms(dialed); len(got) <= len(tt.algs) || !reflect.DeepEqual(got[:len(tt.algs)], tt.algs) {
				t.Errorf("Algorithms = %q, want %q first, then the other types", got, tt.algs)
			}
			// As plink 0.78 says: "The host key is not cached for this server".
			var herr *hostkeys.KeyError
			err := keys.Callback("127.0.0.1")(dialed, addr, readPub(tt.other))
			if !errors.As(err, &herr) || herr.Problem != hostkeys.KeyUnknown || herr.File != "sshhostkeys" || len(herr.Cached) != 1 ||
				!strings.Contains(err.Error(), "not cached for its type") {
				t.Errorf("another key type: got %v, want KeyUnknown naming the file and the cached type", err)
			}
			err = keys.Callback("127.0.0.1")("127.0.0.1:1", nil, key)
			if !errors.As(err, &herr) || herr.Problem != hostkeys.KeyUnknown || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("other port: got %v, want KeyUnknown", err)
			}
		})
	}
}

func TestPuttyHostKeysChanged(t *testing.T) {
	plink, _ := os.ReadFile("testdata/plink/sshhostkeys")
	b, _ := os.ReadFile("testdata/plink/hostkey_ed25519.pub")
	key, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	// Same type, different value on the port the ed25519 key was cached for.
	changed := strings.Replace(string(plink), "ssh-ed25519@22871:127.0.0.1 0x1", "ssh-ed25519@22871:127.0.0.1 0x2", 1)
	keys := hostkeys.ParsePuttyHostKeys([]byte(changed), "f")
	var herr *hostkeys.KeyError
	err = keys.Callback("127.0.0.1:22871")("127.0.0.1:22871", nil, key)
	if !errors.As(err, &herr) || herr.Problem != hostkeys.KeyChanged || herr.Line != 1 {
		t.Errorf("changed key: got %v, want KeyChanged at line 1", err)
	}
}

func FuzzPuttyHostKeys(f *testing.F) {
	data, _ := os.ReadFile("testdata/plink/sshhostkeys")
	f.Add(string(data), "127.0.0.1:22871")
	f.Add("rsa2@22:h 0x10001,0xff\nssh-ed448@22:h 0x1,0x2\ndss@22:h 0x1,0x2,0x3,0x4\n", "h")
	f.Fuzz(func(t *testing.T, text, host string) {
		keys := hostkeys.ParsePuttyHostKeys([]byte(text), "f")
		keys.Algorithms(host)
		b, _ := os.ReadFile("testdata/plink/hostkey_ed25519.pub")
		k, _, _, _, _ := ssh.ParseAuthorizedKey(b)
		if k != nil {
			keys.Callback(host)("127.0.0.1:22", nil, k)
		}
	})
}
