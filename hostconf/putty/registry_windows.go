//go:build windows

package putty

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"golang.org/x/sys/windows/registry"
)

const (
	puttyRegSessions = `Software\SimonTatham\PuTTY\Sessions`
	puttyRegHostKeys = `Software\SimonTatham\PuTTY\SshHostKeys`
)

// NewStore returns Windows PuTTY's registry store under HKEY_CURRENT_USER.
// home and getenv are not used on Windows.
func NewStore(home string, getenv func(string) string) (Store, error) {
	return puttyRegistryStore{}, nil
}

type puttyRegistryStore struct{}

func (puttyRegistryStore) Where(name string) string {
	return `HKEY_CURRENT_USER\` + puttyRegSessions + `\` + puttyRegistryKey(name)
}

func (r puttyRegistryStore) Load(name string) (*Session, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, puttyRegSessions+`\`+puttyRegistryKey(name), registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: %s does not exist (open PuTTY to see your saved sessions)", ErrNoSession, name, r.Where(name))
	}
	if err != nil {
		return nil, fmt.Errorf("reading PuTTY session %q (%s): %w", name, r.Where(name), err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading PuTTY session %q (%s): %w", name, r.Where(name), err)
	}
	s := &Session{Name: name}
	for _, n := range names {
		e := puttyEntry{key: n, kv: true}
		if v, typ, err := k.GetStringValue(n); err == nil {
			_ = typ
			e.value = v
		} else if v, typ, err := k.GetIntegerValue(n); err == nil && typ == registry.DWORD {
			e.value, e.isInt = strconv.FormatInt(int64(int32(uint32(v))), 10), true
		} else {
			continue // a type PuTTY does not use; left alone
		}
		s.entries = append(s.entries, e)
	}
	return s, nil
}

func (r puttyRegistryStore) Save(s *Session) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, puttyRegSessions+`\`+puttyRegistryKey(s.Name), registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("saving PuTTY session %q (%s): %w", s.Name, r.Where(s.Name), err)
	}
	defer k.Close()
	for _, name := range s.deleted {
		if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("saving PuTTY session %q (%s): %w", s.Name, r.Where(s.Name), err)
		}
	}
	for i := range s.entries {
		e := &s.entries[i]
		if !e.changed {
			continue
		}
		if e.isInt {
			err = k.SetDWordValue(e.key, uint32(int32(atoi(e.value))))
		} else {
			err = k.SetStringValue(e.key, e.value)
		}
		if err != nil {
			return fmt.Errorf("saving PuTTY session %q (%s) value %s: %w", s.Name, r.Where(s.Name), e.key, err)
		}
		e.changed = false
	}
	s.deleted = nil
	return nil
}

func (puttyRegistryStore) HostKeys() (hostkeys.Checker, error) {
	where := `HKEY_CURRENT_USER\` + puttyRegHostKeys
	k, err := registry.OpenKey(registry.CURRENT_USER, puttyRegHostKeys, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return hostkeys.ParsePuttyHostKeys(nil, where), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading PuTTY host keys (%s): %w", where, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading PuTTY host keys (%s): %w", where, err)
	}
	var b strings.Builder
	for _, n := range names {
		v, _, err := k.GetStringValue(n)
		if err != nil || strings.ContainsAny(n, " \n") {
			continue
		}
		b.WriteString(n + " " + v + "\n")
	}
	return hostkeys.ParsePuttyHostKeys([]byte(b.String()), where), nil
}

// SessionNames lists the saved sessions under HKEY_CURRENT_USER,
// sorted.
func (puttyRegistryStore) SessionNames() ([]string, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, puttyRegSessions, registry.ENUMERATE_SUB_KEYS)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	keys, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range keys {
		if n = unescapePutty(n); n != "Default Settings" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
