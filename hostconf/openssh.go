package hostconf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// ResolveOptions says where Resolve finds the user's OpenSSH settings and
// how it reaches the user for decisions.
type ResolveOptions struct {
	// ConfigFile is the file given with ssh -F; "" means ~/.ssh/config
	// followed by /etc/ssh/ssh_config (%ProgramData%\ssh\ssh_config on
	// Windows; either may be missing).
	ConfigFile string
	// Home is the user's home directory, for ~ and the default files.
	// Required.
	Home string
	// LocalUser is the local login name, for %u and the default User.
	LocalUser string
	// Getenv reads the environment (SSH_AUTH_SOCK, ${VAR} in paths); nil
	// means an empty environment.
	Getenv func(string) string
	// SSHPath is the ssh binary used for the `ssh -G` fallback when a
	// config needs OpenSSH's own evaluation (see package sshconfig); ""
	// looks up "ssh" in PATH and "-" disables the fallback.
	SSHPath string
	// Ask is called for StrictHostKeyChecking ask when a host key is
	// unknown; nil refuses unknown keys.
	Ask func(ctx context.Context, question string) (bool, error)
	// Warn receives non-fatal problems (skipped known_hosts lines, ...);
	// nil drops them.
	Warn func(msg string)
	// MatchExec, if set, runs a Match exec command instead of the user's
	// shell (tests, fuzzing); nil runs it as ssh does.
	MatchExec func(ctx context.Context, command string) (bool, error)
	// SkipHooks reads the configs as if nbtunnel's own hook blocks were
	// not there: nbtunnel running as a host's ProxyCommand takes the route
	// (direct, ProxyJump) the user's ssh would take without the hook.
	SkipHooks bool

	// systemConfig overrides /etc/ssh/ssh_config (tests).
	systemConfig string
	// etcSSH overrides /etc/ssh as the base of relative system Includes.
	etcSSH string
}

