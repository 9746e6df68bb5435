package sshconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Options says what Evaluate reads and about whom.
type Options struct {
	// ConfigFile is the file given with ssh -F; "" means UserConfig
	// followed by SystemConfig, and "none" means no file at all.
	ConfigFile string
	// UserConfig and SystemConfig default to Home/.ssh/config and
	// /etc/ssh/ssh_config; SystemDir (default /etc/ssh) anchors the
	// relative Includes of system files.
	UserConfig, SystemConfig, SystemDir string
	// Home is the user's home directory (~, %d, relative Includes, the
	// default UserConfig); without it, ~ cannot be expanded.
	Home string
	// LocalUser is the local login name (%u, Match localuser, the default
	// User); UID is %i ("" means the process's uid).
	LocalUser, UID string
	// LocalHost is the machine's host name (%l, %L, %C); "" means
	// os.Hostname.
	LocalHost string
	// User and Port are given on the command line (ssh -l, user@host,
	// -p): they are obtained before any file is read, so they win.
	User string
	Port int
	// Getenv reads the environment for ${VAR}; nil means an empty one.
	Getenv func(string) string
	// SkipLines, if set, names lines of a file to read as blank (by line
	// number, from 1): nbtunnel reads configs without its own hook blocks.
	SkipLines func(path string, data []byte) map[int]bool
	// Exec runs a Match exec command and reports whether it exited 0.
	// nil runs it as OpenSSH does, with $SHELL (or /bin/sh) -c, but with
	// stdin, stdout and stderr on /dev/null. Evaluate waits for it (ctx
	// ends it).
	Exec func(ctx context.Context, command string) (bool, error)
}

// Value is one obtained line of a keyword.
type Value struct {
	// Args are the line's arguments as argv_split splits them.
	Args []string
	// Text is the rest of the line after the keyword, as written (for
	// the command keywords and ProxyJump: what OpenSSH takes).
	Text string
	File string
	Line int

	system bool // from the system file (duplicate IdentityFiles are per kind)
}

// Arg returns the first argument ("" if none).
func (v Value) Arg() string {
	if len(v.Args) == 0 {
		return ""
	}
	return v.Args[0]
}

// Where is "FILE line N", or "the command line".
func (v Value) Where() string {
	if v.File == "" {
		return "the command line"
	}
	return fmt.Sprintf("%s line %d", v.File, v.Line)
}

// Config is the result of evaluating the config files for one host. It
// does not change after Evaluate returns: concurrent reads are safe.
type Config struct {
	// Host is the host as given (%n).
	Host string
	// HostName is the name OpenSSH connects to: HostName with %h
	// expanded, lower-cased (unless it is an address), as `ssh -G`
	// prints it.
	HostName string
	// Files are the files read, in order, Includes included.
	Files []string
	// FinalPass reports that the files were read twice (Match final,
	// Match canonical or CanonicalizeHostname).
	FinalPass bool

	vals  map[string][]Value
	o     Options
	local string
	uid   string
}

// Get returns the obtained value of a single-valued keyword (lower case,
// canonical name).
func (c *Config) Get(key string) (Value, bool) {
	v := c.vals[key]
	if len(v) == 0 {
		return Value{}, false
	}
	return v[0], true
}

// All returns every obtained value of an accumulating keyword
// (IdentityFile, CertificateFile, the forwards, SendEnv: one Value per
// name).
func (c *Config) All(key string) []Value { return c.vals[key] }

// User is the remote user: User, or the local user.
func (c *Config) User() string {
	if v, ok := c.Get("user"); ok {
		return v.Arg()
	}
	return c.o.LocalUser
}

// Port is Port, or 22.
func (c *Config) Port() int {
	if v, ok := c.Get("port"); ok {
		if p := a2port(v.Arg()); p > 0 {
			return p
		}
	}
	return 22
}

