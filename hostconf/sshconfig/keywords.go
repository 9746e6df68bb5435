package sshconfig

// kind says how a keyword's lines are read and which value is obtained.
type kind int

const (
	kindOne       kind = iota // exactly one argument; the first obtained wins
	kindAny                   // arguments not checked here; the first obtained line wins
	kindAppend                // one argument; every active line adds (IdentityFile, CertificateFile)
	kindForward               // LocalForward, RemoteForward, DynamicForward: every active line adds
	kindList                  // one or more arguments; the first obtained line wins as a whole
	kindSendEnv               // SendEnv: names add, "-pattern" removes
	kindCommand               // the rest of the line, as written (ProxyCommand, LocalCommand, ...)
	kindProxyJump             // ProxyJump: the rest of the line up to '#'
	kindIgnored               // accepted and ignored (deprecated, unsupported, Protocol)
	kindHost
	kindMatch
	kindInclude
)

// keyword is one entry of OpenSSH 9.2's keyword table (readconf.c), as
// Debian 12 builds it (GSSAPI with Debian's key-exchange patch, PKCS#11).
type keyword struct {
	name string // canonical lower-case name ("kbdinteractiveauthentication" for its aliases)
	kind kind
}

var keywords = map[string]keyword{}

func init() {
	add := func(k kind, names ...string) {
		for _, n := range names {
			keywords[n] = keyword{name: n, kind: k}
		}
	}
	alias := func(name, canonical string) {
		k := keywords[canonical]
		keywords[name] = keyword{name: canonical, kind: k.kind}
	}
	add(kindIgnored, "protocol", "cipher", "fallbacktorsh", "globalknownhostsfile2", "rhostsauthentication",
		"userknownhostsfile2", "useroaming", "usersh", "useprivilegedport", "afstokenpassing",
		"kerberosauthentication", "kerberostgtpassing", "rsaauthentication", "rhostsrsaauthentication",
		"compressionlevel", "smartcarddevice")
	add(kindOne, "gssapiauthentication", "gssapidelegatecredentials", "gssapikeyexchange",
		"gssapiclientidentity", "gssapiserveridentity", "gssapirenewalforcesrekey", "gssapitrustdns",
		"gssapikexalgorithms", "pkcs11provider",
		"forwardagent", "exitonforwardfailure", "xauthlocation", "gatewayports", "passwordauthentication",
		"kbdinteractiveauthentication", "kbdinteractivedevices", "pubkeyauthentication",
		"hostbasedauthentication", "identitiesonly", "identityagent", "hostname", "hostkeyalias", "port",
		"ciphers", "macs", "user", "escapechar", "connectionattempts", "batchmode", "checkhostip",
		"stricthostkeychecking", "compression", "tcpkeepalive", "numberofpasswordprompts",
		"syslogfacility", "loglevel", "preferredauthentications", "hostkeyalgorithms",
		"casignaturealgorithms", "bindaddress", "bindinterface", "clearallforwardings",
		"enablesshkeysign", "verifyhostkeydns", "nohostauthenticationforlocalhost", "connecttimeout",
		"addressfamily", "serveraliveinterval", "serveralivecountmax", "controlpath", "controlmaster",
		"controlpersist", "hashknownhosts", "tunnel", "tunneldevice", "permitlocalcommand",
		"visualhostkey", "kexalgorithms", "requesttty", "sessiontype", "stdinnull",
		"forkafterauthentication", "proxyusefdpass", "canonicalizefallbacklocal",
		"canonicalizehostname", "canonicalizemaxdots", "streamlocalbindmask", "streamlocalbindunlink",
		"revokedhostkeys", "fingerprinthash", "updatehostkeys", "hostbasedacceptedalgorithms",
		"pubkeyacceptedalgorithms", "ignoreunknown", "securitykeyprovider", "requiredrsasize",
		"enableescapecommandline", "forwardx11", "forwardx11trusted", "forwardx11timeout")
	add(kindAny, "rekeylimit", "ipqos", "addkeystoagent")
	add(kindAppend, "identityfile", "certificatefile")
	add(kindForward, "localforward", "remoteforward", "dynamicforward")
	add(kindList, "globalknownhostsfile", "userknownhostsfile", "canonicaldomains", "logverbose",
		"permitremoteopen", "setenv", "canonicalizepermittedcnames")
	add(kindSendEnv, "sendenv")
	add(kindCommand, "proxycommand", "localcommand", "remotecommand", "knownhostscommand")
	add(kindProxyJump, "proxyjump")
	add(kindHost, "host")
	add(kindMatch, "match")
	add(kindInclude, "include")
	alias("challengeresponseauthentication", "kbdinteractiveauthentication")
	alias("skeyauthentication", "kbdinteractiveauthentication")
	alias("tisauthentication", "kbdinteractiveauthentication")
	alias("dsaauthentication", "pubkeyauthentication")
	alias("identityfile2", "identityfile")
	alias("keepalive", "tcpkeepalive")
	alias("hostbasedkeytypes", "hostbasedacceptedalgorithms")
	alias("pubkeyacceptedkeytypes", "pubkeyacceptedalgorithms")
	alias("gssapiauthentication", "gssapiauthentication")
}
