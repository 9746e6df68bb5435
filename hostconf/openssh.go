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
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

// ResolveOptions says where Resolve finds the user's OpenSSH settings and
// how it reaches the user for decisions.
type ResolveOptions struct {
	// ConfigFile is the file given with ssh -F; "" means ~/.ssh/config
	// followed by /etc/ssh/ssh_config (either may be missing).
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
	// config uses Match criteria Resolve cannot evaluate itself; "" looks
	// up "ssh" in PATH and "-" disables the fallback.
	SSHPath string
	// Ask is called for StrictHostKeyChecking ask when a host key is
	// unknown; nil refuses unknown keys.
	Ask func(ctx context.Context, question string) (bool, error)
	// Warn receives non-fatal problems (skipped known_hosts lines, ...);
	// nil drops them.
	Warn func(msg string)
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

// maxIncludeDepth is OpenSSH's READCONF_MAX_DEPTH.
const maxIncludeDepth = 16

// maxJumpDepth bounds ProxyJump recursion (a hop whose own config jumps
// back through it would otherwise never end).
const maxJumpDepth = 8

// ErrUnsupportedConfig marks a config that Resolve cannot evaluate itself
// (Match exec, an unknown Match criterion) and that no ssh binary could
// evaluate either.
var ErrUnsupportedConfig = errors.New("unsupported ssh config")

// Resolve returns the settings OpenSSH would use for `ssh alias`: it reads
// the config files (Host and Match blocks, Include, first value wins,
// IdentityFile and LocalForward accumulate), expands ~, ${VAR} and the
// %-tokens each keyword accepts, resolves each ProxyJump hop as a Host of
// its own, and builds Host.HostKeys from the known_hosts files with
// StrictHostKeyChecking applied. An alias may carry a user ("user@alias").
//
// When the config uses Match criteria Resolve cannot evaluate (exec), it
// takes the settings from `ssh -G` (see ResolveOptions.SSHPath). Errors name
// the config file and line.
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
	files, source, err := configFiles(o)
	if err != nil {
		return nil, err
	}
	var set *settings
	cfgs, err := loadConfigs(files, o)
	if err == nil {
		set, err = evaluate(cfgs, alias, cmdUser, o)
	}
	fromG := false
	if err != nil {
		var unsup *unsupportedError
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

// configFiles lists the files OpenSSH reads, in order, and the one named
// as Host.Source.
func configFiles(o ResolveOptions) ([]configRef, string, error) {
	if o.ConfigFile != "" {
		p, err := expandTilde(o.ConfigFile, o.Home)
		if err != nil {
			return nil, "", configErrorf(o.ConfigFile, 0, "%w", err)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, "", configErrorf(p, 0, "%w", err)
		}
		return []configRef{{path: p}}, p, nil
	}
	user := filepath.Join(o.Home, ".ssh", "config")
	sys := o.systemConfig
	if sys == "" {
		sys = "/etc/ssh/ssh_config"
	}
	var refs []configRef
	source := user
	if _, err := os.Stat(user); err == nil {
		refs = append(refs, configRef{path: user})
	} else if _, err := os.Stat(sys); err == nil {
		source = sys
	}
	if _, err := os.Stat(sys); err == nil {
		refs = append(refs, configRef{path: sys, system: true})
	}
	return refs, source, nil
}

type configRef struct {
	path   string
	system bool
}

// confFile is one parsed config file: its directives in order.
type confFile struct {
	path  string
	items []confItem
}

// confItem is a Host or Match line, an Include, or a keyword line.
type confItem struct {
	line    int
	host    *sshconfig.Host // Host block start
	match   []string        // Match criteria (Match block start)
	include []*confFile     // Include: the files it read, in order
	key     string          // lower case keyword
	value   string          // the value as the parser unquoted it
	raw     string          // the text after the keyword, comment removed
	rawFull string          // the text after the keyword, as written
}

type unsupportedError struct {
	file string
	line int
	what string
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("reading %s line %d: %s is not supported", e.file, e.line, e.what)
}

func (e *unsupportedError) Unwrap() error { return ErrUnsupportedConfig }

// blankHooks empties the lines of nbtunnel's own hook blocks (keeping line
// numbers), so the settings read are those the user's ssh would use
// without the hook.
func blankHooks(path string, data []byte, lines []string) {
	blocks, err := fileedit.Blocks(path, data)
	if err != nil {
		return // a damaged block is reported by the commands that edit it
	}
	for _, b := range blocks {
		if !strings.HasPrefix(b.Key, "hook ") {
			continue
		}
		for n := b.BeginLine; n <= b.EndLine && n <= len(lines); n++ {
			lines[n-1] = ""
		}
	}
}

func loadConfigs(refs []configRef, o ResolveOptions) ([]*confFile, error) {
	var out []*confFile
	for _, r := range refs {
		f, err := parseConfigFile(r.path, r.system, o, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

const matchMarker = "nbtunnel-match-line-"

// parseConfigFile reads path. The ssh_config parser does the lexing; Include
// and Match lines are rewritten before it sees them (it would resolve
// Include against $HOME and fails on most Match criteria) and handled here.
func parseConfigFile(path string, system bool, o ResolveOptions, stack []string) (*confFile, error) {
	for _, p := range stack {
		if p == path {
			return nil, configErrorf(stack[len(stack)-1], 0, "Include loop: %s", strings.Join(append(stack, path), " -> "))
		}
	}
	if len(stack) > maxIncludeDepth {
		return nil, configErrorf(path, 0, "too many nested Includes (more than %d)", maxIncludeDepth)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configErrorf(path, 0, "%w", err)
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	lines := strings.Split(string(data), "\n")
	if o.SkipHooks {
		blankHooks(path, data, lines)
	}
	raws := make(map[int]string)
	includes := make(map[int][]string)
	matches := make(map[int][]string)
	for i, l := range lines {
		key, rest := splitKeyword(l)
		raws[i+1] = rest
		switch strings.ToLower(key) {
		case "include":
			args, err := splitArgs(rest)
			if err != nil {
				return nil, configErrorf(path, i+1, "%w", err)
			}
			if len(args) == 0 {
				return nil, configErrorf(path, i+1, "Include without a file")
			}
			includes[i+1] = args
			lines[i] = "NbtunnelInclude x"
		case "match":
			args, err := splitArgs(stripComment(rest))
			if err != nil {
				return nil, configErrorf(path, i+1, "%w", err)
			}
			matches[i+1] = args
			lines[i] = "Host " + matchMarker + strconv.Itoa(i+1)
		case "", "proxycommand", "localcommand", "remotecommand", "knownhostscommand":
			// Commands are taken as the rest of the line, quotes and all.
		default:
			if strings.HasPrefix(key, "#") {
				break
			}
			if _, err := splitArgs(rest); err != nil {
				return nil, configErrorf(path, i+1, "%s: %w", key, err)
			}
		}
	}
	cfg, err := sshconfig.DecodeBytes([]byte(strings.Join(lines, "\n")))
	if err != nil {
		return nil, configErrorf(path, 0, "%w", err)
	}
	f := &confFile{path: path}
	stack = append(stack, path)
	for bi, h := range cfg.Hosts {
		if bi > 0 {
			it := confItem{host: h}
			if len(h.Patterns) == 1 && strings.HasPrefix(h.Patterns[0].String(), matchMarker) {
				n, _ := strconv.Atoi(strings.TrimPrefix(h.Patterns[0].String(), matchMarker))
				it = confItem{line: n, match: matches[n]}
			}
			f.items = append(f.items, it)
		}
		for _, node := range h.Nodes {
			kv, ok := node.(*sshconfig.KV)
			if !ok {
				continue
			}
			n := kv.Pos().Line
			if args, ok := includes[n]; ok {
				it := confItem{line: n, key: "include"}
				for _, a := range args {
					files, err := includeFiles(a, system, o)
					if err != nil {
						return nil, configErrorf(path, n, "%w", err)
					}
					for _, inc := range files {
						sub, err := parseConfigFile(inc, system, o, stack)
						if err != nil {
							return nil, err
						}
						it.include = append(it.include, sub)
					}
				}
				f.items = append(f.items, it)
				continue
			}
			f.items = append(f.items, confItem{line: n, key: strings.ToLower(kv.Key), value: kv.Value, raw: stripComment(raws[n]), rawFull: raws[n]})
		}
	}
	return f, nil
}

// includeFiles expands one Include argument to the files it names, sorted
// as glob(3) returns them.
func includeFiles(arg string, system bool, o ResolveOptions) ([]string, error) {
	p, err := expandTilde(arg, o.Home)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(p) {
		base := filepath.Join(o.Home, ".ssh")
		if system {
			base = o.etcSSH
			if base == "" {
				base = "/etc/ssh"
			}
		}
		p = filepath.Join(base, p)
	}
	m, err := filepath.Glob(p)
	if err != nil {
		return nil, fmt.Errorf("expanding Include %s: %w", arg, err)
	}
	var out []string
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out, nil
}

// splitKeyword splits a config line into its keyword and the rest (after
// whitespace or one "=").
func splitKeyword(l string) (string, string) {
	l = strings.TrimLeft(l, " \t")
	if l == "" || l[0] == '#' {
		return "", ""
	}
	i := strings.IndexAny(l, " \t=")
	if i < 0 {
		return l, ""
	}
	key, rest := l[:i], strings.TrimLeft(l[i:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	return key, strings.TrimRight(rest, " \t\r")
}

// stripComment drops a trailing comment that starts outside quotes.
func stripComment(s string) string {
	inq := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inq = !inq
		case '#':
			if !inq && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
				return strings.TrimRight(s[:i], " \t")
			}
		}
	}
	return s
}

// splitArgs splits a value into arguments as OpenSSH's argv_split does:
// whitespace separates, double or single quotes group, backslash escapes
// a quote or backslash.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		case quote == 0 && c == '#' && !in:
			return args, nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
			i++
			cur.WriteByte(s[i])
			in = true
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
			in = true
		case quote != 0 && c == quote:
			quote = 0
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if in {
		args = append(args, cur.String())
	}
	return args, nil
}

// firstArg returns the first argument of v, or v when it has none.
func firstArg(v string) string {
	args, err := splitArgs(v)
	if err != nil || len(args) == 0 {
		return v
	}
	return args[0]
}

// setting is one obtained value and where it came from.
type setting struct {
	value   string
	raw     string
	rawFull string
	file    string
	line    int
}

func (s setting) where() string {
	return fmt.Sprintf("%s line %d", s.file, s.line)
}

// settings holds the obtained values per lower-case keyword.
type settings struct {
	vals map[string][]setting
}

var multiKeys = map[string]bool{
	"identityfile": true, "localforward": true, "remoteforward": true, "certificatefile": true,
	"dynamicforward": true, "sendenv": true, "setenv": true,
}

func (s *settings) add(key string, v setting) {
	if s.vals == nil {
		s.vals = make(map[string][]setting)
	}
	if multiKeys[key] {
		s.vals[key] = append(s.vals[key], v)
		return
	}
	if key == "kbdinteractiveauthentication" || key == "challengeresponseauthentication" {
		key = "kbdinteractiveauthentication"
	}
	// ProxyCommand and ProxyJump compete: whichever comes first wins,
	// except that "ProxyJump none" does not block a later ProxyCommand.
	if key == "proxyjump" && s.has("proxycommand") {
		return
	}
	if key == "proxycommand" {
		if j, ok := s.get("proxyjump"); ok && !strings.EqualFold(firstArg(j.value), "none") {
			return
		}
	}
	if !s.has(key) {
		s.vals[key] = []setting{v}
	}
}

func (s *settings) has(key string) bool {
	_, ok := s.vals[key]
	return ok
}

func (s *settings) get(key string) (setting, bool) {
	v, ok := s.vals[key]
	if !ok || len(v) == 0 {
		return setting{}, false
	}
	return v[0], true
}

// evaluate applies the config files to alias as OpenSSH's readconf.c does:
// one pass, and a second ("final") pass when a Match final or canonical
// block asked for one.
func evaluate(files []*confFile, alias, cmdUser string, o ResolveOptions) (*settings, error) {
	set := &settings{vals: map[string][]setting{}}
	if cmdUser != "" {
		set.add("user", setting{value: cmdUser, file: "the command line"})
	}
	ev := &evaluator{set: set, alias: alias, o: o}
	for _, f := range files {
		if err := ev.file(f, true); err != nil {
			return nil, err
		}
	}
	if ev.wantFinal {
		ev.final = true
		for _, f := range files {
			if err := ev.file(f, true); err != nil {
				return nil, err
			}
		}
	}
	return set, nil
}

type evaluator struct {
	set       *settings
	alias     string
	o         ResolveOptions
	final     bool
	wantFinal bool
}

func (ev *evaluator) file(f *confFile, canMatch bool) error {
	active := canMatch
	for _, it := range f.items {
		switch {
		case it.host != nil:
			active = canMatch && it.host.Matches(ev.alias)
		case it.match != nil:
			m, err := ev.matches(f.path, it.line, it.match)
			if err != nil {
				return err
			}
			active = canMatch && m
		case it.key == "include":
			for _, sub := range it.include {
				if err := ev.file(sub, active); err != nil {
					return err
				}
			}
		case active:
			ev.set.add(it.key, setting{value: it.value, raw: it.raw, rawFull: it.rawFull, file: f.path, line: it.line})
		}
	}
	return nil
}

// matches evaluates a Match line's criteria (all must hold).
func (ev *evaluator) matches(file string, line int, crit []string) (bool, error) {
	if len(crit) == 0 {
		return false, configErrorf(file, line, "Match without criteria")
	}
	result := true
	for i := 0; i < len(crit); i++ {
		c := strings.ToLower(crit[i])
		neg := strings.HasPrefix(c, "!")
		c = strings.TrimPrefix(c, "!")
		var ok bool
		switch c {
		case "all":
			ok = true
		case "canonical":
			// True only after CanonicalizeHostname rewrote the name,
			// which Resolve does not do.
			ok = false
		case "final":
			if !ev.final {
				ev.wantFinal = true
			}
			ok = ev.final
		case "host", "originalhost", "user", "localuser":
			if i+1 >= len(crit) {
				return false, configErrorf(file, line, "Match %s without an argument", c)
			}
			i++
			arg := crit[i]
			switch c {
			case "host":
				ok = matchPatternList(ev.currentHost(), arg, true)
			case "originalhost":
				ok = matchPatternList(ev.alias, arg, true)
			case "user":
				u := ev.o.LocalUser
				if s, found := ev.set.get("user"); found {
					u = s.value
				}
				ok = matchPatternList(u, arg, false)
			case "localuser":
				ok = matchPatternList(ev.o.LocalUser, arg, false)
			}
		default:
			return false, &unsupportedError{file: file, line: line, what: "Match " + c}
		}
		if neg {
			ok = !ok
		}
		if !ok {
			result = false
		}
	}
	return result, nil
}

func (ev *evaluator) currentHost() string {
	if s, ok := ev.set.get("hostname"); ok {
		return strings.ReplaceAll(s.value, "%h", ev.alias)
	}
	return ev.alias
}

// matchPatternList reports whether s matches the comma-separated pattern
// list (wildcards * and ?, negation with !): a matching negated pattern
// vetoes the match.
func matchPatternList(s, list string, fold bool) bool {
	if fold {
		s = strings.ToLower(s)
		list = strings.ToLower(list)
	}
	got := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if wildcardMatch(p, s) {
			if neg {
				return false
			}
			got = true
		}
	}
	return got
}

// wildcardMatch matches s against a pattern with * and ?.
func wildcardMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcardMatch(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}

// sshGTimeout bounds one `ssh -G` run.
const sshGTimeout = 10 * time.Second

// sshG takes the settings from `ssh -G`, for configs Resolve cannot
// evaluate itself.
func sshG(ctx context.Context, alias, cmdUser string, cmdPort int, o ResolveOptions, why *unsupportedError) (*settings, error) {
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
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("running %s -G %s (for %s): %w: %s", bin, alias, why, err, msg)
		}
		return nil, fmt.Errorf("running %s -G %s (for %s): %w", bin, alias, why, err)
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
		set.add(key, setting{value: val, raw: val, rawFull: val, file: name, line: n})
	}
	return set
}

// build turns the obtained settings into a Host.
func build(ctx context.Context, alias, cmdUser string, cmdPort int, set *settings, fromG bool, o ResolveOptions, depth int, budget *int) (*Host, error) {
	h := &Host{Alias: alias}
	bad := func(s setting, key string, err error) error {
		return configErrorf(s.file, s.line, "%s: %w", key, err)
	}
	// first is a single-valued keyword's argument: ssh -G prints it whole;
	// in a file it is the first (possibly quoted) word.
	first := func(s setting) string {
		if fromG {
			return s.value
		}
		return firstArg(s.raw)
	}

	// HostName (accepts %h and %%), lower-cased as ssh does.
	h.HostName = alias
	if s, ok := set.get("hostname"); ok {
		v := first(s)
		if !fromG {
			t := &tokenSet{hostname: alias}
			e, err := t.expand(v, tokensHostName)
			if err != nil {
				return nil, bad(s, "HostName", err)
			}
			v = e
		}
		h.HostName = v
	}
	h.HostName = strings.ToLower(h.HostName)

	h.User = o.LocalUser
	if cmdUser != "" {
		h.User = cmdUser
	} else if s, ok := set.get("user"); ok {
		h.User = first(s)
	}
	port := 22
	if cmdPort != 0 {
		port = cmdPort
	} else if s, ok := set.get("port"); ok {
		p, err := strconv.Atoi(first(s))
		if err != nil || p <= 0 || p > 65535 {
			return nil, bad(s, "Port", fmt.Errorf("invalid port %q", s.value))
		}
		port = p
	}
	if port != 22 {
		h.Port = port
	}
	if s, ok := set.get("hostkeyalias"); ok {
		h.HostKeyAlias = first(s)
	}
	localHost, _ := os.Hostname()
	t := &tokenSet{
		home: o.Home, hostname: h.HostName, port: port, remoteUser: h.User, localUser: o.LocalUser,
		original: alias, localHost: localHost, uid: strconv.Itoa(os.Getuid()), hostKeyAlias: h.HostKeyAlias,
	}
	if s, ok := set.get("proxyjump"); ok && !strings.EqualFold(first(s), "none") {
		t.proxyJumpText = first(s)
	}

	// Identities.
	ids := set.vals["identityfile"]
	if len(ids) == 0 {
		for _, d := range defaultIdentityFiles {
			ids = append(ids, setting{value: d, raw: d, file: "OpenSSH's defaults"})
		}
	}
	for _, s := range ids {
		p, err := t.expandPath(first(s), o.Getenv)
		if err != nil {
			return nil, bad(s, "IdentityFile", err)
		}
		h.IdentityFiles = append(h.IdentityFiles, p)
	}
	if s, ok := set.get("identitiesonly"); ok {
		b, err := parseYesNo(first(s))
		if err != nil {
			return nil, bad(s, "IdentitiesOnly", err)
		}
		h.IdentitiesOnly = b
	}
	if s, ok := set.get("identityagent"); ok {
		v := first(s)
		switch {
		case v == "SSH_AUTH_SOCK":
			h.IdentityAgent = ""
		case strings.EqualFold(v, "none"):
			h.IdentityAgent = "none"
		case strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "${"):
			// "$VAR": the variable holds the socket path (${VAR} inside
			// a path is expanded below, like any file name).
			name := v[1:]
			h.IdentityAgent = o.Getenv(name)
			if h.IdentityAgent == "" {
				return nil, bad(s, "IdentityAgent", fmt.Errorf("environment variable %s is not set", name))
			}
		case fromG:
			h.IdentityAgent = v
		default:
			p, err := t.expandPath(v, o.Getenv)
			if err != nil {
				return nil, bad(s, "IdentityAgent", err)
			}
			h.IdentityAgent = p
		}
	}
	for key, dst := range map[string]**bool{
		"passwordauthentication":       &h.PasswordAuthentication,
		"kbdinteractiveauthentication": &h.KbdInteractiveAuthentication,
	} {
		if s, ok := set.get(key); ok {
			b, err := parseYesNo(first(s))
			if err != nil {
				return nil, bad(s, key, err)
			}
			*dst = &b
		}
	}

	// Proxies.
	if s, ok := set.get("proxycommand"); ok {
		v := s.rawFull
		if v == "" {
			v = s.value
		}
		if !strings.EqualFold(v, "none") {
			e, err := t.expand(v, tokensProxy)
			if err != nil {
				return nil, bad(s, "ProxyCommand", err)
			}
			h.ProxyCommand = e
		}
	}
	if s, ok := set.get("proxyjump"); ok && !strings.EqualFold(first(s), "none") {
		if depth >= maxJumpDepth {
			return nil, bad(s, "ProxyJump", fmt.Errorf("jump chain deeper than %d hops (a loop?)", maxJumpDepth))
		}
		hops, err := parseJumps(first(s))
		if err != nil {
			return nil, bad(s, "ProxyJump", err)
		}
		for i, hop := range hops {
			jh, err := resolve(ctx, hop.host, o, hop.user, hop.port, depth+1, budget)
			if err != nil {
				return nil, fmt.Errorf("resolving ProxyJump hop %q of %s (%s): %w", hop.host, alias, s.where(), err)
			}
			if i > 0 {
				// As `ssh -J a,b` runs `ssh -J a -W ... b`: the chain
				// before a later hop overrides that hop's own proxy.
				jh.ProxyJump, jh.ProxyCommand = nil, ""
			}
			h.ProxyJump = append(h.ProxyJump, jh)
		}
	}

	// Timeouts.
	for key, dst := range map[string]*time.Duration{
		"connecttimeout":      &h.ConnectTimeout,
		"serveraliveinterval": &h.ServerAliveInterval,
	} {
		if s, ok := set.get(key); ok {
			d, err := parseTime(first(s))
			if err != nil {
				return nil, bad(s, key, err)
			}
			*dst = d
		}
	}
	if s, ok := set.get("serveralivecountmax"); ok {
		n, err := strconv.Atoi(first(s))
		if err != nil || n < 0 {
			return nil, bad(s, "ServerAliveCountMax", fmt.Errorf("invalid number %q", s.value))
		}
		h.ServerAliveCountMax = n
	}

	// Control master.
	if s, ok := set.get("controlpath"); ok && !strings.EqualFold(first(s), "none") {
		v := first(s)
		if !fromG {
			p, err := t.expandPath(v, o.Getenv)
			if err != nil {
				return nil, bad(s, "ControlPath", err)
			}
			v = p
		}
		h.ControlPath = v
	}
	if s, ok := set.get("controlmaster"); ok {
		switch v := strings.ToLower(first(s)); v {
		case "yes", "true":
			h.ControlMaster = "yes"
		case "no", "false":
			h.ControlMaster = ""
		case "auto", "ask", "autoask":
			h.ControlMaster = v
		default:
			return nil, bad(s, "ControlMaster", fmt.Errorf("invalid value %q", v))
		}
	}

	// Algorithms.
	var err error
	if h.HostKeyAlgorithms, err = algList(set, "hostkeyalgorithms", defaultHostKeyAlgorithms); err != nil {
		return nil, err
	}
	if h.Ciphers, err = algList(set, "ciphers", defaultCiphers); err != nil {
		return nil, err
	}

	// Forwards.
	for _, s := range set.vals["localforward"] {
		args, err := splitArgs(s.value)
		if err != nil || len(args) != 2 {
			return nil, bad(s, "LocalForward", fmt.Errorf("want 2 arguments, got %q", s.value))
		}
		listen, err := parseForwardSide(args[0], true)
		if err != nil {
			return nil, bad(s, "LocalForward", err)
		}
		target, err := parseForwardSide(args[1], false)
		if err != nil {
			return nil, bad(s, "LocalForward", err)
		}
		if strings.Contains(listen, "/") && !fromG {
			if listen, err = t.expandPath(listen, o.Getenv); err != nil {
				return nil, bad(s, "LocalForward", err)
			}
		}
		h.LocalForwards = append(h.LocalForwards, Forward{Listen: listen, Target: target})
	}

	// Host keys.
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
		strict = strings.ToLower(first(s))
	}
	hash := false
	if s, ok := set.get("hashknownhosts"); ok {
		if hash, err = parseYesNo(first(s)); err != nil {
			return nil, bad(s, "HashKnownHosts", err)
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
			return nil, bad(s, "StrictHostKeyChecking", err)
		}
		return nil, err
	}
	h.HostKeys = kh
	return h, nil
}