// Tokens returns the %-token values for this connection.
func (c *Config) Tokens() Tokens {
	t := Tokens{
		Home: c.o.Home, HostName: c.HostName, Port: c.Port(), RemoteUser: c.User(),
		LocalUser: c.o.LocalUser, Original: c.Host, LocalHost: c.local, UID: c.uid,
	}
	if v, ok := c.Get("hostkeyalias"); ok {
		t.HostKeyAlias = lowerASCII(v.Arg())
	}
	if v, ok := c.Get("proxyjump"); ok && !strings.EqualFold(v.Text, "none") {
		t.ProxyJump = v.Text
	}
	return t
}

// maxDepth is READCONF_MAX_DEPTH.
const maxDepth = 16

// read flags, as readconf.c's SSHCONF_*.
type flags struct {
	userConf   bool
	checkPerm  bool
	final      bool
	neverMatch bool
}

type evaluator struct {
	ctx       context.Context
	c         *Config
	o         Options
	host      string // what Host lines match: the alias, then the final host name
	wantFinal bool
	read      map[string]bool
	stack     []string // the files being read, outermost first
}

// Evaluate reads the config files for host the way OpenSSH 9.2's ssh
// does, and returns the obtained values. host may carry a user
// ("user@host", as on ssh's command line). Errors are *Error (a line
// OpenSSH refuses) or *UnsupportedError (a line only OpenSSH itself can
// evaluate).
func Evaluate(ctx context.Context, host string, o Options) (*Config, error) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.UserConfig == "" && o.Home != "" {
		o.UserConfig = filepath.Join(o.Home, ".ssh", "config")
	}
	if o.SystemConfig == "" {
		o.SystemConfig = "/etc/ssh/ssh_config"
	}
	if o.SystemDir == "" {
		o.SystemDir = "/etc/ssh"
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 && o.User == "" {
		o.User, host = host[:i], host[i+1:]
	}
	if host == "" {
		return nil, errors.New("evaluating ssh config: empty host name")
	}
	c := &Config{Host: host, vals: map[string][]Value{}, o: o}
	c.local = o.LocalHost
	if c.local == "" {
		c.local, _ = os.Hostname()
	}
	c.uid = o.UID
	if c.uid == "" {
		c.uid = strconv.Itoa(os.Getuid())
	}
	if o.User != "" {
		c.vals["user"] = []Value{{Args: []string{o.User}, Text: o.User}}
	}
	if o.Port != 0 {
		p := strconv.Itoa(o.Port)
		c.vals["port"] = []Value{{Args: []string{p}, Text: p}}
	}
	ev := &evaluator{ctx: ctx, c: c, o: o, host: host}
	if err := ev.pass(false); err != nil {
		return nil, err
	}
	name := host
	if v, ok := c.Get("hostname"); ok {
		e, err := Tokens{HostName: host}.Expand(v.Arg(), TokensHostName, nil)
		if err != nil {
			return nil, &Error{File: v.File, Line: v.Line, Err: fmt.Errorf("HostName: %w", err)}
		}
		name = e
	}
	if ip := net.ParseIP(name); ip == nil {
		name = lowerASCII(name)
	} else if strings.Contains(name, ":") {
		name = ip.String()
	}
	if err := ev.canonicalize(name); err != nil {
		return nil, err
	}
	canon := c.canonicalizeMode() != "no"
	c.HostName = name
	if ev.wantFinal || canon {
		// ssh sets HostName to the final name before the second pass.
		if !c.has("hostname") {
			c.vals["hostname"] = []Value{{Args: []string{name}, Text: name}}
		}
		c.FinalPass = true
		ev.host = name
		if err := ev.pass(true); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) canonicalizeMode() string {
	v, ok := c.Get("canonicalizehostname")
	if !ok {
		return "no"
	}
	switch strings.ToLower(v.Arg()) {
	case "yes", "true":
		return "yes"
	case "always":
		return "always"
	}
	return "no"
}

// canonicalize reports the cases where CanonicalizeHostname would ask the
// DNS (see resolve_canonicalize in ssh.c): only OpenSSH itself gives the
// exact answer there.
func (ev *evaluator) canonicalize(name string) error {
	c := ev.c
	mode := c.canonicalizeMode()
	if net.ParseIP(name) != nil {
		return nil
	}
	direct := true
	if v, ok := c.Get("proxycommand"); ok && !strings.EqualFold(v.Text, "none") {
		direct = false
	}
	if v, ok := c.Get("proxyjump"); ok && !strings.EqualFold(v.Text, "none") {
		direct = false
	}
	v, _ := c.Get("canonicalizehostname")
	if mode != "no" && (direct || mode == "always") {
		if strings.HasSuffix(name, ".") {
			return &UnsupportedError{File: v.File, Line: v.Line, What: "CanonicalizeHostname (a DNS lookup of " + name + ")"}
		}
		dots := strings.Count(name, ".")
		max := 1
		if m, ok := c.Get("canonicalizemaxdots"); ok {
			if n, err := strconv.Atoi(m.Arg()); err == nil {
				max = n
			}
		}
		if d, ok := c.Get("canonicaldomains"); ok && dots <= max && len(d.Args) > 0 && !strings.EqualFold(d.Args[0], "none") {
			return &UnsupportedError{File: v.File, Line: v.Line, What: "CanonicalizeHostname with CanonicalDomains (DNS lookups)"}
		}
	}
	if p, ok := c.Get("canonicalizepermittedcnames"); ok && (direct || mode == "always") &&
		!(len(p.Args) == 1 && strings.EqualFold(p.Args[0], "none")) {
		return &UnsupportedError{File: p.File, Line: p.Line, What: "CanonicalizePermittedCNAMEs (a DNS lookup)"}
	}
	return nil
}

// pass reads the files once, as process_config_files does.
func (ev *evaluator) pass(final bool) error {
	o := ev.o
	f := flags{userConf: true, final: final}
	if o.ConfigFile != "" {
		if strings.EqualFold(o.ConfigFile, "none") {
			return nil
		}
		active := true
		ok, err := ev.file(o.ConfigFile, f, &active, 0)
		if err != nil {
			return err
		}
		if !ok {
			_, statErr := os.Stat(o.ConfigFile)
			return &Error{File: o.ConfigFile, Err: fmt.Errorf("can't open user config file: %w", statErr)}
		}
		return nil
	}
	active := true
	f.checkPerm = true
	if _, err := ev.file(o.UserConfig, f, &active, 0); err != nil {
		return err
	}
	active = true
	if _, err := ev.file(o.SystemConfig, flags{final: final}, &active, 0); err != nil {
		return err
	}
	return nil
}

// file reads one file (read_config_file_depth). It returns false when the
// file cannot be opened.
func (ev *evaluator) file(path string, f flags, active *bool, depth int) (bool, error) {
	if depth > maxDepth {
		return false, &Error{File: path, Err: includeLoop(ev.stack)}
	}
	ev.stack = append(ev.stack, path)
	defer func() { ev.stack = ev.stack[:len(ev.stack)-1] }()
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, &Error{File: path, Err: err}
	}
	defer fh.Close()
	if f.checkPerm {
		if err := checkPerm(fh); err != nil {
			return false, &Error{File: path, Err: err}
		}
	}
	data, err := readAll(fh)
	if err != nil {
		// A directory opens but does not read: OpenSSH takes it as empty.
		return true, nil
	}
	if !ev.seen(path) {
		ev.c.Files = append(ev.c.Files, path)
	}
	var skip map[int]bool
	if ev.o.SkipLines != nil {
		skip = ev.o.SkipLines(path, data)
	}
	text := string(data)
	n := 0
	for len(text) > 0 {
		n++
		var l string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i+1], text[i+1:]
		} else {
			l, text = text, ""
		}
		if skip[n] {
			continue
		}
		if err := ev.line(l, path, n, f, active, depth); err != nil {
			return true, err
		}
	}
	return true, nil
}

