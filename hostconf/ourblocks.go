package hostconf

// nbtunnel's own blocks in an OpenSSH config (see fileedit.SetBlock) are
// written by package install; reading a config must know their keys to see
// the user's settings without them.

import (
	"net"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// ForwardBlockKey is the key of the block holding the LocalForward that
// install.WriteLocalForward keeps for alias.
func ForwardBlockKey(alias string) string { return "forward " + alias }

// HookBlockKey is the key of the block holding nbtunnel's ProxyCommand or
// LocalCommand hook for alias.
func HookBlockKey(alias string) string { return "hook " + alias }

// LocalForwardPorts lists the local ports that LocalForward lines listen
// on, for any host, in the OpenSSH config file name (content data) and the
// files its Includes name (relative to home/.ssh, as ssh reads them),
// leaving out our own forward block for alias: a port nbtunnel picks for a
// new forward must not collide with a forward the user already has. A
// damaged block of ours in data is an error.
func LocalForwardPorts(name string, data []byte, alias, home string) ([]int, error) {
	if _, err := fileedit.Blocks(name, data); err != nil {
		return nil, err
	}
	skip := func(path string, data []byte) map[int]bool {
		blocks, err := fileedit.Blocks(path, data)
		if err != nil {
			return nil
		}
		lines := map[int]bool{}
		for _, b := range blocks {
			if b.Key != ForwardBlockKey(alias) {
				continue
			}
			for n := b.BeginLine; n <= b.EndLine; n++ {
				lines[n] = true
			}
		}
		return lines
	}
	var ports []int
	sshconfig.Scan(name, data, sshconfig.Options{Home: home, SkipLines: skip}, func(_ string, _ int, key string, args []string) {
		if key != "localforward" || len(args) == 0 {
			return
		}
		listen, err := parseForwardSide(args[0], true)
		if err != nil || strings.HasPrefix(listen, "/") || strings.HasPrefix(listen, "~") {
			return
		}
		_, p, err := net.SplitHostPort(listen)
		if err != nil {
			return
		}
		if n, err := strconv.Atoi(p); err == nil && n > 0 {
			ports = append(ports, n)
		}
	})
	return ports, nil
}
