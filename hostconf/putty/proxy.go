package putty

// PuTTY's ProxyMethod values (PuTTY 0.77 and later; 0.78 reads these
// first) and, for older sessions, the legacy ProxyType values.
const (
	ProxyNone         = 0
	ProxySOCKS4       = 1
	ProxySOCKS5       = 2
	ProxyHTTP         = 3
	ProxyTelnet       = 4
	ProxyCommand      = 5 // "Local": run a local command as the transport
	ProxySSHTCPIP     = 6 // "SSH to proxy and use port forwarding"
	ProxySSHExec      = 7
	ProxySSHSubsystem = 8

	// LegacyProxyCommand is the legacy ProxyType value for a local
	// proxy command (ProxyType: 0 none, 1 HTTP, 2 SOCKS, 3 Telnet, 4 command).
	LegacyProxyCommand = 4
)

// ProxyMethod returns the session's proxy method as PuTTY 0.78 reads
// it: ProxyMethod when it holds a known value, else the legacy ProxyType
// (and ProxySOCKSVersion) mapped to ProxyMethod's numbering.
func ProxyMethod(s *Session) int {
	if m := s.Int("ProxyMethod", -1); m >= ProxyNone && m <= ProxySSHSubsystem {
		return m
	}
	switch s.Int("ProxyType", 0) {
	case 1:
		return ProxyHTTP
	case 2:
		if s.Int("ProxySOCKSVersion", 5) == 4 {
			return ProxySOCKS4
		}
		return ProxySOCKS5
	case 3:
		return ProxyTelnet
	case 4:
		return ProxyCommand
	}
	return ProxyNone
}