func (ev *evaluator) seen(path string) bool {
	if ev.read == nil {
		ev.read = map[string]bool{}
	}
	s := ev.read[path]
	ev.read[path] = true
	return s
}

// line processes one line (process_config_line_depth).
func (ev *evaluator) line(text, file string, n int, f flags, active *bool, depth int) error {
	l, prob := splitLine(text)
	switch prob {
	case lineEmpty:
		return nil
	case lineNoArgument:
		return lineErr(file, n, "no argument after keyword %q", l.written)
	}
	kw, known := keywords[l.keyword]
	if !known {
		if ign, ok := ev.c.Get("ignoreunknown"); ok && MatchPatternList(l.keyword, ign.Arg(), true) == 1 {
			return nil
		}
		return &UnsupportedError{File: file, Line: n, What: fmt.Sprintf("keyword %q (unknown to OpenSSH 9.2; an earlier \"IgnoreUnknown %s\" makes ssh skip it)", l.written, l.written)}
	}
	if prob == lineInvalidQuotes {
		return lineErr(file, n, "%s: invalid quotes (unterminated quote)", l.written)
	}
	args := l.args
	key := kw.name
	val := Value{Args: args, Text: l.str, File: file, Line: n}
	switch kw.kind {
	case kindHost:
		return ev.hostLine(args, file, n, f, active)
	case kindMatch:
		m, err := ev.match(l.str, file, n, f)
		if err != nil {
			return err
		}
		*active = m && !f.neverMatch
		return nil
	case kindInclude:
		return ev.include(args, file, n, f, active, depth)
	case kindIgnored:
		return nil
	}
	if err := check(key, kw.kind, args, l.keyword); err != nil {
		return &Error{File: file, Line: n, Err: fmt.Errorf("%s: %w", l.written, err)}
	}
	args, err := ev.expandArgs(kw, l, file, n)
	if err != nil {
		return err
	}
	val.Args = args
	return ev.c.store(kw.kind, key, val, l, f, *active)
}

