// Package ppk reads PuTTY private key files (.ppk), format versions 2 and 3,
// holding ssh-rsa, ecdsa-sha2-nistp256/384/521 or ssh-ed25519 keys,
// unencrypted or encrypted with aes256-cbc.
//
// The file's MAC is always verified, also for unencrypted files, so a file
// that was changed by hand is refused with ErrMAC. For an encrypted file a
// MAC mismatch cannot be told apart from a wrong passphrase and is reported
// as ErrBadPassphrase.
//
// Version 3 files derive their keys with Argon2; Argon2id (puttygen's
// default) and Argon2i are supported, Argon2d is not (ErrUnsupported).
package ppk

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/ssh"
)

var (
	// ErrBadPassphrase: the passphrase does not decrypt the key (or the
	// encrypted file was changed; the two cannot be told apart).
	ErrBadPassphrase = errors.New("ppk: wrong passphrase")
	// ErrMAC: an unencrypted key file fails its integrity check: it was
	// changed after puttygen wrote it.
	ErrMAC = errors.New("ppk: MAC check failed: the key file was modified or is corrupt")
	// ErrPassphraseRequired: the key is encrypted and no passphrase
	// function was given.
	ErrPassphraseRequired = errors.New("ppk: key is encrypted and no passphrase was given")
	// ErrUnsupported: a valid file using something this package does not
	// implement (format version 1 or newer than 3, Argon2d, DSA, Ed448,
	// another cipher).
	ErrUnsupported = errors.New("ppk: unsupported")
)

// Limits on what a file may ask of us, so that a hostile file cannot make
// the key derivation take unbounded memory or time.
const (
	maxArgon2MemoryKiB = 1 << 20 // 1 GiB
	maxArgon2Passes    = 1 << 12
	maxLines           = 1 << 12
)

// Key is a decoded PuTTY private key.
type Key struct {
	// Version is the file format version, 2 or 3.
	Version int
	// Algorithm is the key type named in the file, e.g. "ssh-ed25519".
	Algorithm string
	// Comment is the key's comment line.
	Comment string
	// Encrypted reports whether the file was passphrase protected.
	Encrypted bool
	// PublicKey is the public half, as in the file.
	PublicKey ssh.PublicKey

	signer ssh.Signer
}

// Signer returns an ssh.Signer for the private key. For RSA keys the signer
// is an ssh.AlgorithmSigner that also signs with rsa-sha2-256/512.
func (k *Key) Signer() ssh.Signer { return k.signer }

// Parse decodes a .ppk file and returns a signer for its private key; see
// ParseKey.
func Parse(data []byte, passphrase func() ([]byte, error)) (ssh.Signer, error) {
	k, err := ParseKey(data, passphrase)
	if err != nil {
		return nil, err
	}
	return k.signer, nil
}

// ParseKey decodes a .ppk file. passphrase is called at most once, and only
// when the file is encrypted; it may be nil when the caller has no way to
// ask (an encrypted key then gives ErrPassphraseRequired). An error it
// returns is passed back wrapped.
func ParseKey(data []byte, passphrase func() ([]byte, error)) (*Key, error) {
	f, err := parseFile(data)
	if err != nil {
		return nil, err
	}
	pub, err := ssh.ParsePublicKey(f.public)
	if err != nil {
		return nil, fmt.Errorf("ppk: parsing public key: %w", err)
	}
	if pub.Type() != f.algorithm {
		return nil, fmt.Errorf("ppk: header says %s but the public key is %s", f.algorithm, pub.Type())
	}
	var pass []byte
	if f.encrypted() {
		if passphrase == nil {
			return nil, ErrPassphraseRequired
		}
		pass, err = passphrase()
		if err != nil {
			return nil, fmt.Errorf("ppk: reading passphrase: %w", err)
		}
	}
	cipherKey, iv, macKey, err := f.deriveKeys(pass)
	if err != nil {
		return nil, err
	}
	priv := bytes.Clone(f.private)
	if f.encrypted() {
		if len(priv)%aes.BlockSize != 0 {
			return nil, errors.New("ppk: private blob is not a whole number of cipher blocks")
		}
		block, err := aes.NewCipher(cipherKey)
		if err != nil {
			return nil, fmt.Errorf("ppk: %w", err)
		}
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(priv, priv)
	}
	if !f.macOK(macKey, priv) {
		if f.encrypted() {
			return nil, ErrBadPassphrase
		}
		return nil, ErrMAC
	}
	signer, err := privateKey(pub, priv)
	if err != nil {
		return nil, err
	}
	return &Key{
		Version:   f.version,
		Algorithm: f.algorithm,
		Comment:   f.comment,
		Encrypted: f.encrypted(),
		PublicKey: pub,
		signer:    signer,
	}, nil
}

