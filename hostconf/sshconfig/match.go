package sshconfig

import (
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/pattern"
)

// MatchPattern reports whether s matches pattern as OpenSSH's
// match_pattern does: '*' matches any run of bytes (also none), '?'
// exactly one byte, everything else itself, case-sensitively. There is no
// escape and no character class. It is package pattern's matcher (the one
// known_hosts and PuTTY's host-key cache use too), which never backtracks
// where OpenSSH's own recursion can take exponential time.
func MatchPattern(s, p string) bool { return pattern.Match(p, s) }

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