// hostLine decides whether a Host line's patterns make the lines after it
// active for ev.host.
func (ev *evaluator) hostLine(args []string, file string, n int, f flags, active *bool) error {
	*active = false
	for _, a := range args {
		if a == "" {
			return lineErr(file, n, "keyword host empty argument")
		}
		if f.neverMatch {
			break
		}
		neg := a[0] == '!'
		if neg {
			a = a[1:]
		}
		if MatchPattern(ev.host, a) {
			if neg {
				*active = false
				break
			}
			*active = true
		}
	}
	return nil
}

// expandArgs returns l's arguments with ${VAR} expanded where ssh expands it
// as it reads the line (forward specifications), after checking it would
// expand where ssh checks (IdentityAgent).
func (ev *evaluator) expandArgs(kw keyword, l line, file string, n int) ([]string, error) {
	args := l.args
	switch {
	case kw.kind == kindForward:
		// parse_forward expands ${VAR} in the whole spec as it reads it.
		exp := make([]string, len(args))
		for i, a := range args {
			e, err := dollarExpand(a, ev.o.Getenv)
			if err != nil {
				return nil, lineErr(file, n, "%s: bad forwarding specification: %v", l.written, err)
			}
			exp[i] = e
		}
		return exp, nil
	case kw.name == "identityagent":
		if _, err := dollarExpand(args[0], ev.o.Getenv); err != nil {
			return nil, lineErr(file, n, "%s: invalid environment expansion: %v", l.written, err)
		}
	}
	return args, nil
}

