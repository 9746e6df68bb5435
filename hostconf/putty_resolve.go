package hostconf

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/hostconf/putty"
)

// PuttyHookMarker is the text in a ProxyTelnetCommand that marks nbtunnel's
// own hook ("nbtunnel proxy --putty SESSION %host %port"): a session using
// it is resolved as a direct connection, since nbtunnel is that command.
const PuttyHookMarker = " proxy --putty "

// puttyHostName splits a HostName setting the way PuTTY prepares a
// session: leading blanks dropped, "user@" (up to the last '@') split off,
// a single ":suffix" discarded, remaining blanks removed.
func puttyHostName(v string) (user, host string) {
	v = strings.TrimLeft(v, " \t")
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		user, v = v[:i], v[i+1:]
	}
	if !strings.HasPrefix(v, "[") && strings.Count(v, ":") == 1 {
		v = v[:strings.IndexByte(v, ':')]
	}
	v = strings.NewReplacer(" ", "", "\t", "").Replace(v)
	return user, v
}

func isLocalhost(h string) bool {
	h = strings.ToLower(strings.Trim(h, "[]"))
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// ResolvePutty resolves a PuTTY saved session into a Host, as plink
// -load NAME would connect:
//
//   - HostName (with its user@ part), PortNumber, UserName, PublicKeyFile
//     (a .ppk path, in IdentityFiles), TryAgent, AuthKI, PingIntervalSecs;
//   - Protocol must be ssh;
//   - AgentFwd is ignored: nbtunnel never forwards the agent;
//   - ProxyMethod 6 ("SSH to proxy and use port forwarding") becomes a
//     ProxyJump hop: ProxyHost names a saved session (resolved in turn) or
//     a host, with ProxyPort and ProxyUsername;
//   - ProxyMethod 5 (a local command) is ignored when the command is
//     nbtunnel's own hook (PuttyHookMarker) and otherwise becomes
//     ProxyCommand with PuTTY's %host/%port/%user/%proxyhost/%proxyport
//     and backslash escapes expanded;
//   - other proxy methods are refused; like PuTTY, no proxy is used for a
//     localhost target unless ProxyLocalhost=1;
//   - HostKeys checks against PuTTY's host-key cache for the session's
//     HostName and PortNumber, refusing unknown keys (plink -batch);
//   - LocalForwards lists the session's L entries of PortForwardings.
//
// Errors name the session and where it is stored.
func ResolvePutty(ctx context.Context, store putty.Store, name string) (*Host, error) {
	return resolvePutty(ctx, store, name, 0)
}

func resolvePutty(ctx context.Context, store putty.Store, name string, depth int) (*Host, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if depth > 8 {
		return nil, fmt.Errorf("PuTTY session %q (%s): proxy sessions nest too deep (a loop?)", name, store.Where(name))
	}
	s, err := store.Load(name)
	if err != nil {
		return nil, err
	}
	where := store.Where(name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("PuTTY session %q (%s): %s", name, where, fmt.Sprintf(format, args...))
	}
	if p, ok := s.Get("Protocol"); ok && p != "ssh" {
		return nil, fail("protocol is %q; nbtunnel needs an ssh session (Connection type: SSH)", p)
	}
	rawHost, _ := s.Get("HostName")
	user, host := puttyHostName(rawHost)
	if host == "" {
		return nil, fail("no HostName is set (Session > Host Name in PuTTY)")
	}
	if user == "" {
		user, _ = s.Get("UserName")
	}
	port := s.Int("PortNumber", 22)
	if port <= 0 || port > 65535 {
		return nil, fail("PortNumber %d is out of range", port)
	}
	h := &Host{
		Alias:    name,
		HostName: host,
		Port:     port,
		User:     user,
		Source:   fmt.Sprintf("PuTTY session %s (%s)", name, where),
	}
	if k, _ := s.Get("PublicKeyFile"); k != "" {
		h.IdentityFiles = []string{k}
	}
	if s.Int("TryAgent", 1) == 0 {
		h.IdentityAgent = "none"
	} else if runtime.GOOS == "windows" {
		h.IdentityAgent = "pageant"
	}
	if s.Int("AuthKI", 1) == 0 {
		no := false
		h.KbdInteractiveAuthentication = &no
	}
	if secs := s.Int("PingIntervalSecs", 0) + 60*s.Int("PingInterval", 0); secs > 0 {
		h.ServerAliveInterval = time.Duration(secs) * time.Second
	}
	if v, ok := s.Get("PortForwardings"); ok {
		fwds, err := putty.ParsePortForwardings(v)
		if err != nil {
			return nil, fail("PortForwardings: %v", err)
		}
		for _, f := range fwds {
			if f.Type != 'L' {
				continue
			}
			listen := f.Listen
			if !strings.Contains(listen, ":") {
				listen = "127.0.0.1:" + listen
			}
			h.LocalForwards = append(h.LocalForwards, Forward{Listen: listen, Target: f.Target})
		}
	}

	method := putty.ProxyMethod(s)
	if method != putty.ProxyNone && isLocalhost(host) && s.Int("ProxyLocalhost", 0) == 0 {
		method = putty.ProxyNone
	}
	switch method {
	case putty.ProxyNone:
	case putty.ProxyCommand:
		cmd, _ := s.Get("ProxyTelnetCommand")
		if !strings.Contains(cmd, PuttyHookMarker) {
			h.ProxyCommand = expandPuttyCommand(cmd, s, host, port)
		}
	case putty.ProxySSHTCPIP:
		proxyHost, _ := s.Get("ProxyHost")
		if proxyHost == "" {
			proxyHost = "proxy" // PuTTY's default
		}
		var hop *Host
		if _, err := store.Load(proxyHost); err == nil {
			if hop, err = resolvePutty(ctx, store, proxyHost, depth+1); err != nil {
				return nil, fmt.Errorf("PuTTY session %q (%s): proxy session: %w", name, where, err)
			}
		} else if errors.Is(err, putty.ErrNoSession) {
			pu, ph := puttyHostName(proxyHost)
			hop = &Host{Alias: ph, HostName: ph, Port: s.Int("ProxyPort", 80), User: pu,
				Source: fmt.Sprintf("PuTTY session %s (%s) proxy settings", name, where)}
			if keys, err := store.HostKeys(); err == nil {
				hop.HostKeys = hostkeys.Bound(keys, joinHostPort(ph, hop.Port))
			} else {
				return nil, fail("%v", err)
			}
		} else {
			return nil, fail("loading proxy session %q: %v", proxyHost, err)
		}
		if u, _ := s.Get("ProxyUsername"); u != "" {
			hop.User = u
		}
		h.ProxyJump = append(append([]*Host(nil), hop.ProxyJump...), hop)
		hop.ProxyJump = nil
	default:
		return nil, fail("proxy method %d (%s) is not supported; use \"SSH to proxy and use port forwarding\" or no proxy", method, puttyProxyName(method))
	}

	keys, err := store.HostKeys()
	if err != nil {
		return nil, fail("%v", err)
	}
	h.HostKeys = hostkeys.Bound(keys, joinHostPort(host, port))
	return h, nil
}

func puttyProxyName(m int) string {
	switch m {
	case putty.ProxySOCKS4:
		return "SOCKS 4"
	case putty.ProxySOCKS5:
		return "SOCKS 5"
	case putty.ProxyHTTP:
		return "HTTP CONNECT"
	case putty.ProxyTelnet:
		return "Telnet"
	case putty.ProxySSHExec:
		return "SSH to proxy and execute a command"
	case putty.ProxySSHSubsystem:
		return "SSH to proxy and invoke a subsystem"
	}
	return "unknown"
}

// expandPuttyCommand expands a ProxyTelnetCommand the way PuTTY formats
// it: \\ \% \r \n \t \xHH escapes and %% %host %port %user %pass
// %proxyhost %proxyport tokens; anything else is copied as is.
func expandPuttyCommand(cmd string, s *putty.Session, host string, port int) string {
	proxyUser, _ := s.Get("ProxyUsername")
	proxyPass, _ := s.Get("ProxyPassword")
	proxyHost, _ := s.Get("ProxyHost")
	tokens := []struct{ name, value string }{
		{"proxyhost", proxyHost},
		{"proxyport", strconv.Itoa(s.Int("ProxyPort", 80))},
		{"host", host},
		{"port", strconv.Itoa(port)},
		{"user", proxyUser},
		{"pass", proxyPass},
	}
	var b strings.Builder
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		if i+1 >= len(cmd) || (c != '\\' && c != '%') {
			b.WriteByte(c)
			continue
		}
		next := cmd[i+1]
		if c == '\\' {
			switch next {
			case '\\', '%':
				b.WriteByte(next)
				i++
			case 'r':
				b.WriteByte('\r')
				i++
			case 'n':
				b.WriteByte('\n')
				i++
			case 't':
				b.WriteByte('\t')
				i++
			case 'x', 'X':
				if i+3 < len(cmd) && isHex(cmd[i+2]) && isHex(cmd[i+3]) {
					v, _ := strconv.ParseUint(cmd[i+2:i+4], 16, 8)
					b.WriteByte(byte(v))
					i += 3
				} else {
					b.WriteByte(c)
				}
			default:
				b.WriteByte(c)
			}
			continue
		}
		if next == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		matched := false
		for _, t := range tokens {
			if strings.HasPrefix(strings.ToLower(cmd[i+1:]), t.name) {
				b.WriteString(t.value)
				i += len(t.name)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
