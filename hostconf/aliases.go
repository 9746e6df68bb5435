package hostconf

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HostAliases lists the names a user can type after `ssh`: the Host
// patterns without wildcards or negation in the config files Resolve would
// read (Include followed), in file order, each once. A file that cannot be
// read stops the walk with its error; the names found so far are returned
// with it.
func HostAliases(o ResolveOptions) ([]string, error) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	refs, _, err := configFiles(o)
	if err != nil {
		return nil, err
	}
	var names []string
	seen := make(map[string]bool)
	var walk func(f *confFile)
	walk = func(f *confFile) {
		for _, it := range f.items {
			for _, inc := range it.include {
				walk(inc)
			}
			if it.host == nil {
				continue
			}
			for _, p := range it.host.Patterns {
				s := p.String()
				if s == "" || strings.ContainsAny(s, "*?!") || seen[s] {
					continue
				}
				seen[s] = true
				names = append(names, s)
			}
		}
	}
	for _, r := range refs {
		f, err := parseConfigFile(r.path, r.system, o, nil)
		if err != nil {
			return names, err
		}
		walk(f)
	}
	return names, nil
}

// PuttySessionNames lists the saved sessions of a PuTTY file store,
// sorted; no sessions directory means none.
func (s *PuttyFileStore) PuttySessionNames() ([]string, error) {
	ents, err := os.ReadDir(s.SessionDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		n := unescapePutty(filepath.Base(e.Name()))
		if n == "Default Settings" {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// unescapePutty undoes PuTTY's %XX escaping of session names.
func unescapePutty(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, ok := unhex2(s[i+1], s[i+2]); ok {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex2(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}
