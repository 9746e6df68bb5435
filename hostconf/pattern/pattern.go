// Package pattern matches host names against OpenSSH's wildcard patterns
// (`*` any run of characters, `?` exactly one), the one matcher shared by
// ssh_config Host lines, known_hosts entries and PuTTY's host-key cache.
//
// pattern imports nothing else of this module.
package pattern

// Match reports whether s matches the pattern p, where `*` matches any run
// of bytes (including none) and `?` exactly one byte; every other byte
// matches itself. It runs in O(len(p)*len(s)) time at worst, never
// exponential, whatever the pattern.
func Match(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0 // last '*' seen in p, and where in s it was tried
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]) && p[pi] != '*':
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			// Let the last '*' swallow one more byte and retry from there.
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
