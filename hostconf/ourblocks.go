package hostconf

// nbtunnel's own blocks in an OpenSSH config (see fileedit.SetBlock) are
// written by package install; reading a config must know their keys to see
// the user's settings without them.

import (
	"net"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// ForwardBlockKey is the key of the block holding the LocalForward that
// install.WriteLocalForward keeps for alias.
func ForwardBlockKey(alias string) string { return "forward " + alias }

// HookBlockKey is the key of the block holding nbtunnel's ProxyCommand or
// LocalCommand hook for alias.
func HookBlockKey(alias string) string { return "hook " + alias }

// LocalForwardPorts lists the local ports that LocalForward lines in data
// (an OpenSSH config file named name) listen on, for any host, leaving out
// the lines of our own forward block for alias: a port nbtunnel picks for a
// new forward must not collide with a forward the user already has.
func LocalForwardPorts(name string, data []byte, alias string) ([]int, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	blocks, err := fileedit.Blocks(name, data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if b.Key != ForwardBlockKey(alias) {
			continue
		}
		for n := b.BeginLine; n <= b.EndLine && n <= len(lines); n++ {
			lines[n-1] = ""
		}
	}
	var ports []int
	for _, l := range lines {
		key, rest := splitKeyword(l)
		if !strings.EqualFold(key, "LocalForward") {
			continue
		}
		args, err := splitArgs(rest)
		if err != nil || len(args) == 0 {
			continue
		}
		listen, err := parseForwardSide(args[0], true)
		if err != nil || strings.HasPrefix(listen, "/") || strings.HasPrefix(listen, "~") {
			continue
		}
		_, p, err := net.SplitHostPort(listen)
		if err != nil {
			continue
		}
		if n, err := strconv.Atoi(p); err == nil && n > 0 {
			ports = append(ports, n)
		}
	}
	return ports, nil
}