// ParsePublicKey returns the public key and comment of a .ppk file without
// asking for a passphrase or checking the MAC (which needs the passphrase
// for an encrypted file).
func ParsePublicKey(data []byte) (ssh.PublicKey, string, error) {
	f, err := parseFile(data)
	if err != nil {
		return nil, "", err
	}
	pub, err := ssh.ParsePublicKey(f.public)
	if err != nil {
		return nil, "", fmt.Errorf("ppk: parsing public key: %w", err)
	}
	return pub, f.comment, nil
}

// file is the text structure of a .ppk file.
type file struct {
	version    int
	algorithm  string
	encryption string
	comment    string
	public     []byte
	private    []byte
	mac        []byte

	kdf         string
	memory      uint32
	passes      uint32
	parallelism uint32
	salt        []byte
}

func (f *file) encrypted() bool { return f.encryption != "none" }

// lineReader yields the lines of a file without their line ending.
type lineReader struct {
	s *bufio.Scanner
	n int
}

func (r *lineReader) next() (string, bool) {
	if !r.s.Scan() {
		return "", false
	}
	r.n++
	return strings.TrimRight(r.s.Text(), "\r"), true
}

// header reads a "Name: value" line and checks the name.
func (r *lineReader) header(name string) (string, error) {
	line, ok := r.next()
	if !ok {
		return "", fmt.Errorf("ppk: line %d: want %q header, file ends", r.n+1, name)
	}
	got, value, ok := strings.Cut(line, ": ")
	if !ok || got != name {
		return "", fmt.Errorf("ppk: line %d: want %q header", r.n, name)
	}
	return value, nil
}

func (r *lineReader) uint32Header(name string) (uint32, error) {
	v, err := r.header(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("ppk: line %d: %s: %w", r.n, name, err)
	}
	return uint32(n), nil
}

// blob reads a "Name-Lines: N" header and N lines of base64.
func (r *lineReader) blob(name string) ([]byte, error) {
	n, err := r.uint32Header(name)
	if err != nil {
		return nil, err
	}
	if n > maxLines {
		return nil, fmt.Errorf("ppk: line %d: %s: %d lines is too many", r.n, name, n)
	}
	var b64 strings.Builder
	for i := uint32(0); i < n; i++ {
		line, ok := r.next()
		if !ok {
			return nil, fmt.Errorf("ppk: line %d: file ends inside %s", r.n+1, name)
		}
		b64.WriteString(line)
	}
	data, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, fmt.Errorf("ppk: line %d: %s: %w", r.n, name, err)
	}
	return data, nil
}

