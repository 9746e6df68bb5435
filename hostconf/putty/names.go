package putty

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SessionNames lists the saved sessions of a PuTTY file store,
// sorted; no sessions directory means none.
func (s *FileStore) SessionNames() ([]string, error) {
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
