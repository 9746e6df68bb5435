package sshconfig

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// Values each multistate keyword accepts (readconf.c's multistate_*
// tables), compared without case.
var multistate = map[string][]string{
	"stricthostkeychecking": {"true", "false", "yes", "no", "ask", "off", "accept-new"},
	"controlmaster":         {"true", "yes", "false", "no", "auto", "ask", "autoask"},
	"canonicalizehostname":  {"true", "false", "yes", "no", "always"},
	"requesttty":            {"true", "yes", "false", "no", "force", "auto"},
	"sessiontype":           {"none", "subsystem", "default"},
	"addressfamily":         {"inet", "inet6", "any"},
	"tunnel":                {"ethernet", "point-to-point", "true", "yes", "false", "no"},
	"pubkeyauthentication":  {"true", "false", "yes", "no", "unbound", "host-bound"},
	"verifyhostkeydns":      {"true", "false", "yes", "no", "ask"},
	"updatehostkeys":        {"true", "false", "yes", "no", "ask"},
}

// flagKeys take yes/no/true/false.
var flagKeys = map[string]bool{
	"identitiesonly": true, "passwordauthentication": true, "kbdinteractiveauthentication": true,
	"hashknownhosts": true, "permitlocalcommand": true, "batchmode": true, "checkhostip": true,
	"exitonforwardfailure": true, "gatewayports": true, "hostbasedauthentication": true,
	"tcpkeepalive": true, "clearallforwardings": true, "enablesshkeysign": true,
	"nohostauthenticationforlocalhost": true, "visualhostkey": true, "canonicalizefallbacklocal": true,
	"streamlocalbindunlink": true, "stdinnull": true, "forkafterauthentication": true,
	"proxyusefdpass": true, "forwardx11": true, "forwardx11trusted": true, "enableescapecommandline": true,
}

var timeKeys = map[string]bool{"connecttimeout": true, "serveraliveinterval": true, "forwardx11timeout": true}

var intKeys = map[string]bool{
	"serveralivecountmax": true, "connectionattempts": true, "canonicalizemaxdots": true,
	"numberofpasswordprompts": true, "requiredrsasize": true,
}

// check refuses a line as OpenSSH would, whether or not it applies: ssh
// reads every line's arguments, active or not. Only the keywords whose
// values nbtunnel uses, and the argument counts, are checked.
func check(key string, k kind, args []string, written string) error {
	switch k {
	case kindOne, kindAppend:
		if len(args) == 0 || args[0] == "" {
			return errors.New("missing argument")
		}
		if len(args) > 1 {
			return fmt.Errorf("keyword %s extra arguments at end of line", written)
		}
	case kindForward:
		if len(args) == 0 || args[0] == "" {
			return errors.New("missing argument")
		}
		want := map[string][2]int{"localforward": {2, 2}, "remoteforward": {1, 2}, "dynamicforward": {1, 1}}[key]
		if len(args) < want[0] || args[len(args)-1] == "" {
			return errors.New("missing target argument")
		}
		if len(args) > want[1] {
			return fmt.Errorf("keyword %s extra arguments at end of line", written)
		}
		return nil
	case kindList:
		if len(args) == 0 {
			return errors.New("missing argument")
		}
		for _, a := range args {
			if a == "" && key != "setenv" {
				return fmt.Errorf("keyword %s empty argument", written)
			}
			if strings.EqualFold(a, "none") && len(args) > 1 && (key == "globalknownhostsfile" || key == "userknownhostsfile") {
				return fmt.Errorf("keyword %s \"none\" argument must appear alone", written)
			}
			if key == "setenv" && !strings.Contains(a, "=") {
				return errors.New("invalid SetEnv")
			}
		}
		return nil
	case kindSendEnv:
		for _, a := range args {
			if a == "" || strings.Contains(a, "=") {
				return errors.New("invalid environment name")
			}
		}
		return nil
	default:
		return nil
	}
	v := args[0]
	switch {
	case key == "port":
		if p := a2port(v); p <= 0 {
			return fmt.Errorf("bad port '%s'", v)
		}
	case timeKeys[key]:
		if v != "none" {
			if _, err := Convtime(v); err != nil {
				return fmt.Errorf("invalid time value %q", v)
			}
		}
	case intKeys[key]:
		// atoi_err: strtonum(0, INT_MAX)
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > 1<<31-1:
			return fmt.Errorf("integer value too large")
		case err != nil:
			return fmt.Errorf("integer value invalid")
		case n < 0:
			return fmt.Errorf("integer value too small")
		}
	case flagKeys[key]:
		if !oneOf(v, "yes", "no", "true", "false") {
			return fmt.Errorf("unsupported option %q", v)
		}
	case multistate[key] != nil:
		if !oneOf(v, multistate[key]...) {
			return fmt.Errorf("unsupported option %q", v)
		}
	}
	return nil
}

