package jupyter

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// ShellQuote returns s as one POSIX sh word: wrapped in single quotes, with
// each embedded single quote written as '\”. The result is safe for any
// byte string that contains no NUL (sh cannot pass NUL in a word at all).
// Every value this package embeds into a script goes through it.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NewNonce returns a fresh random nonce (32 hex digits) for framing one
// script's output. Use a new one per exec.
func NewNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
