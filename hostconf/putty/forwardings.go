package putty

import (
	"errors"
	"strings"
)

// Forward is one entry of a PuTTY session's PortForwardings value.
//
// In the session the value is a comma-separated list of KEY=VALUE entries,
// with '=', ',' and '\' inside a key or value escaped by a backslash. KEY
// is an optional address family ('4' or '6'), a type letter (L local,
// R remote, D dynamic) and the listen spec ([addr:]port); VALUE is the
// target host:port (empty for D). For example
// "L8890=127.0.0.1:8888,4R2222=localhost:22,D1080=".
type Forward struct {
	// Family is 0 (any), '4' or '6'.
	Family byte
	// Type is 'L', 'R' or 'D'; 0 for an entry not understood, which is
	// kept as it was (see Raw).
	Type byte
	// Listen is the listen spec as stored: "8890" or "127.0.0.1:8890".
	Listen string
	// Target is host:port; "" for dynamic forwards.
	Target string

	raw  string // the entry as read; re-emitted while the fields are unchanged
	read bool
	orig puttyForwardFields
}

type puttyForwardFields struct {
	family, typ    byte
	listen, target string
}

func (f *Forward) fields() puttyForwardFields {
	return puttyForwardFields{f.Family, f.Type, f.Listen, f.Target}
}

// Raw returns the entry's text as it was read ("" for a new entry).
func (f *Forward) Raw() string { return f.raw }

// ParsePortForwardings splits a PortForwardings value. Entries it does not
// understand are returned with Type 0 and kept verbatim, so
// FormatPortForwardings(ParsePortForwardings(s)) == s for every s it
// accepts. It refuses only a value ending in a lone backslash.
func ParsePortForwardings(s string) ([]Forward, error) {
	if s == "" {
		return nil, nil
	}
	var out []Forward
	for _, raw := range splitUnescaped(s, ',') {
		if oddTrailingBackslashes(raw) {
			return nil, errors.New(`PortForwardings ends in a lone backslash`)
		}
		f := Forward{raw: raw, read: true}
		parts := splitUnescaped(raw, '=')
		key := unescapeFwd(parts[0])
		val := ""
		if len(parts) > 1 {
			// PuTTY's reader takes the text after the last unescaped '='.
			val = unescapeFwd(parts[len(parts)-1])
		}
		if len(parts) <= 2 {
			k := key
			if k != "" && (k[0] == '4' || k[0] == '6') {
				f.Family, k = k[0], k[1:]
			}
			if k != "" && (k[0] == 'L' || k[0] == 'R' || k[0] == 'D') && len(k) > 1 {
				f.Type, f.Listen, f.Target = k[0], k[1:], val
			} else {
				f.Family = 0
			}
		}
		if f.Type == 0 {
			f.Listen, f.Target = key, val
		}
		f.orig = f.fields()
		out = append(out, f)
	}
	return out, nil
}

func oddTrailingBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// FormatPortForwardings joins entries into a PortForwardings value. An
// entry read by ParsePortForwardings and not changed is written exactly as
// it was read.
func FormatPortForwardings(fwds []Forward) string {
	parts := make([]string, len(fwds))
	for i := range fwds {
		f := &fwds[i]
		if f.read && f.fields() == f.orig {
			parts[i] = f.raw
			continue
		}
		if f.Type == 0 {
			parts[i] = escapeFwd(f.Listen) + "=" + escapeFwd(f.Target)
			continue
		}
		key := string(f.Type) + f.Listen
		if f.Family != 0 {
			key = string(f.Family) + key
		}
		parts[i] = escapeFwd(key) + "=" + escapeFwd(f.Target)
	}
	return strings.Join(parts, ",")
}

// splitUnescaped splits s at each sep not escaped by a backslash, keeping
// the escapes in the pieces.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unescapeFwd(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func escapeFwd(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '=' || s[i] == ',' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
