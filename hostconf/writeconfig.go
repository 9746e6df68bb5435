package hostconf

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// WriteConfig writes the settings of h that nbtunnel uses in `ssh -G`'s
// format and order: one lower-case "key value" line each, yes/no and
// true/false where ssh -G prints them, lists comma-joined, files
// space-joined, times in seconds. Unlike ssh -G (OpenSSH 9.2), it prints
// IdentityFile and ProxyCommand with ~ and %-tokens already expanded, and
// a LocalForward's listen side always as [address]:port: the values
// nbtunnel itself will use.
func WriteConfig(w io.Writer, h *Host) error {
	b := bufio.NewWriter(w)
	p := func(key, val string) { fmt.Fprintf(b, "%s %s\n", key, val) }
	yesNo := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	p("host", h.Alias)
	p("user", h.User)
	p("hostname", h.HostName)
	port := h.Port
	if port == 0 {
		port = 22
	}
	p("port", strconv.Itoa(port))
	switch h.ControlMaster {
	case "":
		p("controlmaster", "false")
	case "yes":
		p("controlmaster", "true")
	default:
		p("controlmaster", h.ControlMaster)
	}
	p("identitiesonly", yesNo(h.IdentitiesOnly))
	p("kbdinteractiveauthentication", yesNo(h.KbdInteractiveAuthentication == nil || *h.KbdInteractiveAuthentication))
	p("passwordauthentication", yesNo(h.PasswordAuthentication == nil || *h.PasswordAuthentication))
	if pol, ok := h.HostKeys.(interface{ Policy() string }); ok {
		v := pol.Policy()
		switch v {
		case "yes":
			v = "true"
		case "no", "off":
			v = "false"
		}
		p("stricthostkeychecking", v)
	}
	count := h.ServerAliveCountMax
	if count == 0 {
		count = 3
	}
	p("serveralivecountmax", strconv.Itoa(count))
	p("serveraliveinterval", strconv.Itoa(int(h.ServerAliveInterval.Seconds())))
	ciphers := h.Ciphers
	if ciphers == nil {
		ciphers = defaultCiphers
	}
	p("ciphers", strings.Join(ciphers, ","))
	if h.ControlPath != "" {
		p("controlpath", h.ControlPath)
	}
	algs := h.HostKeyAlgorithms
	if algs == nil {
		algs = defaultHostKeyAlgorithms
	}
	p("hostkeyalgorithms", strings.Join(algs, ","))
	if h.HostKeyAlias != "" {
		p("hostkeyalias", h.HostKeyAlias)
	}
	if h.IdentityAgent != "" {
		p("identityagent", h.IdentityAgent)
	}
	for _, f := range h.LocalForwards {
		p("localforward", forwardSide(f.Listen)+" "+forwardSide(f.Target))
	}
	for _, f := range h.IdentityFiles {
		p("identityfile", f)
	}
	if fl, ok := h.HostKeys.(interface{ Files() ([]string, []string) }); ok {
		user, global := fl.Files()
		p("globalknownhostsfile", joinOrNone(global))
		p("userknownhostsfile", joinOrNone(user))
	}
	if h.ConnectTimeout > 0 {
		p("connecttimeout", strconv.Itoa(int(h.ConnectTimeout.Seconds())))
	} else {
		p("connecttimeout", "none")
	}
	if h.ProxyCommand != "" {
		p("proxycommand", h.ProxyCommand)
	}
	if h.jumpSpec != "" {
		p("proxyjump", jumpForG(h.jumpSpec))
	}
	return b.Flush()
}

func joinOrNone(files []string) string {
	if len(files) == 0 {
		return "none"
	}
	return strings.Join(files, " ")
}

// forwardSide prints host:port as ssh -G does ([host]:port); a unix
// socket path stays as it is.
func forwardSide(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return s
	}
	return "[" + host + "]:" + port
}

// jumpForG prints a ProxyJump value as ssh -G does: the hops before the
// last as written, the last one without its ssh:// scheme.
func jumpForG(spec string) string {
	head, last := "", spec
	if i := strings.LastIndexByte(spec, ','); i >= 0 {
		head, last = spec[:i+1], spec[i+1:]
	}
	if rest, ok := strings.CutPrefix(last, "ssh://"); ok {
		last = strings.TrimSuffix(rest, "/")
	}
	return head + last
}