// store records the value of a line of kind k, as the matching ssh code
// does: first value wins, appended, or a list edited.
func (c *Config) store(k kind, key string, val Value, l line, f flags, active bool) error {
	switch k {
	case kindAppend:
		// add_identity_file and add_certificate_file skip a file
		// already added (from a file of the same kind, user or system).
		val.system = !f.userConf
		if active && !c.hasValue(key, func(v Value) bool { return v.Arg() == val.Arg() && v.system == val.system }) {
			c.vals[key] = append(c.vals[key], val)
		}
	case kindForward:
		// add_local_forward and add_remote_forward skip an equal forward.
		if active && !c.hasValue(key, func(v Value) bool { return forwardKey(v.Args) == forwardKey(val.Args) }) {
			c.vals[key] = append(c.vals[key], val)
		}
	case kindSendEnv:
		if active {
			c.sendEnv(key, val)
		}
	case kindCommand:
		val.Text = strings.TrimLeft(l.str, whitespace+"=")
		c.first(key, val, active)
	case kindProxyJump:
		return c.proxyJump(key, val, l, active)
	default:
		if unsetValue(key, val.Args) {
			// OpenSSH stores a time of "none" as its own "not set
			// yet", so a later line can still set the value.
			return nil
		}
		c.first(key, val, active)
	}
	return nil
}

// sendEnv adds a SendEnv line's patterns to the list, or takes out those
// that a "-pattern" matches.
func (c *Config) sendEnv(key string, val Value) {
	for _, a := range val.Args {
		if a[0] == '-' {
			kept := c.vals[key][:0]
			for _, v := range c.vals[key] {
				if !MatchPattern(v.Arg(), a[1:]) {
					kept = append(kept, v)
				}
			}
			c.vals[key] = kept
			continue
		}
		c.vals[key] = append(c.vals[key], Value{Args: []string{a}, Text: a, File: val.File, Line: val.Line})
	}
}

// proxyJump checks a ProxyJump line and records it unless a ProxyCommand or
// ProxyJump was obtained first; a jump host also sets ProxyCommand "none".
func (c *Config) proxyJump(key string, val Value, l line, active bool) error {
	t := strings.TrimLeft(l.str, whitespace+"=")
	if i := strings.IndexByte(t, '#'); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimRight(t, whitespace)
	if err := checkJump(t); err != nil {
		return &Error{File: val.File, Line: val.Line, Err: fmt.Errorf("invalid ProxyJump %q: %w", t, err)}
	}
	val.Text = t
	if !active || c.has("proxycommand") || c.has("proxyjump") {
		return nil
	}
	c.vals[key] = []Value{val}
	if !strings.EqualFold(t, "none") {
		// parse_jump: a jump host makes ProxyCommand "none", so a
		// later ProxyCommand is not obtained.
		c.vals["proxycommand"] = []Value{{Args: []string{"none"}, Text: "none", File: val.File, Line: val.Line}}
	}
	return nil
}

// unsetValue reports a value OpenSSH cannot tell from "not set".
func unsetValue(key string, args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch {
	case timeKeys[key]:
		return args[0] == "none"
	}
	return false
}

func (c *Config) has(key string) bool { return len(c.vals[key]) > 0 }

func (c *Config) hasValue(key string, eq func(Value) bool) bool {
	for _, v := range c.vals[key] {
		if eq(v) {
			return true
		}
	}
	return false
}

// forwardKey compares forwards roughly as forward_equals does: the same
// sides, brackets aside.
func forwardKey(args []string) string {
	return strings.NewReplacer("[", "", "]", "").Replace(strings.Join(args, " "))
}

func (c *Config) first(key string, v Value, active bool) {
	if active && !c.has(key) {
		c.vals[key] = []Value{v}
	}
}

// include handles an Include line.
func (ev *evaluator) include(args []string, file string, n int, f flags, active *bool, depth int) error {
	for _, a := range args {
		if a == "" {
			return lineErr(file, n, "keyword include empty argument")
		}
		if a[0] == '~' && !f.userConf {
			return lineErr(file, n, "bad include path %s", a)
		}
		p := includePattern(a, f.userConf, ev.o.Home, ev.o.SystemDir)
		names, err := glob(p)
		if err != nil {
			return lineErr(file, n, "glob failed for %s: %v", p, err)
		}
		outer := *active
		for _, name := range names {
			sub := f
			sub.checkPerm = true
			sub.neverMatch = f.neverMatch || !outer
			if _, err := ev.file(name, sub, active, depth+1); err != nil {
				return err
			}
			*active = outer
		}
	}
	return nil
}

