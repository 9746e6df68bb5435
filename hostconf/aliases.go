package hostconf

import (
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
				if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
					s = s[1 : len(s)-1] // OpenSSH's quoting; the lexer keeps it
				}
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