func parseFile(data []byte) (*file, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	r := &lineReader{s: sc}
	first, ok := r.next()
	if !ok {
		return nil, errors.New("ppk: empty file")
	}
	name, alg, ok := strings.Cut(first, ": ")
	f := &file{algorithm: alg}
	switch {
	case ok && name == "PuTTY-User-Key-File-2":
		f.version = 2
	case ok && name == "PuTTY-User-Key-File-3":
		f.version = 3
	case strings.HasPrefix(name, "PuTTY-User-Key-File-"):
		return nil, fmt.Errorf("%w: PuTTY key format %q (convert it with a current puttygen)", ErrUnsupported, strings.TrimPrefix(name, "PuTTY-User-Key-File-"))
	default:
		return nil, errors.New("ppk: not a PuTTY private key file")
	}
	switch alg {
	case ssh.KeyAlgoRSA, ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
	default:
		return nil, fmt.Errorf("%w: key type %q", ErrUnsupported, alg)
	}
	var err error
	if f.encryption, err = r.header("Encryption"); err != nil {
		return nil, err
	}
	switch f.encryption {
	case "none", "aes256-cbc":
	default:
		return nil, fmt.Errorf("%w: encryption %q", ErrUnsupported, f.encryption)
	}
	if f.comment, err = r.header("Comment"); err != nil {
		return nil, err
	}
	if f.public, err = r.blob("Public-Lines"); err != nil {
		return nil, err
	}
	if f.version == 3 && f.encrypted() {
		if f.kdf, err = r.header("Key-Derivation"); err != nil {
			return nil, err
		}
		switch f.kdf {
		case "Argon2id", "Argon2i":
		case "Argon2d":
			return nil, fmt.Errorf("%w: key derivation Argon2d (re-save the key with puttygen --ppk-param kdf=argon2id)", ErrUnsupported)
		default:
			return nil, fmt.Errorf("ppk: line %d: unknown key derivation %q", r.n, f.kdf)
		}
		if f.memory, err = r.uint32Header("Argon2-Memory"); err != nil {
			return nil, err
		}
		if f.passes, err = r.uint32Header("Argon2-Passes"); err != nil {
			return nil, err
		}
		if f.parallelism, err = r.uint32Header("Argon2-Parallelism"); err != nil {
			return nil, err
		}
		salt, err := r.header("Argon2-Salt")
		if err != nil {
			return nil, err
		}
		if f.salt, err = hex.DecodeString(salt); err != nil {
			return nil, fmt.Errorf("ppk: line %d: Argon2-Salt: %w", r.n, err)
		}
		if f.memory > maxArgon2MemoryKiB || f.passes > maxArgon2Passes || f.passes == 0 ||
			f.parallelism == 0 || f.parallelism > 255 || f.memory < 8*f.parallelism {
			return nil, fmt.Errorf("%w: Argon2 parameters memory=%d passes=%d parallelism=%d", ErrUnsupported, f.memory, f.passes, f.parallelism)
		}
	}
	if f.private, err = r.blob("Private-Lines"); err != nil {
		return nil, err
	}
	mac, err := r.header("Private-MAC")
	if err != nil {
		return nil, err
	}
	if f.mac, err = hex.DecodeString(mac); err != nil {
		return nil, fmt.Errorf("ppk: line %d: Private-MAC: %w", r.n, err)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ppk: %w", err)
	}
	return f, nil
}

// deriveKeys returns the AES key, IV and MAC key for passphrase.
func (f *file) deriveKeys(pass []byte) (cipherKey, iv, macKey []byte, err error) {
	if f.version == 2 {
		if f.encrypted() {
			var k []byte
			for ctr := uint32(0); len(k) < 32; ctr++ {
				h := sha1.New()
				binary.Write(h, binary.BigEndian, ctr)
				h.Write(pass)
				k = h.Sum(k)
			}
			cipherKey, iv = k[:32], make([]byte, aes.BlockSize)
		}
		h := sha1.New()
		h.Write([]byte("putty-private-key-file-mac-key"))
		h.Write(pass)
		return cipherKey, iv, h.Sum(nil), nil
	}
	if !f.encrypted() {
		return nil, nil, nil, nil
	}
	const n = 32 + aes.BlockSize + 32
	var out []byte
	switch f.kdf {
	case "Argon2id":
		out = argon2.IDKey(pass, f.salt, f.passes, f.memory, uint8(f.parallelism), n)
	case "Argon2i":
		out = argon2.Key(pass, f.salt, f.passes, f.memory, uint8(f.parallelism), n)
	default:
		return nil, nil, nil, fmt.Errorf("%w: key derivation %q", ErrUnsupported, f.kdf)
	}
	return out[:32], out[32 : 32+aes.BlockSize], out[32+aes.BlockSize:], nil
}

