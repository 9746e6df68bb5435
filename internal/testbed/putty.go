package testbed

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PuTTYKey converts ClientKey to a PuTTY private key file (PPK format version 2 or 3) with puttygen and returns
// its path in Dir. A non-empty passphrase encrypts it. Each call writes a new file.
func (b *Bed) PuTTYKey(ctx context.Context, version int, passphrase string) (string, error) {
	if version != 2 && version != 3 {
		return "", fmt.Errorf("making a PuTTY key: version %d, want 2 or 3", version)
	}
	b.mu.Lock()
	b.nppk++
	n := b.nppk
	b.mu.Unlock()
	out := filepath.Join(b.Dir, fmt.Sprintf("client-%d-v%d.ppk", n, version))
	args := []string{b.ClientKey, "-O", "private", "-o", out, "--ppk-param", fmt.Sprintf("version=%d", version)}
	if passphrase != "" {
		ppFile := filepath.Join(b.Dir, fmt.Sprintf("client-%d.passphrase", n))
		if err := os.WriteFile(ppFile, []byte(passphrase+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("making a PuTTY key: writing %s: %w", ppFile, err)
		}
		defer os.Remove(ppFile)
		args = append(args, "--new-passphrase", ppFile)
	}
	if _, err := commandIn(ctx, []string{"HOME=" + b.Dir, "PUTTYDIR=" + filepath.Join(b.Dir, "putty"), "PATH=/usr/bin:/bin"}, b.Dir, []byte{}, "puttygen", args...); err != nil {
		return "", fmt.Errorf("making a PuTTY key from %s: %w", b.ClientKey, err)
	}
	return out, nil
}

// PuTTYHostKey returns the host's PuTTY host-key cache entry: the key ("ssh-ed25519@22:10.213.1.2") and the
// value ("0xX,0xY") as PuTTY stores them in ~/.putty/sshhostkeys (one "KEY VALUE" line, see WritePuTTYHostKeys) or in the Windows
// registry under SshHostKeys.
func (h *Host) PuTTYHostKey() (key, value string, err error) {
	pub, err := h.PublicKey()
	if err != nil {
		return "", "", err
	}
	value, err = puttyEd25519Value(pub)
	if err != nil {
		return "", "", fmt.Errorf("host %q: %w", h.Alias, err)
	}
	return fmt.Sprintf("%s@%d:%s", pub.Type(), h.Port, h.Addr), value, nil
}

// WritePuTTYHostKeys writes (replaces) puttyDir/sshhostkeys with an entry for each of the given hosts, so that
// plink run with PUTTYDIR=puttyDir trusts them. puttyDir is created (mode 0700) if needed.
//
// PuTTY 0.78 on Linux finds its directory through PUTTYDIR, else through the password database's home
// directory (not $HOME): tests must set PUTTYDIR to keep plink away from the real user's ~/.putty.
func WritePuTTYHostKeys(puttyDir string, hosts ...*Host) error {
	if err := os.MkdirAll(puttyDir, 0o700); err != nil {
		return fmt.Errorf("making %s: %w", puttyDir, err)
	}
	var sb strings.Builder
	for _, h := range hosts {
		k, v, err := h.PuTTYHostKey()
		if err != nil {
			return err
		}
		fmt.Fprintf(&sb, "%s %s\n", k, v)
	}
	return writeFileAtomic(filepath.Join(puttyDir, "sshhostkeys"), []byte(sb.String()), 0o600)
}

// puttyEd25519Value renders an ed25519 public key as PuTTY's host key cache does: the affine point's x and y
// as hex integers, "0xX,0xY".
func puttyEd25519Value(pub ssh.PublicKey) (string, error) {
	if pub.Type() != ssh.KeyAlgoED25519 {
		return "", fmt.Errorf("rendering a PuTTY host key: type %s, want ssh-ed25519", pub.Type())
	}
	ck, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return "", errors.New("rendering a PuTTY host key: no crypto key")
	}
	raw, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
	if !ok || len(raw) != ed25519.PublicKeySize {
		return "", errors.New("rendering a PuTTY host key: bad ed25519 key length")
	}
	// Little-endian y with the sign of x in the top bit.
	le := make([]byte, 32)
	copy(le, raw)
	sign := le[31] >> 7
	le[31] &= 0x7f
	be := make([]byte, 32)
	for i := range le {
		be[31-i] = le[i]
	}
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	y := new(big.Int).SetBytes(be)
	// d = -121665 / 121666 mod p
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p))
	d.Mod(d, p)
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, p)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	u.Mod(u, p)
	v := new(big.Int).Mul(d, y2)
	v.Add(v, big.NewInt(1))
	v.Mod(v, p)
	vinv := new(big.Int).ModInverse(v, p)
	if vinv == nil {
		return "", errors.New("rendering a PuTTY host key: not a curve point")
	}
	x2 := new(big.Int).Mul(u, vinv)
	x2.Mod(x2, p)
	x := new(big.Int).ModSqrt(x2, p)
	if x == nil {
		return "", errors.New("rendering a PuTTY host key: not a curve point")
	}
	if uint8(x.Bit(0)) != sign {
		x.Sub(p, x)
		x.Mod(x, p)
	}
	return fmt.Sprintf("0x%x,0x%x", x, y), nil
}
