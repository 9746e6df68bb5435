package hostconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// HostAliases lists the names a user can type after `ssh`: the Host
// patterns without wildcards or negation in the user's config file
// (ResolveOptions.ConfigFile, else ~/.ssh/config) and every file its
// Include lines name, in the order ssh reads them, each once. Lines the
// config engine cannot read are left out; a config file that cannot be
// read is an error (a missing ~/.ssh/config is not: no names).
func HostAliases(o ResolveOptions) ([]string, error) {
	path := o.ConfigFile
	if path == "" {
		path = filepath.Join(o.Home, ".ssh", "config")
	} else if p, err := sshconfig.ExpandTilde(path, o.Home); err == nil {
		path = p
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && o.ConfigFile == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var names []string
	seen := make(map[string]bool)
	sshconfig.Scan(path, data, sshconfig.Options{Home: o.Home, Getenv: o.Getenv}, func(_ string, _ int, keyword string, args []string) {
		if keyword != "host" {
			return
		}
		for _, a := range args {
			if a == "" || strings.ContainsAny(a, "*?!") || seen[a] {
				continue
			}
			seen[a] = true
			names = append(names, a)
		}
	})
	return names, nil
}
