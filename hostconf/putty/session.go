package putty

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

// ErrNoSession is wrapped by Store.Load when the session does not
// exist.
var ErrNoSession = errors.New("no such PuTTY session")

// Store is where PuTTY keeps saved sessions and its host-key cache:
// files under ~/.putty (or $PUTTYDIR, or ~/.config/putty) on Unix, the
// registry under HKCU\Software\SimonTatham\PuTTY on Windows.
//
// Implementations are not safe for concurrent use.
type Store interface {
	// Load reads a saved session. A missing session gives an error
	// wrapping ErrNoSession whose text says where it looked.
	Load(name string) (*Session, error)
	// Save writes back a session: values changed since Load, and only
	// those; everything else is kept as it was (byte for byte in a file).
	Save(s *Session) error
	// Where names the file or registry key holding session name, for
	// messages.
	Where(name string) string
	// HostKeys reads PuTTY's host-key cache. A missing cache is an
	// empty one.
	HostKeys() (hostkeys.Checker, error)
}

// Session is one saved session's settings, in their stored order.
// Lookups follow PuTTY: the first occurrence of a key wins. The zero value
// is an empty session; set Name before saving it.
type Session struct {
	Name string

	entries []puttyEntry
	deleted []string // keys removed since loading (registry stores delete them)
}

type puttyEntry struct {
	key, value string
	isInt      bool   // stored as an integer (REG_DWORD in the registry)
	raw        string // the line as read, with its line ending; "" if changed or new
	eol        string // the line ending read ("\n", "\r\n" or "")
	kv         bool   // a Key=Value line (other lines are kept but ignored)
	changed    bool
}

// ParseSessionFile parses a Unix PuTTY session file: Key=Value lines.
// Like PuTTY it ignores lines without '=' and ends a value at the first CR
// or LF; unlike PuTTY it keeps every line, so MarshalFile after no change
// gives data back byte for byte.
func ParseSessionFile(name string, data []byte) *Session {
	s := &Session{Name: name}
	text := string(data)
	for text != "" {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = ""
		}
		body, eol := line, ""
		switch {
		case strings.HasSuffix(body, "\r\n"):
			body, eol = body[:len(body)-2], "\r\n"
		case strings.HasSuffix(body, "\n"):
			body, eol = body[:len(body)-1], "\n"
		}
		e := puttyEntry{raw: line, eol: eol}
		if k, v, ok := strings.Cut(body, "="); ok {
			if i := strings.IndexAny(v, "\r\n"); i >= 0 {
				v = v[:i]
			}
			e.key, e.value, e.kv = k, v, true
		}
		s.entries = append(s.entries, e)
	}
	return s
}

// MarshalFile renders the session as a Unix session file. Lines whose
// value did not change are written as they were read; changed values are
// written in place as Key=Value; new keys are appended.
func (s *Session) MarshalFile() []byte {
	var b strings.Builder
	for _, e := range s.entries {
		if !e.changed && e.raw != "" {
			b.WriteString(e.raw)
			continue
		}
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		eol := e.eol
		if eol == "" {
			eol = "\n"
		}
		b.WriteString(e.key + "=" + e.value + eol)
	}
	return []byte(b.String())
}

func (s *Session) find(key string) int {
	for i, e := range s.entries {
		if e.kv && e.key == key {
			return i
		}
	}
	return -1
}

// Get returns the value of key and whether the session has it.
func (s *Session) Get(key string) (string, bool) {
	if i := s.find(key); i >= 0 {
		return s.entries[i].value, true
	}
	return "", false
}

// Int returns key's value read as PuTTY reads integers (C atoi: optional
// sign, leading digits, anything else ignored), or def when the key is
// absent.
func (s *Session) Int(key string, def int) int {
	v, ok := s.Get(key)
	if !ok {
		return def
	}
	return atoi(v)
}

func atoi(v string) int {
	v = strings.TrimLeft(v, " \t\n\r\v\f")
	end := 0
	if end < len(v) && (v[end] == '-' || v[end] == '+') {
		end++
	}
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0
	}
	return n
}

// Set sets key to a string value, in place if the key exists.
func (s *Session) Set(key, value string) { s.set(key, value, false) }

// SetInt sets key to an integer value (a REG_DWORD in the registry).
func (s *Session) SetInt(key string, value int) { s.set(key, strconv.Itoa(value), true) }

func (s *Session) set(key, value string, isInt bool) {
	if i := s.find(key); i >= 0 {
		e := &s.entries[i]
		// A file has no value types, so only the text matters there.
		if e.value == value && (e.isInt == isInt || e.raw != "") {
			return
		}
		e.value, e.isInt, e.changed = value, isInt, true
		return
	}
	s.entries = append(s.entries, puttyEntry{key: key, value: value, isInt: isInt, kv: true, changed: true})
	for i, k := range s.deleted {
		if k == key {
			s.deleted = append(s.deleted[:i], s.deleted[i+1:]...)
			break
		}
	}
}

// Delete removes every occurrence of key.
func (s *Session) Delete(key string) {
	kept := s.entries[:0]
	found := false
	for _, e := range s.entries {
		if e.kv && e.key == key {
			found = true
			continue
		}
		kept = append(kept, e)
	}
	s.entries = kept
	if found {
		s.deleted = append(s.deleted, key)
	}
}

// Keys returns the session's keys in stored order, each once.
func (s *Session) Keys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, e := range s.entries {
		if e.kv && !seen[e.key] {
			seen[e.key] = true
			keys = append(keys, e.key)
		}
	}
	return keys
}

// puttyFileName escapes a session name the way Unix PuTTY names session
// files: bytes other than A-Z a-z 0-9 + - . @ _ become %XX (upper-case
// hex). The empty name is "Default Settings".
func puttyFileName(name string) string {
	if name == "" {
		name = "Default Settings"
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '+' || c == '-' || c == '.' || c == '@' || c == '_' ||
			('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)) + strings.ToUpper(strconv.FormatUint(uint64(c)&15, 16)))
		}
	}
	return b.String()
}

// puttyRegistryKey escapes a session name the way Windows PuTTY names its
// registry keys: space \ * ? %, control and non-ASCII bytes, and a leading
// '.', become %XX.
func puttyRegistryKey(name string) string {
	if name == "" {
		name = "Default Settings"
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == ' ' || c == '\\' || c == '*' || c == '?' || c == '%' || c < ' ' || c > '~' || (c == '.' && i == 0) {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)) + strings.ToUpper(strconv.FormatUint(uint64(c)&15, 16)))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsInt reports whether key holds an integer (REG_DWORD) value. File
// stores have no types: there it is true only for values set by SetInt.
func (s *Session) IsInt(key string) bool {
	if i := s.find(key); i >= 0 {
		return s.entries[i].isInt
	}
	return false
}