// macOK checks the Private-MAC over the decrypted private blob.
func (f *file) macOK(key, priv []byte) bool {
	var h func() hash.Hash = sha256.New
	if f.version == 2 {
		h = sha1.New
	}
	m := hmac.New(h, key)
	for _, s := range [][]byte{[]byte(f.algorithm), []byte(f.encryption), []byte(f.comment), f.public, priv} {
		binary.Write(m, binary.BigEndian, uint32(len(s)))
		m.Write(s)
	}
	return subtle.ConstantTimeCompare(m.Sum(nil), f.mac) == 1
}

// reader decodes SSH wire-format fields.
type reader struct{ b []byte }

func (r *reader) string() ([]byte, bool) {
	if len(r.b) < 4 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(r.b)
	if uint64(n) > uint64(len(r.b)-4) {
		return nil, false
	}
	s := r.b[4 : 4+n]
	r.b = r.b[4+n:]
	return s, true
}

func (r *reader) mpint() (*big.Int, bool) {
	s, ok := r.string()
	if !ok || (len(s) > 0 && s[0]&0x80 != 0) {
		return nil, false
	}
	return new(big.Int).SetBytes(s), true
}

// privateKey builds a signer from the decrypted private blob and checks it
// matches pub.
func privateKey(pub ssh.PublicKey, priv []byte) (ssh.Signer, error) {
	cpk, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key type %s", ErrUnsupported, pub.Type())
	}
	r := &reader{b: priv}
	errBlob := fmt.Errorf("ppk: malformed %s private key", pub.Type())
	errMismatch := fmt.Errorf("ppk: %s private key does not match the public key", pub.Type())
	var key any
	switch pk := cpk.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		d, ok1 := r.mpint()
		p, ok2 := r.mpint()
		q, ok3 := r.mpint()
		if !ok1 || !ok2 || !ok3 {
			return nil, errBlob
		}
		k := &rsa.PrivateKey{PublicKey: *pk, D: d, Primes: []*big.Int{p, q}}
		if err := k.Validate(); err != nil {
			return nil, errMismatch
		}
		k.Precompute()
		key = k
	case *ecdsa.PublicKey:
		d, ok := r.mpint()
		if !ok {
			return nil, errBlob
		}
		size := (pk.Curve.Params().BitSize + 7) / 8
		if d.BitLen() > size*8 {
			return nil, errMismatch
		}
		k, err := ecdsa.ParseRawPrivateKey(curveOf(pk), d.FillBytes(make([]byte, size)))
		if err != nil || !k.PublicKey.Equal(pk) {
			return nil, errMismatch
		}
		key = k
	case ed25519.PublicKey:
		s, ok := r.string()
		if !ok || len(s) > ed25519.SeedSize {
			return nil, errBlob
		}
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, s) // little-endian: missing high bytes are zero
		k := ed25519.NewKeyFromSeed(seed)
		if !k.Public().(ed25519.PublicKey).Equal(pk) {
			return nil, errMismatch
		}
		key = k
	default:
		return nil, fmt.Errorf("%w: key type %s", ErrUnsupported, pub.Type())
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("ppk: %w", err)
	}
	return signer, nil
}

func curveOf(pk *ecdsa.PublicKey) elliptic.Curve {
	switch pk.Curve.Params().BitSize {
	case 384:
		return elliptic.P384()
	case 521:
		return elliptic.P521()
	default:
		return elliptic.P256()
	}
}
