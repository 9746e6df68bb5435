package hostconf

import (
	"net"
	"strconv"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

// Host is everything nbtunnel needs to reach one remote machine, resolved
// from the user's OpenSSH config or PuTTY saved session. It is plain data;
// the zero value of each field means "not set" and the connection code
// applies OpenSSH's default.
type Host struct {
	// Alias is what the user typed ("gpu-box"), or the PuTTY session name.
	Alias string
	// HostName is the address to connect to (after %h expansion).
	HostName string
	// Port is the TCP port; 0 means 22.
	Port int
	// User is the remote login name; "" means the local user name.
	User string

	// IdentityFiles are private key paths, already expanded (~ and %-tokens).
	// Files with a .ppk ending are PuTTY keys.
	IdentityFiles []string
	// IdentitiesOnly limits authentication to IdentityFiles (and agent keys
	// whose public half matches one of them).
	IdentitiesOnly bool
	// IdentityAgent is the agent socket path; "" means $SSH_AUTH_SOCK and
	// "none" disables the agent. On Windows "pageant" means Pageant.
	IdentityAgent string
	// PasswordAuthentication and KbdInteractiveAuthentication follow
	// OpenSSH's yes/no; nil means yes.
	PasswordAuthentication       *bool
	KbdInteractiveAuthentication *bool

	// HostKeys checks the server's host key. It is built from known_hosts
	// (OpenSSH) or PuTTY's host-key cache, with StrictHostKeyChecking's
	// meaning applied. It is never nil for a resolved host.
	HostKeys hostkeys.Checker
	// HostKeyAlias is the name host keys are recorded under instead of
	// HostName ("" = HostName, as [HostName]:port for a port other than 22).
	HostKeyAlias string

	// ProxyJump is the jump chain, first hop first. Each hop is resolved
	// as a Host of its own (its own config applies, as in OpenSSH).
	ProxyJump []*Host
	// ProxyCommand is the command run as the transport, with %-tokens
	// already expanded; "" means a direct TCP connection.
	ProxyCommand string

	ConnectTimeout      time.Duration
	ServerAliveInterval time.Duration
	ServerAliveCountMax int // 0 means OpenSSH's default of 3

	// ControlPath is the expanded ControlMaster socket path, "" if none.
	ControlPath   string
	ControlMaster string // yes, no, auto, ask, autoask; "" means no

	// HostKeyAlgorithms and Ciphers are the user's explicit preferences, if
	// any (already resolved against OpenSSH's defaults; nil = not set).
	HostKeyAlgorithms []string
	Ciphers           []string

	// Source names where these settings came from, for error messages:
	// a config file path or "PuTTY session NAME".
	Source string
	// LocalForwards are the LocalForward entries the config already has for
	// this host (so a port we pick never collides with one).
	LocalForwards []Forward

	// jumpSpec is the ProxyJump value as the config wrote it (for
	// WriteConfig).
	jumpSpec string
}

// Forward is one local forward: Listen (host:port) to Target (host:port or
// a unix socket path).
type Forward struct {
	Listen string
	Target string
}

// Addr returns HostName:Port, with the default port filled in.
func (h *Host) Addr() string {
	port := h.Port
	if port == 0 {
		port = 22
	}
	return joinHostPort(h.HostName, port)
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
