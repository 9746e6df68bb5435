package slurm

import (
	"fmt"
	"path"
	"strings"
)

// Defaults returns the default sbatch options for host from a defaults file (name is its path, for
// errors). Each line is "HOST OPTIONS...", where HOST may be a glob pattern (path.Match); the first
// matching line wins; '#' starts a comment line. An unmatched host gets "".
//
//	# nbtunnel: sbatch options used when open --slurm is given no --sbatch
//	hpc-login   --partition=gpu --gres=gpu:1 --time=4:00:00
//	*.cluster   --time=1:00:00
func Defaults(data []byte, name, host string) (string, error) {
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pat, opts, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(pat, '\t'); i >= 0 {
			pat, opts = line[:i], line[i+1:]
		}
		ok, err := path.Match(pat, host)
		if err != nil {
			return "", fmt.Errorf("reading %s line %d: bad host pattern %q: %w", name, n+1, pat, err)
		}
		if !ok {
			continue
		}
		opts = strings.TrimSpace(opts)
		if _, err := SplitArgs(opts); err != nil {
			return "", fmt.Errorf("reading %s line %d: %w", name, n+1, err)
		}
		return opts, nil
	}
	return "", nil
}
