package install

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// CheckAlias reports whether alias can name a host in a block of ours: a
// literal host name as typed on the ssh command line, with no pattern
// characters (* ? ! ,), quotes, spaces or control characters.
func CheckAlias(alias string) error {
	if alias == "" {
		return fmt.Errorf("invalid host alias %q: empty", alias)
	}
	if strings.HasPrefix(alias, "-") {
		return fmt.Errorf("invalid host alias %q: starts with '-'", alias)
	}
	for _, r := range alias {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("*?!,\"'\\#=%<>", r) {
			return fmt.Errorf("invalid host alias %q: has %q", alias, r)
		}
	}
	return nil
}

// HostBlockLines returns the lines of a block that applies settings to
// alias only: a "Host ALIAS" line, each setting indented by four spaces,
// and a closing "Host *" line. The closing line ends our Host section so
// that the user's lines after the block stay global (Host * matches every
// host, exactly as the top-level section does).
func HostBlockLines(alias string, settings []string) []string {
	lines := make([]string, 0, len(settings)+2)
	lines = append(lines, "Host "+alias)
	for _, s := range settings {
		lines = append(lines, "    "+s)
	}
	return append(lines, "Host *")
}

// LocalForwardLine returns the ssh_config line for fwd:
// "LocalForward LISTEN TARGET". Listen is "PORT" (taken as
// 127.0.0.1:PORT), "HOST:PORT" or "[IPv6]:PORT". Target is "HOST:PORT",
// "[IPv6]:PORT" or an absolute unix socket path, which is double-quoted
// when it holds spaces and has '%' doubled (ssh expands %-tokens in
// socket paths).
func LocalForwardLine(fwd hostconf.Forward) (string, error) {
	listen := fwd.Listen
	if _, err := strconv.Atoi(listen); err == nil {
		listen = "127.0.0.1:" + listen
	}
	if err := checkHostPort(listen); err != nil {
		return "", fmt.Errorf("invalid forward listen address %q: %w", fwd.Listen, err)
	}
	target := fwd.Target
	if strings.HasPrefix(target, "/") {
		if strings.ContainsAny(target, "\"\\") || strings.Contains(target, "${") || hasControl(target) {
			return "", fmt.Errorf("invalid forward socket path %q: has a quote, backslash, \"${\" or control character", target)
		}
		target = strings.ReplaceAll(target, "%", "%%")
		if strings.ContainsAny(target, " \t") {
			target = `"` + target + `"`
		}
	} else if err := checkHostPort(target); err != nil {
		return "", fmt.Errorf("invalid forward target %q: %w", fwd.Target, err)
	}
	return "LocalForward " + listen + " " + target, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return true
		}
	}
	return false
}

// checkHostPort accepts HOST:PORT and [IPv6]:PORT with a port in 1-65535.
func checkHostPort(s string) error {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return fmt.Errorf("want HOST:PORT")
	}
	host, port := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") || len(host) < 3 {
			return fmt.Errorf("bad bracketed address")
		}
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return fmt.Errorf("put an IPv6 address in brackets")
	}
	if host == "" || strings.ContainsAny(host, " \t\"'\\[]/") || hasControl(host) {
		return fmt.Errorf("bad host %q", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// WriteLocalForward makes the OpenSSH config at configPath forward fwd
// whenever ssh connects to alias: it writes
//
//	LocalForward 127.0.0.1:LPORT 127.0.0.1:RPORT
//
// (or a unix socket target) inside our marked block for alias
// (hostconf.ForwardBlockKey), which has its own "Host ALIAS" line, so it works
// whether the alias has a Host section of its own or only matches a
// pattern. It replaces whatever forward an earlier run wrote there (the
// block holds exactly one); running it again with the same forward changes
// nothing. Every byte outside the block is kept; the edit is locked,
// atomic and backed up (see EditFile). With o.DryRun nothing is written
// and diff shows what would change.
func WriteLocalForward(ctx context.Context, configPath, alias string, fwd hostconf.Forward, o fileedit.EditOptions) (changed bool, diff string, err error) {
	if err := CheckAlias(alias); err != nil {
		return false, "", fmt.Errorf("writing LocalForward for host %q to %s: %w", alias, configPath, err)
	}
	line, err := LocalForwardLine(fwd)
	if err != nil {
		return false, "", fmt.Errorf("writing LocalForward for host %q to %s: %w", alias, configPath, err)
	}
	lines := HostBlockLines(alias, []string{line})
	res, err := fileedit.EditFile(ctx, configPath, o, func(old []byte) ([]byte, error) {
		return fileedit.SetBlock(configPath, old, hostconf.ForwardBlockKey(alias), lines)
	})
	if err != nil {
		return false, "", fmt.Errorf("writing LocalForward for host %q: %w", alias, err)
	}
	return res.Changed, res.Diff, nil
}

// RemoveLocalForward takes out the block WriteLocalForward wrote for
// alias, restoring the file's bytes as they were before it was added.
// It changes nothing when there is no such block.
func RemoveLocalForward(ctx context.Context, configPath, alias string, o fileedit.EditOptions) (changed bool, diff string, err error) {
	if err := CheckAlias(alias); err != nil {
		return false, "", fmt.Errorf("removing LocalForward for host %q from %s: %w", alias, configPath, err)
	}
	res, err := fileedit.EditFile(ctx, configPath, o, func(old []byte) ([]byte, error) {
		return fileedit.RemoveBlock(configPath, old, hostconf.ForwardBlockKey(alias))
	})
	if err != nil {
		return false, "", fmt.Errorf("removing LocalForward for host %q: %w", alias, err)
	}
	return res.Changed, res.Diff, nil
}