// Defaults of OpenSSH 9.2, as `ssh -G` prints them.
var (
	defaultCiphers = []string{"chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}
	defaultHostKeyAlgorithms = []string{"ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
		"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-ed25519",
		"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512", "rsa-sha2-256"}
	defaultIdentityFiles = []string{"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
		"~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa"}
)

// maxJumpDepth bounds ProxyJump recursion (a hop whose own config jumps
// back through it would otherwise never end).
const maxJumpDepth = 8

// ErrUnsupportedConfig marks a config that Resolve cannot evaluate itself
// (see package sshconfig: DNS canonicalization, a keyword or Match
// criterion newer than OpenSSH 9.2) and that no ssh binary could evaluate
// either.
var ErrUnsupportedConfig = sshconfig.ErrUnsupported

// ErrJumpLoop marks a ProxyJump chain that leads back into itself (or
// deeper than nbtunnel follows). Resolve refuses it when it reads the
// config; ssh refuses it only when it connects (ssh -G prints it).
var ErrJumpLoop = errors.New("ProxyJump loop")

// Resolve returns the settings OpenSSH would use for `ssh alias`: it reads
// the config files with package sshconfig (OpenSSH's own rules), expands
// ~, ${VAR} and the %-tokens each keyword accepts, resolves each ProxyJump
// hop as a Host of its own, and builds Host.HostKeys from the known_hosts
// files with StrictHostKeyChecking applied. An alias may carry a user
// ("user@alias").
//
// When the config needs OpenSSH's own evaluation (sshconfig.ErrUnsupported),
// it takes the settings from `ssh -G` (see ResolveOptions.SSHPath). Errors
// about a config file or line are *ConfigError, naming the file and line.
func Resolve(ctx context.Context, alias string, o ResolveOptions) (*Host, error) {
	budget := maxResolves
	return resolve(ctx, alias, o, "", 0, 0, &budget)
}

// maxResolves bounds the hosts one Resolve resolves, jump hops included.
const maxResolves = 64

func resolve(ctx context.Context, alias string, o ResolveOptions, cmdUser string, cmdPort, depth int, budget *int) (*Host, error) {
	if *budget <= 0 {
		return nil, fmt.Errorf("resolving %s: too many ProxyJump hops (more than %d hosts)", alias, maxResolves)
	}
	*budget--
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolving %s: %w", alias, err)
	}
	if o.Home == "" {
		return nil, errors.New("resolving ssh host: ResolveOptions.Home is not set")
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if u, h, ok := strings.Cut(alias, "@"); ok && cmdUser == "" {
		cmdUser, alias = u, h
	}
	if alias == "" {
		return nil, errors.New("resolving ssh host: empty host name")
	}
	eo, source, err := engineOptions(o)
	if err != nil {
		return nil, err
	}
	eo.User, eo.Port = cmdUser, cmdPort
	var set *settings
	cfg, err := sshconfig.Evaluate(ctx, alias, eo)
	if err == nil {
		set = fromEngine(cfg)
	}
	var se *sshconfig.Error
	if errors.As(err, &se) {
		err = &ConfigError{File: se.File, Line: se.Line, Err: se.Err}
	}
	fromG := false
	if err != nil {
		var unsup *sshconfig.UnsupportedError
		if !errors.As(err, &unsup) {
			return nil, err
		}
		set, err = sshG(ctx, alias, cmdUser, cmdPort, o, unsup)
		if err != nil {
			return nil, err
		}
		fromG = true
	}
	h, err := build(ctx, alias, cmdUser, cmdPort, set, fromG, o, depth, budget)
	if err != nil {
		return nil, err
	}
	h.Source = source
	return h, nil
}

// engineOptions maps ResolveOptions to the config engine's, and names the
// file reported as Host.Source.
func engineOptions(o ResolveOptions) (sshconfig.Options, string, error) {
	sys, dir := o.systemConfig, o.etcSSH
	if sys == "" {
		sys = systemConfigPath(o.Getenv)
	}
	if dir == "" && runtime.GOOS == "windows" {
		dir = filepath.Dir(sys) // ssh_known_hosts lives beside ssh_config
	}
	eo := sshconfig.Options{
		Home:         o.Home,
		LocalUser:    o.LocalUser,
		Getenv:       o.Getenv,
		SystemConfig: sys,
		SystemDir:    dir,
		Exec:         o.MatchExec,
	}
	if o.SkipHooks {
		eo.SkipLines = hookLines
	}
	if o.ConfigFile != "" {
		p, err := sshconfig.ExpandTilde(o.ConfigFile, o.Home)
		if err != nil {
			return eo, "", configErrorf(o.ConfigFile, 0, "%w", err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return eo, "", configErrorf(p, 0, "%w", err)
		}
		if fi.IsDir() {
			// ssh reads a directory as an empty file; naming it is kinder.
			return eo, "", configErrorf(p, 0, "is a directory")
		}
		eo.ConfigFile = p
		return eo, p, nil
	}
	user := filepath.Join(o.Home, ".ssh", "config")
	if _, err := os.Stat(user); err != nil {
		if _, err := os.Stat(sys); err == nil {
			return eo, sys, nil
		}
	}
	return eo, user, nil
}

// hookLines names the lines of nbtunnel's own hook blocks, so the
// settings read are those the user's ssh would use without the hook.
func hookLines(path string, data []byte) map[int]bool {
	blocks, err := fileedit.Blocks(path, data)
	if err != nil {
		return nil // a damaged block is reported by the commands that edit it
	}
	skip := map[int]bool{}
	for _, b := range blocks {
		if !strings.HasPrefix(b.Key, "hook ") {
			continue
		}
		for n := b.BeginLine; n <= b.EndLine; n++ {
			skip[n] = true
		}
	}
	return skip
}

// setting is one obtained value and where it came from.
type setting struct {
	args []string // the arguments
	text string   // the rest of the line (commands, ProxyJump), or ssh -G's value
	file string
	line int
}

func (s setting) arg() string {
	if len(s.args) == 0 {
		return s.text
	}
	return s.args[0]
}

func (s setting) where() string {
	if s.file == "" {
		return "the command line"
	}
	return fmt.Sprintf("%s line %d", s.file, s.line)
}

func (s setting) err(key string, err error) error {
	return configErrorf(s.file, s.line, "%s: %w", key, err)
}

// settings holds the obtained values per lower-case keyword.
type settings struct {
	vals     map[string][]setting
	hostName string
	cfg      *sshconfig.Config // nil for ssh -G's settings
}

func fromEngine(c *sshconfig.Config) *settings {
	s := &settings{vals: map[string][]setting{}, hostName: c.HostName, cfg: c}
	for _, k := range c.Keys() {
		for _, v := range c.All(k) {
			s.vals[k] = append(s.vals[k], setting{args: v.Args, text: v.Text, file: v.File, line: v.Line})
		}
	}
	return s
}

func (s *settings) get(key string) (setting, bool) {
	v, ok := s.vals[key]
	if !ok || len(v) == 0 {
		return setting{}, false
	}
	return v[0], true
}

// sshGTimeout bounds one `ssh -G` run.
const sshGTimeout = 10 * time.Second

// sshG takes the settings from `ssh -G`, for configs Resolve cannot
// evaluate itself.
func sshG(ctx context.Context, alias, cmdUser string, cmdPort int, o ResolveOptions, why *sshconfig.UnsupportedError) (*settings, error) {
	hint := "; install OpenSSH's ssh (used as `ssh -G` to evaluate it) or remove that line"
	if o.SSHPath == "-" {
		return nil, fmt.Errorf("%w%s", why, hint)
	}
	bin := o.SSHPath
	if bin == "" {
		p, err := exec.LookPath("ssh")
		if err != nil {
			return nil, fmt.Errorf("%w%s", why, hint)
		}
		bin = p
	}
	ctx, cancel := context.WithTimeout(ctx, sshGTimeout)
	defer cancel()
	args := []string{"-G"}
	if o.ConfigFile != "" {
		args = append(args, "-F", o.ConfigFile)
	}
	if cmdUser != "" {
		args = append(args, "-l", cmdUser)
	}
	if cmdPort != 0 {
		args = append(args, "-p", strconv.Itoa(cmdPort))
	}
	args = append(args, "--", alias)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	out, err := cmd.Output()
	if err != nil {
		// ssh refuses the config too: the line is the problem.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(stderr.String(), "\r", "")), " ")
		if msg == "" {
			msg = err.Error()
		}
		return nil, &ConfigError{File: why.File, Line: why.Line,
			Err: fmt.Errorf("%s is not supported, and %s -G refuses it too: %s", why.What, bin, msg)}
	}
	return parseSSHG(out, bin+" -G "+alias), nil
}

// parseSSHG reads `ssh -G` output: lower-case "key value" lines.
func parseSSHG(out []byte, name string) *settings {
	set := &settings{vals: map[string][]setting{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		n++
		key, val, _ := strings.Cut(sc.Text(), " ")
		if key == "" {
			continue
		}
		s := setting{args: []string{val}, text: val, file: name, line: n}
		switch key {
		case "userknownhostsfile", "globalknownhostsfile", "localforward":
			s.args = strings.Fields(val)
		case "hostname":
			set.hostName = val
		}
		set.vals[key] = append(set.vals[key], s)
	}
	return set
}

// build turns the obtained settings into a Host. Each step below decides one
// concern, in the order ssh itself reports bad values.
func build(ctx context.Context, alias, cmdUser string, cmdPort int, set *settings, fromG bool, o ResolveOptions, depth int, budget *int) (*Host, error) {
	h := &Host{Alias: alias}
	port, err := h.setDestination(alias, cmdUser, cmdPort, set, o)
	if err != nil {
		return nil, err
	}
	t := expansionTokens(alias, h, port, set, o)
	if err := h.setIdentities(set, t, o, fromG); err != nil {
		return nil, err
	}
	if err := h.setProxies(ctx, alias, set, t, o, depth, budget); err != nil {
		return nil, err
	}
	if err := h.setTimeouts(set); err != nil {
		return nil, err
	}
	if err := h.setControlMaster(set, t, o, fromG); err != nil {
		return nil, err
	}
	if h.HostKeyAlgorithms, err = algList(set, "hostkeyalgorithms", defaultHostKeyAlgorithms); err != nil {
		return nil, err
	}
	if h.Ciphers, err = algList(set, "ciphers", defaultCiphers); err != nil {
		return nil, err
	}
	if err := h.setLocalForwards(set, t, fromG); err != nil {
		return nil, err
	}
	if h.HostKeys, err = hostKeyChecker(h, set, t, o, fromG); err != nil {
		return nil, err
	}
	return h, nil
}

// setDestination decides HostName, User, HostKeyAlias and the port to dial
// (returned even when it is the default 22, which h.Port leaves zero).
func (h *Host) setDestination(alias, cmdUser string, cmdPort int, set *settings, o ResolveOptions) (int, error) {
	// HostName: %h expanded and lower-cased by the engine (or ssh -G).
	h.HostName = set.hostName
	if h.HostName == "" {
		h.HostName = strings.ToLower(alias)
	}

	h.User = o.LocalUser
	if cmdUser != "" {
		h.User = cmdUser
	} else if s, ok := set.get("user"); ok {
		h.User = s.arg()
	}
	port := 22
	if cmdPort != 0 {
		port = cmdPort
	} else if set.cfg != nil {
		port = set.cfg.Port()
	} else if s, ok := set.get("port"); ok {
		p, err := strconv.Atoi(s.arg())
		if err != nil || p <= 0 || p > 65535 {
			return 0, s.err("Port", fmt.Errorf("invalid port %q", s.text))
		}
		port = p
	}
	if port != 22 {
		h.Port = port
	}
	if s, ok := set.get("hostkeyalias"); ok {
		h.HostKeyAlias = strings.ToLower(s.arg()) // as ssh lower-cases it
	}
	return port, nil
}

// expansionTokens is what %-tokens in h's later settings expand to.
func expansionTokens(alias string, h *Host, port int, set *settings, o ResolveOptions) sshconfig.Tokens {
	localHost, _ := os.Hostname()
	t := sshconfig.Tokens{
		Home: o.Home, HostName: h.HostName, Port: port, RemoteUser: h.User, LocalUser: o.LocalUser,
		Original: alias, LocalHost: localHost, UID: strconv.Itoa(os.Getuid()), HostKeyAlias: h.HostKeyAlias,
	}
	if s, ok := set.get("proxyjump"); ok && !strings.EqualFold(s.text, "none") {
		t.ProxyJump = s.text
	}
	return t
}

// setIdentities decides which keys are offered (IdentityFile,
// IdentitiesOnly), which agent holds them (IdentityAgent) and which other
// authentication methods are allowed.
func (h *Host) setIdentities(set *settings, t sshconfig.Tokens, o ResolveOptions, fromG bool) error {
	ids := set.vals["identityfile"]
	if len(ids) == 0 {
		for _, d := range defaultIdentityFiles {
			ids = append(ids, setting{args: []string{d}, text: d, file: "OpenSSH's defaults"})
		}
	}
	for _, s := range ids {
		p, err := t.ExpandPath(s.arg(), o.Getenv)
		if err != nil {
			return s.err("IdentityFile", err)
		}
		h.IdentityFiles = append(h.IdentityFiles, p)
	}
	if s, ok := set.get("identitiesonly"); ok {
		b, err := parseYesNo(s.arg())
		if err != nil {
			return s.err("IdentitiesOnly", err)
		}
		h.IdentitiesOnly = b
	}
	if s, ok := set.get("identityagent"); ok {
		a, err := identityAgent(s, t, o, fromG)
		if err != nil {
			return err
		}
		h.IdentityAgent = a
	}
	for key, dst := range map[string]**bool{
		"passwordauthentication":       &h.PasswordAuthentication,
		"kbdinteractiveauthentication": &h.KbdInteractiveAuthentication,
	} {
		if s, ok := set.get(key); ok {
			b, err := parseYesNo(s.arg())
			if err != nil {
				return s.err(key, err)
			}
			*dst = &b
		}
	}
	return nil
}

// identityAgent decides the agent socket an IdentityAgent setting names:
// "" for SSH_AUTH_SOCK, "none", or a path.
func identityAgent(s setting, t sshconfig.Tokens, o ResolveOptions, fromG bool) (string, error) {
	v := s.arg()
	switch {
	case v == "SSH_AUTH_SOCK":
		return "", nil
	case strings.EqualFold(v, "none"):
		return "none", nil
	case strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "${"):
		// "$VAR": the variable holds the socket path (${VAR} inside
		// a path is expanded below, like any file name).
		name := v[1:]
		a := o.Getenv(name)
		if a == "" {
			return "", s.err("IdentityAgent", fmt.Errorf("environment variable %s is not set", name))
		}
		return a, nil
	case fromG:
		return v, nil
	default:
		p, err := t.ExpandPath(v, o.Getenv)
		if err != nil {
			return "", s.err("IdentityAgent", err)
		}
		return p, nil
	}
}

// setProxies decides how the connection is carried: ProxyCommand, and
// ProxyJump with each hop resolved in turn.
func (h *Host) setProxies(ctx context.Context, alias string, set *settings, t sshconfig.Tokens, o ResolveOptions, depth int, budget *int) error {
	if s, ok := set.get("proxycommand"); ok {
		v := s.text
		if !strings.EqualFold(v, "none") {
			e, err := t.Expand(v, sshconfig.TokensProxy, nil)
			if err != nil {
				return s.err("ProxyCommand", err)
			}
			h.ProxyCommand = e
		}
	}
	if s, ok := set.get("proxyjump"); ok && !strings.EqualFold(s.text, "none") {
		if depth >= maxJumpDepth {
			return s.err("ProxyJump", fmt.Errorf("%w: jump chain deeper than %d hops", ErrJumpLoop, maxJumpDepth))
		}
		h.jumpSpec = s.text
		hops, err := sshconfig.ParseJump(s.text)
		if err != nil {
			return s.err("ProxyJump", err)
		}
		for i, hop := range hops {
			jh, err := resolve(ctx, hop.Host, o, hop.User, hop.Port, depth+1, budget)
			if err != nil {
				return fmt.Errorf("resolving ProxyJump hop %q of %s (%s): %w", hop.Host, alias, s.where(), err)
			}
			if i > 0 {
				// As `ssh -J a,b` runs `ssh -J a -W ... b`: the chain
				// before a later hop overrides that hop's own proxy.
				jh.ProxyJump, jh.ProxyCommand = nil, ""
			}
			h.ProxyJump = append(h.ProxyJump, jh)
		}
	}
	return nil
}

// setTimeouts decides ConnectTimeout and the keepalives
// (ServerAliveInterval, ServerAliveCountMax).
func (h *Host) setTimeouts(set *settings) error {
	for key, dst := range map[string]*time.Duration{
		"connecttimeout":      &h.ConnectTimeout,
		"serveraliveinterval": &h.ServerAliveInterval,
	} {
		if s, ok := set.get(key); ok {
			if s.arg() == "none" {
				continue
			}
			d, err := sshconfig.Convtime(s.arg())
			if err != nil {
				return s.err(key, err)
			}
			*dst = time.Duration(d) * time.Second
		}
	}
	if s, ok := set.get("serveralivecountmax"); ok {
		n, err := strconv.Atoi(s.arg())
		if err != nil || n < 0 {
			return s.err("ServerAliveCountMax", fmt.Errorf("invalid number %q", s.text))
		}
		h.ServerAliveCountMax = n
	}
	return nil
}

// setControlMaster decides connection sharing: ControlPath and ControlMaster.
func (h *Host) setControlMaster(set *settings, t sshconfig.Tokens, o ResolveOptions, fromG bool) error {
	if s, ok := set.get("controlpath"); ok && !strings.EqualFold(s.arg(), "none") {
		v := s.arg()
		if !fromG {
			p, err := t.ExpandPath(v, o.Getenv)
			if err != nil {
				return s.err("ControlPath", err)
			}
			v = p
		}
		h.ControlPath = v
	}
	if s, ok := set.get("controlmaster"); ok {
		switch v := strings.ToLower(s.arg()); v {
		case "yes", "true":
			h.ControlMaster = "yes"
		case "no", "false":
			h.ControlMaster = ""
		case "auto", "ask", "autoask":
			h.ControlMaster = v
		default:
			return s.err("ControlMaster", fmt.Errorf("invalid value %q", v))
		}
	}
	return nil
}

// setLocalForwards decides the LocalForward listeners and their targets.
func (h *Host) setLocalForwards(set *settings, t sshconfig.Tokens, fromG bool) error {
	for _, s := range set.vals["localforward"] {
		args := s.args
		if len(args) != 2 {
			return s.err("LocalForward", fmt.Errorf("want 2 arguments, got %q", s.text))
		}
		listen, err := parseForwardSide(args[0], true)
		if err != nil {
			return s.err("LocalForward", err)
		}
		target, err := parseForwardSide(args[1], false)
		if err != nil {
			return s.err("LocalForward", err)
		}
		// Socket paths take %-tokens (${VAR} was expanded as the line was
		// read, and ~ is not expanded), as ssh does.
		if strings.Contains(listen, "/") && !fromG {
			if listen, err = t.Expand(listen, sshconfig.TokensDefault, nil); err != nil {
				return s.err("LocalForward", err)
			}
		}
		if strings.Contains(target, "/") && !fromG {
			if target, err = t.Expand(target, sshconfig.TokensDefault, nil); err != nil {
				return s.err("LocalForward", err)
			}
		}
		h.LocalForwards = append(h.LocalForwards, Forward{Listen: listen, Target: target})
	}
	return nil
}

// hostKeyChecker decides how h's host key is checked: the known_hosts files,
// StrictHostKeyChecking and HashKnownHosts, for h's HostKeyAlias and
// HostKeyAlgorithms (so those must be set first).
func hostKeyChecker(h *Host, set *settings, t sshconfig.Tokens, o ResolveOptions, fromG bool) (hostkeys.Checker, error) {
	userFiles, err := fileList(set, "userknownhostsfile", []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}, t, o, fromG)
	if err != nil {
		return nil, err
	}
	globalFiles, err := fileList(set, "globalknownhostsfile", []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}, t, o, fromG)
	if err != nil {
		return nil, err
	}
	strict := "ask"
	if s, ok := set.get("stricthostkeychecking"); ok {
		strict = strings.ToLower(s.arg())
	}
	hash := false
	if s, ok := set.get("hashknownhosts"); ok {
		if hash, err = parseYesNo(s.arg()); err != nil {
			return nil, s.err("HashKnownHosts", err)
		}
	}
	kh, err := hostkeys.NewKnownHosts(userFiles, globalFiles, strict, hostkeys.KnownHostsOptions{
		Ask:               o.Ask,
		Warn:              o.Warn,
		HashKnownHosts:    hash,
		HostKeyAlias:      h.HostKeyAlias,
		HostKeyAlgorithms: h.HostKeyAlgorithms,
	})
	if err != nil {
		if s, ok := set.get("stricthostkeychecking"); ok {
			return nil, s.err("StrictHostKeyChecking", err)
		}
		return nil, err
	}
	return kh, nil
}

