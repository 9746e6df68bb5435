// Package pattern matches host names against OpenSSH's wildcard patterns
// (`*` any run of characters, `?` exactly one), the one matcher shared by
// ssh_config Host lines, known_hosts entries and PuTTY's host-key cache.
//
// pattern imports nothing else of this module.
package pattern

import "strings"

// Match reports whether s matches the pattern p, where `*` matches any run
// of bytes (including none) and `?` exactly one byte; every other byte
// matches itself. It never backtracks: p is split at its stars and each
// piece is placed at its leftmost possible position (always correct when
// `*` is the only variable-length wildcard). A piece without `?` is found
// with strings.Index, so such patterns take linear time; a piece with `?`
// is tried at each start, O(len(s)*len(piece)) at worst.
func Match(p, s string) bool {
	pieces := strings.Split(p, "*")
	if len(pieces) == 1 {
		return len(s) == len(p) && pieceAt(s, p)
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if !pieceAt(s, first) {
		return false
	}
	s = s[len(first):]
	for _, piece := range pieces[1 : len(pieces)-1] {
		if piece == "" {
			continue
		}
		i := indexPiece(s, piece)
		if i < 0 {
			return false
		}
		s = s[i+len(piece):]
	}
	return len(s) >= len(last) && pieceAt(s[len(s)-len(last):], last)
}

// pieceAt reports whether s starts with the star-free piece p.
func pieceAt(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '?' && p[i] != s[i] {
			return false
		}
	}
	return true
}

// indexPiece is the leftmost position of the star-free piece p in s, or -1.
func indexPiece(s, p string) int {
	if !strings.Contains(p, "?") {
		return strings.Index(s, p)
	}
	for i := 0; i+len(p) <= len(s); i++ {
		if pieceAt(s[i:], p) {
			return i
		}
	}
	return -1
}