// includePattern anchors an Include argument as readconf.c does: relative
// to ~/.ssh in a user file, to systemDir in the system file; then ~ is
// expanded as glob(3)'s GLOB_TILDE does (an unknown ~user stays).
func includePattern(a string, userConf bool, home, systemDir string) string {
	p := a
	if !strings.HasPrefix(a, "/") && !filepath.IsAbs(a) && a[0] != '~' {
		if userConf {
			p = "~/.ssh/" + a
		} else {
			p = systemDir + "/" + a
		}
	}
	if e, err := ExpandTilde(p, home); err == nil {
		p = e
	}
	return p
}

// Scan calls fn for each line of a user config file (path, its content
// data) and of every file its Include lines name, whatever its Host and
// Match lines say, in the order ssh reads them, Includes nested up to
// OpenSSH's limit. Options.Home and SkipLines apply; blank, comment and
// malformed lines and files that cannot be read are left out. It is for
// questions about a config as a whole ("which local ports do its
// LocalForwards use?"), not for what applies to one host.
func Scan(path string, data []byte, o Options, fn func(file string, line int, keyword string, args []string)) {
	scan(path, data, o, fn, 0)
}

func scan(path string, data []byte, o Options, fn func(file string, line int, keyword string, args []string), depth int) {
	var skip map[int]bool
	if o.SkipLines != nil {
		skip = o.SkipLines(path, data)
	}
	for n, l := range strings.Split(string(data), "\n") {
		if skip[n+1] {
			continue
		}
		kw, args, ok := SplitLine(l)
		if !ok {
			continue
		}
		fn(path, n+1, kw, args)
		if kw != "include" || depth >= maxDepth {
			continue
		}
		for _, a := range args {
			if a == "" {
				continue
			}
			names, _ := glob(includePattern(a, true, o.Home, o.SystemDir))
			for _, name := range names {
				if sub, err := os.ReadFile(name); err == nil {
					scan(name, sub, o, fn, depth+1)
				}
			}
		}
	}
}