// fileList reads a space-separated list of files ("none" = no file).
// UserKnownHostsFile takes ~, ${VAR} and %-tokens (ssh -G prints it
// expanded); GlobalKnownHostsFile only ~, as ssh expands it.
func fileList(set *settings, key string, def []string, t sshconfig.Tokens, o ResolveOptions, fromG bool) ([]string, error) {
	s, ok := set.get(key)
	var args []string
	if ok {
		args = s.args
		if len(args) == 1 && strings.EqualFold(args[0], "none") {
			return nil, nil
		}
	} else {
		args = def
		fromG = false
	}
	var out []string
	for _, a := range args {
		var p string
		var err error
		switch {
		case key == "globalknownhostsfile":
			p, err = sshconfig.ExpandTilde(a, o.Home)
		case fromG:
			p = a
		default:
			p, err = t.ExpandPath(a, o.Getenv)
		}
		if err != nil {
			return nil, s.err(key, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("want yes or no, got %q", v)
}

// algList resolves an algorithm list against OpenSSH's defaults: a plain
// list replaces them, "+list" appends, "-list" removes (wildcards allowed)
// and "^list" puts first. nil when the setting is absent or equal to the
// defaults (as `ssh -G` prints them).
func algList(set *settings, key string, def []string) ([]string, error) {
	s, ok := set.get(key)
	if !ok {
		return nil, nil
	}
	v := strings.TrimSpace(s.arg())
	if v == "" {
		return nil, s.err(key, errors.New("empty list"))
	}
	var out []string
	switch v[0] {
	case '+':
		out = append(append([]string{}, def...), splitComma(v[1:])...)
	case '^':
		out = splitComma(v[1:])
		for _, d := range def {
			if !contains(out, d) {
				out = append(out, d)
			}
		}
	case '-':
		for _, d := range def {
			if sshconfig.MatchPatternList(d, v[1:], false) != 1 {
				out = append(out, d)
			}
		}
	default:
		out = splitComma(v)
	}
	if strings.Join(out, ",") == strings.Join(def, ",") {
		return nil, nil
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseForwardSide reads one side of a LocalForward: port, host:port,
// [host]:port, host/port, *:port, or a unix socket path. The listen side
// without an address gets "localhost".
func parseForwardSide(s string, listen bool) (string, error) {
	if strings.Contains(s, "/") && !strings.Contains(s, ":") && strings.Count(s, "/") != 1 || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") {
		return s, nil // unix socket path
	}
	host, port := "", s
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 || len(s) < end+2 || (s[end+1] != ':' && s[end+1] != '/') {
			return "", fmt.Errorf("invalid forward %q", s)
		}
		host, port = s[1:end], s[end+2:]
	case strings.LastIndexAny(s, ":/") >= 0:
		i := strings.LastIndexAny(s, ":/")
		host, port = s[:i], s[i+1:]
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("invalid port in forward %q", s)
	}
	if host == "" {
		if !listen {
			return "", fmt.Errorf("missing host in forward target %q", s)
		}
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

// systemConfigPath is the system-wide ssh_config: /etc/ssh/ssh_config, or
// on Windows %ProgramData%\ssh\ssh_config, where Win32-OpenSSH keeps it.
func systemConfigPath(getenv func(string) string) string {
	if runtime.GOOS != "windows" {
		return "/etc/ssh/ssh_config"
	}
	dir := getenv("ProgramData")
	if dir == "" {
		dir = `C:\ProgramData`
	}
	return filepath.Join(dir, "ssh", "ssh_config")
}
