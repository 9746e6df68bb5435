package sshconfig

import "strings"

// MatchPattern reports whether s matches pattern as OpenSSH's
// match_pattern does: '*' matches any run of bytes (also none), '?'
// exactly one byte, everything else itself, case-sensitively. There is no
// escape and no character class.
//
// OpenSSH's own matcher backtracks recursively, which is exponential in
// the number of '*'. This one splits the pattern at its stars and places
// each piece at its leftmost possible position (which is always correct
// for '*'-only globs), so it never backtracks: a piece without '?' is
// found with strings.Index (linear), a piece with '?' by trying each
// start, bounded by len(s) times the piece's length.
func MatchPattern(s, pattern string) bool {
	pieces := strings.Split(pattern, "*")
	if len(pieces) == 1 {
		return len(s) == len(pattern) && pieceAt(s, pattern)
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if len(s) < len(first) || !pieceAt(s, first) {
		return false
	}
	s = s[len(first):]
	for _, p := range pieces[1 : len(pieces)-1] {
		if p == "" {
			continue
		}
		i := indexPiece(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
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

// indexPiece is the leftmost position of the star-free piece p in s.
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

// maxSubpattern is the length of match_pattern_list's buffer: a longer
// sub-pattern makes the whole list fail to match.
const maxSubpattern = 1024

// MatchPatternList applies a comma-separated pattern list to s as
// OpenSSH's match_pattern_list does: it returns -1 when a negated
// ("!pat") pattern matches, 1 when a plain one does (and no negated one),
// 0 otherwise. With fold the patterns are lower-cased (ASCII) first; s is
// used as given.
func MatchPatternList(s, list string, fold bool) int {
	got := 0
	for i := 0; i < len(list); {
		neg := false
		if list[i] == '!' {
			neg = true
			i++
		}
		j := strings.IndexByte(list[i:], ',')
		var sub string
		if j < 0 {
			sub, i = list[i:], len(list)
		} else {
			sub, i = list[i:i+j], i+j+1
		}
		if len(sub) >= maxSubpattern-1 {
			return 0
		}
		if fold {
			sub = lowerASCII(sub)
		}
		if MatchPattern(s, sub) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// MatchHostname is OpenSSH's match_hostname: host lower-cased, then
// MatchPatternList with lower-cased patterns.
func MatchHostname(host, list string) int {
	return MatchPatternList(lowerASCII(host), list, true)
}