// match evaluates a Match line's criteria (match_cfg_line). It returns
// whether the block applies.
func (ev *evaluator) match(str, file string, n int, f flags) (bool, error) {
	c := ev.c
	port := c.Port()
	ruser := c.User()
	host := c.Host
	if f.final {
		host = c.HostName
	} else if v, ok := c.Get("hostname"); ok {
		e, err := Tokens{HostName: c.Host}.Expand(v.Arg(), TokensHostName, nil)
		if err != nil {
			return false, &Error{File: v.File, Line: v.Line, Err: fmt.Errorf("HostName: %w", err)}
		}
		host = e
	}
	result := true
	attributes := 0
	s, sNil := str, false
	for {
		attr, ok, rest, restNil := strdelim(s, sNil, true)
		s, sNil = rest, restNil
		if !ok || attr == "" {
			break
		}
		if attr[0] == '#' {
			sNil = true
			break
		}
		neg := attr[0] == '!'
		if neg {
			attr = attr[1:]
		}
		lattr := strings.ToLower(attr)
		if lattr == "all" {
			arg, ok, _, _ := strdelim(s, sNil, true)
			if attributes > 1 || (ok && arg != "" && arg[0] != '#') {
				return false, lineErr(file, n, "'%s' cannot be combined with other Match attributes", attr)
			}
			if result {
				result = !neg
			}
			return result, nil
		}
		attributes++
		if lattr == "canonical" || lattr == "final" {
			if lattr == "final" {
				ev.wantFinal = true
			}
			if f.final == neg {
				result = false
			}
			continue
		}
		arg, ok, rest, restNil := strdelim(s, sNil, true)
		s, sNil = rest, restNil
		if !ok || arg == "" || arg[0] == '#' {
			return false, lineErr(file, n, "missing Match criteria for %s", attr)
		}
		var r bool
		switch lattr {
		case "host":
			r = MatchHostname(host, arg) == 1
		case "originalhost":
			r = MatchHostname(c.Host, arg) == 1
		case "user":
			r = MatchPatternList(ruser, arg, false) == 1
		case "localuser":
			r = MatchPatternList(ev.o.LocalUser, arg, false) == 1
		case "exec":
			t := c.Tokens()
			t.HostName, t.Port, t.RemoteUser = host, port, ruser
			t.HostKeyAlias = ""
			if v, ok := c.Get("hostkeyalias"); ok {
				t.HostKeyAlias = v.Arg()
			} else {
				t.HostKeyAlias = host
			}
			cmd, err := t.Expand(arg, TokensMatchExec, nil)
			if err != nil {
				return false, lineErr(file, n, "Match exec: %v", err)
			}
			if !result {
				continue // skipped when an earlier criterion failed
			}
			r, err = ev.exec(cmd)
			if err != nil {
				return false, lineErr(file, n, "match exec '%s' error: %v", cmd, err)
			}
		case "localnetwork":
			r = matchLocalNetwork(arg)
		default:
			return false, &UnsupportedError{File: file, Line: n, What: "Match " + attr}
		}
		if r == neg {
			result = false
		}
	}
	if attributes == 0 {
		return false, lineErr(file, n, "one or more attributes required for Match")
	}
	if !sNil && s != "" {
		return false, lineErr(file, n, "keyword match extra arguments at end of line")
	}
	return result, nil
}

func (ev *evaluator) exec(cmd string) (bool, error) {
	if ev.o.Exec != nil {
		return ev.o.Exec(ev.ctx, cmd)
	}
	sh := ev.o.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/sh"
	}
	x := exec.CommandContext(ev.ctx, sh, "-c", cmd)
	err := x.Run()
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return false, nil
	}
	return false, err
}

// matchLocalNetwork matches the machine's interface addresses against a
// list of CIDR blocks (Match localnetwork, OpenSSH 9.4 and later).
func matchLocalNetwork(list string) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, cidr := range strings.Split(list, ",") {
		_, nw, err := net.ParseCIDR(strings.TrimSpace(cidr))
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && nw.Contains(ipn.IP) {
				return true
			}
		}
	}
	return false
}

// glob expands an Include pattern as glob(3) does: sorted, and a wildcard
// never matches a leading dot.
func glob(pattern string) ([]string, error) {
	if !strings.ContainsAny(pattern, "*?[\\") {
		if _, err := os.Lstat(pattern); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(pattern, "/")
	out := m[:0]
	for _, name := range m {
		np := strings.Split(name, "/")
		ok := len(np) == len(parts)
		for i := 0; ok && i < len(parts); i++ {
			if strings.HasPrefix(np[i], ".") && !strings.HasPrefix(parts[i], ".") && strings.ContainsAny(parts[i], "*?[") {
				ok = false
			}
		}
		if ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Keys lists the keywords that obtained a value (canonical names), sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.vals))
	for k, v := range c.vals {
		if len(v) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// includeLoop describes Includes nested deeper than OpenSSH allows,
// naming the files of the first cycle when there is one.
func includeLoop(stack []string) error {
	for i, p := range stack {
		for j := i + 1; j < len(stack); j++ {
			if stack[j] == p {
				return fmt.Errorf("an Include loop: %s (OpenSSH allows %d nested Includes)", strings.Join(stack[i:j+1], " -> "), maxDepth)
			}
		}
	}
	return fmt.Errorf("too many nested Includes (OpenSSH allows %d)", maxDepth)
}