// fileList reads a space-separated list of files ("none" = no file).
func fileList(set *settings, key string, def []string, t *tokenSet, o ResolveOptions, fromG bool) ([]string, error) {
	s, ok := set.get(key)
	var args []string
	if ok {
		var err error
		if args, err = splitArgs(s.value); err != nil {
			return nil, configErrorf(s.file, s.line, "%s: %w", key, err)
		}
		if len(args) == 1 && strings.EqualFold(args[0], "none") {
			return nil, nil
		}
	} else {
		args = def
		fromG = false
	}
	var out []string
	for _, a := range args {
		if fromG {
			out = append(out, a)
			continue
		}
		p, err := t.expandPath(a, o.Getenv)
		if err != nil {
			return nil, configErrorf(s.file, s.line, "%s: %w", key, err)
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

// parseTime reads OpenSSH's time format (convtime): seconds, or numbers
// with s, m, h, d, w suffixes, concatenated; "none" is 0.
func parseTime(v string) (time.Duration, error) {
	if strings.EqualFold(v, "none") {
		return 0, nil
	}
	if v == "" {
		return 0, errors.New("empty time")
	}
	var total time.Duration
	for v != "" {
		i := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("invalid time %q", v)
		}
		n, _ := strconv.Atoi(v[:i])
		unit := time.Second
		v = v[i:]
		if v != "" {
			switch v[0] {
			case 's', 'S':
			case 'm', 'M':
				unit = time.Minute
			case 'h', 'H':
				unit = time.Hour
			case 'd', 'D':
				unit = 24 * time.Hour
			case 'w', 'W':
				unit = 7 * 24 * time.Hour
			default:
				return 0, fmt.Errorf("invalid time unit in %q", v)
			}
			v = v[1:]
		}
		total += time.Duration(n) * unit
	}
	return total, nil
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
	v := strings.TrimSpace(s.value)
	if v == "" {
		return nil, configErrorf(s.file, s.line, "%s: empty list", key)
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
			if !matchPatternList(d, v[1:], false) {
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

type jumpHop struct {
	user string
	host string
	port int
}

// parseJumps reads a ProxyJump value: comma-separated [user@]host[:port]
// or ssh://[user@]host[:port] hops.
func parseJumps(v string) ([]jumpHop, error) {
	var hops []jumpHop
	for _, spec := range strings.Split(v, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			return nil, fmt.Errorf("empty hop in %q", v)
		}
		uri := false
		if rest, ok := strings.CutPrefix(spec, "ssh://"); ok {
			spec, uri = strings.TrimSuffix(rest, "/"), true
		}
		var hop jumpHop
		if i := strings.LastIndex(spec, "@"); i >= 0 {
			hop.user, spec = spec[:i], spec[i+1:]
		}
		host, portStr := spec, ""
		if strings.HasPrefix(spec, "[") {
			end := strings.Index(spec, "]")
			if end < 0 {
				return nil, fmt.Errorf("invalid hop %q", spec)
			}
			host, portStr = spec[1:end], strings.TrimPrefix(spec[end+1:], ":")
		} else if i := strings.LastIndex(spec, ":"); i >= 0 && strings.Count(spec, ":") == 1 {
			host, portStr = spec[:i], spec[i+1:]
		}
		if portStr != "" {
			p, err := strconv.Atoi(portStr)
			if err != nil || p <= 0 || p > 65535 {
				return nil, fmt.Errorf("invalid port in hop %q", spec)
			}
			hop.port = p
		}
		if host == "" || (hop.user == "" && strings.Contains(spec, "@")) {
			return nil, fmt.Errorf("invalid hop %q", spec)
		}
		_ = uri
		hop.host = host
		hops = append(hops, hop)
	}
	return hops, nil
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
