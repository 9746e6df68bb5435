package install

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// controlPathSource returns "FILE:LINE" of the first ControlPath (other
// than "none") the user's config sets for alias outside our blocks, or ""
// if there is none. It reads the config text (data, the content of file)
// and the files it includes. It is deliberately simple: Host sections are
// matched with OpenSSH's pattern rules, Match sections are taken as not
// matching. Getting it wrong is harmless in that direction: our own
// ControlPath, being first, then simply wins.
func controlPathSource(file string, data []byte, alias, home string) string {
	s := scanner{alias: alias, home: home}
	where, _ := s.scan(file, data, true, 0)
	return where
}

type scanner struct {
	alias, home string
}

func (s scanner) scan(file string, data []byte, active bool, depth int) (string, bool) {
	if depth > 16 {
		return "", active
	}
	inBlock := map[int]bool{}
	if bs, err := fileedit.Blocks(file, data); err == nil {
		for _, b := range bs {
			for l := b.BeginLine; l <= b.EndLine; l++ {
				inBlock[l] = true
			}
		}
	}
	for i, line := range strings.Split(string(data), "\n") {
		if inBlock[i+1] {
			continue
		}
		key, args := splitDirective(line)
		switch strings.ToLower(key) {
		case "host":
			active = hostMatches(args, s.alias)
		case "match":
			active = false
		case "include":
			if !active {
				continue
			}
			for _, pat := range args {
				pat = expandHome(pat, s.home)
				if !filepath.IsAbs(pat) {
					pat = filepath.Join(s.home, ".ssh", pat)
				}
				names, _ := filepath.Glob(pat)
				for _, n := range names {
					inc, err := os.ReadFile(n)
					if err != nil {
						continue
					}
					if where, _ := s.scan(n, inc, active, depth+1); where != "" {
						return where, active
					}
				}
			}
		case "controlpath":
			if active && len(args) > 0 && !strings.EqualFold(args[0], "none") {
				return file + ":" + itoa(i+1), active
			}
		}
	}
	return "", active
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// splitDirective splits an ssh_config line into its keyword and
// arguments ("Key value", "Key=value", "Key = value"; double quotes group).
func splitDirective(line string) (string, []string) {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(t, "#") {
		return "", nil
	}
	end := strings.IndexAny(t, " \t=")
	if end < 0 {
		return t, nil
	}
	key, rest := t[:end], strings.TrimLeft(t[end:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range rest {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\t' || r == '\r') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return key, args
}

// hostMatches applies a Host line's patterns to name as OpenSSH does: a
// matching negated pattern ("!pat") rejects, otherwise any matching
// pattern accepts. Patterns are case-insensitive globs with * and ?, and
// a word may hold several comma-separated patterns.
func hostMatches(patterns []string, name string) bool {
	name = strings.ToLower(name)
	ok := false
	for _, word := range patterns {
		for _, p := range strings.Split(word, ",") {
			neg := strings.HasPrefix(p, "!")
			p = strings.ToLower(strings.TrimPrefix(p, "!"))
			if !globMatch(p, name) {
				continue
			}
			if neg {
				return false
			}
			ok = true
		}
	}
	return ok
}

func globMatch(p, s string) bool {
	// Iterative wildcard match: on a mismatch, retry from the last '*'
	// consuming one more byte of s. Linear in practice, never exponential.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