func oneOf(v string, list ...string) bool {
	for _, s := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// a2port is OpenSSH's a2port: a number 0..65535 or a tcp service name;
// -1 when neither.
func a2port(s string) int {
	if n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		if n < 0 || n > 65535 {
			return -1
		}
		return int(n)
	}
	if p, err := net.LookupPort("tcp", s); err == nil {
		return p
	}
	return -1
}

// Convtime reads OpenSSH's time format (convtime in misc.c): a number of
// seconds, or numbers each with an s, m, h, d or w suffix, concatenated.
// It returns seconds.
func Convtime(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty time")
	}
	var total int64
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > 1<<31-1 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		mult := int64(1)
		s = s[i:]
		if s != "" {
			switch s[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 3600
			case 'd', 'D':
				mult = 86400
			case 'w', 'W':
				mult = 604800
			default:
				return 0, fmt.Errorf("invalid time unit in %q", s)
			}
			s = s[1:]
		}
		total += n * mult
		if total > 1<<31-1 {
			return 0, errors.New("time too large")
		}
	}
	return total, nil
}

// checkJump checks a ProxyJump value's syntax (parse_jump): "none", or
// comma-separated [user@]host[:port] or ssh://[user@]host[:port] hops.
func checkJump(v string) error {
	if strings.EqualFold(v, "none") {
		return nil
	}
	_, err := ParseJump(v)
	return err
}

// Jump is one ProxyJump hop.
type Jump struct {
	User string
	Host string
	Port int // 0: not given
}

// ParseJump splits a ProxyJump value into its hops.
func ParseJump(v string) ([]Jump, error) {
	var hops []Jump
	for _, spec := range strings.Split(v, ",") {
		var h Jump
		if rest, ok := strings.CutPrefix(spec, "ssh://"); ok {
			spec = strings.TrimSuffix(rest, "/")
			if strings.Contains(spec, "/") {
				return nil, fmt.Errorf("invalid hop %q", spec)
			}
		}
		if i := strings.LastIndex(spec, "@"); i >= 0 {
			h.User, spec = spec[:i], spec[i+1:]
			if h.User == "" {
				return nil, fmt.Errorf("invalid hop %q", spec)
			}
		}
		host, port := spec, ""
		if strings.HasPrefix(spec, "[") {
			end := strings.Index(spec, "]")
			if end < 0 {
				return nil, fmt.Errorf("invalid hop %q", spec)
			}
			host, port = spec[1:end], spec[end+1:]
			if port != "" {
				if port[0] != ':' {
					return nil, fmt.Errorf("invalid hop %q", spec)
				}
				port = port[1:]
			}
		} else if i := strings.IndexByte(spec, ':'); i >= 0 {
			host, port = spec[:i], spec[i+1:]
		}
		if host == "" {
			return nil, fmt.Errorf("invalid hop %q", spec)
		}
		if port != "" {
			p := a2port(port)
			if p <= 0 {
				return nil, fmt.Errorf("invalid port in hop %q", spec)
			}
			h.Port = p
		}
		h.Host = host
		hops = append(hops, h)
	}
	return hops, nil
}

func readAll(f *os.File) ([]byte, error) { return io.ReadAll(f) }
