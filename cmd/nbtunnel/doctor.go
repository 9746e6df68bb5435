package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
	"github.com/nbtunnel/nbtunnel/hostconf/ppk"
	"github.com/nbtunnel/nbtunnel/install"
	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/sshclient"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// `nbtunnel doctor HOST` walks the steps from the config to a working link
// and prints one line per check, each failure with what to do. It never
// asks anything and changes nothing of the user's (StrictHostKeyChecking
// accept-new aside, which records a new key as ssh would).

// Check statuses.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
	checkSkip = "skip"
	checkInfo = "info"
)

// check is one line of the checklist.
type check struct {
	Name   string   `json:"check"`
	Status string   `json:"status"`
	Detail string   `json:"detail"`
	Fix    []string `json:"fix,omitempty"`
	// Items are sub-lines: each server found, each skipped runtime file.
	Items []string `json:"items,omitempty"`
}

type doctorReport struct {
	Host   string  `json:"host"`
	OK     bool    `json:"ok"`
	Checks []check `json:"checks"`
	// onAdd shows each check as it is made (the text form), so a slow
	// step is seen to be the one running.
	onAdd func(check) `json:"-"`
}

func (r *doctorReport) add(c check) {
	r.Checks = append(r.Checks, c)
	if r.onAdd != nil {
		r.onAdd(c)
	}
}

func cmdDoctor(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("doctor", &hf)
	asJSON := fs.Bool("json", false, "print the checklist as one JSON object")
	localPort := fs.Int("local-port", 0, "check this local port `N` instead of the one 'open' would pick")
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	hf.noPrompt = true
	// The checks take the route the user's ssh takes without nbtunnel's
	// own hook (the hook is checked on its own, from the file).
	hf.skipHooks = true
	r := &doctorReport{Host: alias}
	if !*asJSON {
		e.renderDoctorHeader(alias)
		r.onAdd = e.renderCheck
	}
	e.doctor(ctx, r, alias, &hf, *localPort)
	r.OK = true
	for _, c := range r.Checks {
		if c.Status == checkFail {
			r.OK = false
		}
	}
	if *asJSON {
		data, _ := json.MarshalIndent(r, "", "  ")
		e.ui.link(string(data))
	} else {
		e.renderSummary(r)
	}
	if ctx.Err() != nil {
		return 1
	}
	if !r.OK {
		return 1
	}
	return 0
}

// errorFix turns an error and nbtunnel's hints for it into a check's
// detail and fixes.
func errorFix(host, source string, err error) (string, []string) {
	return err.Error(), hintsFor(host, source, err)
}

func (e *env) doctor(ctx context.Context, r *doctorReport, alias string, hf *hostFlags, wantPort int) {
	putty := hf.putty != ""
	name := "ssh config"
	if putty {
		name = "PuTTY session"
	}
	h, err := e.resolve(ctx, alias, hf)
	if err != nil {
		d, fix := errorFix(alias, "", err)
		r.add(check{Name: name, Status: checkFail, Detail: d, Fix: fix})
		return
	}
	dropOwnHook(h)
	detail := fmt.Sprintf("%s is %s@%s (settings from %s)", alias, orDash(h.User), h.Addr(), orDash(h.Source))
	var items []string
	for _, j := range h.ProxyJump {
		items = append(items, fmt.Sprintf("jump host %s@%s", orDash(j.User), j.Addr()))
	}
	if h.ProxyCommand != "" {
		items = append(items, "ProxyCommand "+h.ProxyCommand)
	}
	r.add(check{Name: name, Status: checkOK, Detail: detail, Items: items})
	if putty {
		e.doctorPuttySession(ctx, r, hf.putty, h)
	} else {
		r.add(e.doctorSSHG(ctx, alias, hf.config, h))
	}

	// Log in the way 'open' would, with a prompter that only notes which
	// prompt would come.
	notes := &notingPrompter{}
	opts := e.dialOptions(false)
	opts.Prompter = notes
	opts.Logf = nil
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := sshclient.Dial(dctx, h, opts)
	cancel()
	masterCheck := e.doctorMaster(h, c)
	if err != nil {
		var hk *hostkeys.KeyError
		var auth *sshclient.AuthError
		switch {
		case errors.As(err, &hk):
			d, fix := errorFix(alias, h.Source, err)
			r.add(check{Name: "host key", Status: checkFail, Detail: d, Fix: fix})
			r.add(check{Name: "login", Status: checkSkip, Detail: "not tried: the host key check failed"})
		case errors.As(err, &auth), len(notes.asked) > 0:
			// Authentication began, so the host key passed.
			r.add(check{Name: "host key", Status: checkOK, Detail: "known and matching (" + hostKeySource(h) + ")"})
			if len(notes.asked) > 0 {
				r.add(check{Name: "login", Status: checkWarn,
					Detail: "no credential works without a prompt; nbtunnel (like ssh) will ask for: " + strings.Join(notes.asked, ", "),
					Fix:    loginFixes(alias, putty)})
			} else {
				d, fix := errorFix(alias, h.Source, err)
				r.add(check{Name: "login", Status: checkFail, Detail: d, Fix: fix})
			}
		default:
			d, fix := errorFix(alias, h.Source, err)
			r.add(check{Name: "connect", Status: checkFail, Detail: d, Fix: fix})
		}
		r.add(masterCheck)
		e.doctorHook(r, alias, hf)
		return
	}
	defer c.Close()
	if c.ViaMaster {
		r.add(check{Name: "host key", Status: checkSkip, Detail: "riding the ControlMaster, which checked it when ssh logged in"})
		r.add(check{Name: "login", Status: checkOK, Detail: "through the ControlMaster at " + h.ControlPath + " (no login of nbtunnel's own)"})
	} else {
		r.add(check{Name: "host key", Status: checkOK, Detail: "known and matching (" + hostKeySource(h) + ")"})
		r.add(check{Name: "login", Status: checkOK, Detail: fmt.Sprintf("as %s without a prompt", orDash(h.User))})
	}
	r.add(masterCheck)

	r.add(doctorShell(ctx, c, alias))
	fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
	found, err := tunnel.Discover(fctx, c)
	fcancel()
	if err != nil {
		d, fix := errorFix(alias, h.Source, err)
		r.add(check{Name: "servers", Status: checkFail, Detail: d, Fix: fix})
	} else {
		e.doctorServers(r, alias, found)
		r.add(doctorPython(ctx, c, found))
		r.add(e.doctorPort(ctx, alias, found, wantPort))
	}
	e.doctorHook(r, alias, hf)
}

func hostKeySource(h *hostconf.Host) string {
	if strings.HasPrefix(h.Source, "PuTTY") {
		return "PuTTY's host-key cache"
	}
	if k, ok := h.HostKeys.(*hostkeys.KnownHosts); ok {
		user, global := k.Files()
		var files []string
		for _, f := range append(user, global...) {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			return strings.Join(files, ", ")
		}
	}
	return "known_hosts"
}

func loginFixes(alias string, putty bool) []string {
	if putty {
		return []string{"load your key into Pageant or ssh-agent so that the PuTTY hook can log in without a window to ask in"}
	}
	return []string{
		"load your key into the agent (ssh-add KEYFILE) so that hooks and 'open' log in without asking",
		fmt.Sprintf("on a password or 2FA host, 'nbtunnel install --local-command %s' rides the login ssh already made", alias),
	}
}

// notingPrompter answers no prompt; it notes which would come.
type notingPrompter struct{ asked []string }

var errNoPrompt = errors.New("doctor asks nothing")

func (p *notingPrompter) Passphrase(_ context.Context, file string) ([]byte, error) {
	p.asked = append(p.asked, "the passphrase of "+file)
	return nil, errNoPrompt
}

func (p *notingPrompter) Password(_ context.Context, user, host string) (string, error) {
	p.asked = append(p.asked, "the password of "+user+"@"+host)
	return "", errNoPrompt
}

func (p *notingPrompter) Challenge(_ context.Context, user, host, instruction string, questions []string, _ []bool) ([]string, error) {
	what := strings.TrimSpace(strings.Join(questions, " "))
	if what == "" {
		what = strings.TrimSpace(instruction)
	}
	p.asked = append(p.asked, fmt.Sprintf("a keyboard-interactive answer for %s@%s (%q)", user, host, what))
	return nil, errNoPrompt
}

// doctorSSHG compares the settings with `ssh -G`, when ssh is installed.
func (e *env) doctorSSHG(ctx context.Context, alias, config string, h *hostconf.Host) check {
	name := "ssh -G"
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		return check{Name: name, Status: checkSkip, Detail: "no ssh in PATH to compare with"}
	}
	args := []string{"-G"}
	if config != "" {
		args = append(args, "-F", config)
	}
	args = append(args, "--", alias)
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(gctx, ssh, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return check{Name: name, Status: checkWarn, Detail: fmt.Sprintf("ssh -G %s failed: %v: %s", alias, err, strings.TrimSpace(stderr.String())),
			Fix: []string{"ssh itself cannot read this config: fix what it names"}}
	}
	g := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if _, seen := g[k]; !seen {
			g[k] = v
		}
	}
	port := h.Port
	if port == 0 {
		port = 22
	}
	var diffs []string
	for _, kv := range [][3]string{
		{"hostname", h.HostName, g["hostname"]},
		{"user", h.User, g["user"]},
		{"port", strconv.Itoa(port), g["port"]},
	} {
		if kv[1] != kv[2] {
			diffs = append(diffs, fmt.Sprintf("%s: nbtunnel %q, ssh -G %q", kv[0], kv[1], kv[2]))
		}
	}
	if jumps := g["proxyjump"]; (jumps != "" && jumps != "none") != (len(h.ProxyJump) > 0) {
		diffs = append(diffs, fmt.Sprintf("proxyjump: nbtunnel %d hop(s), ssh -G %q", len(h.ProxyJump), jumps))
	}
	if len(diffs) > 0 {
		return check{Name: name, Status: checkWarn, Detail: "nbtunnel reads the config differently from ssh", Items: diffs,
			Fix: []string{"please report this with the lines above and your config (redacted): nbtunnel should agree with ssh -G"}}
	}
	return check{Name: name, Status: checkOK, Detail: "agrees on hostname, user, port and jump hosts"}
}

// doctorMaster says whether a ControlMaster is configured and alive; c is
// the connection made (nil if none).
func (e *env) doctorMaster(h *hostconf.Host, c *sshclient.Client) check {
	name := "ControlMaster"
	if h.ControlPath == "" || h.ControlPath == "none" {
		return check{Name: name, Status: checkInfo, Detail: "none configured (nbtunnel logs in itself)"}
	}
	if _, err := os.Stat(h.ControlPath); err != nil {
		return check{Name: name, Status: checkInfo, Detail: "none running at " + h.ControlPath + " (nbtunnel logs in itself; 'ssh " + h.Alias + "' starts one)"}
	}
	if c != nil && c.ViaMaster {
		return check{Name: name, Status: checkOK, Detail: "alive at " + h.ControlPath + "; nbtunnel rides it"}
	}
	return check{Name: name, Status: checkWarn, Detail: "the socket " + h.ControlPath + " exists but no master answers on it",
		Fix: []string{fmt.Sprintf("'ssh -O check %s' tells; a stale socket can be removed (rm %s) and ssh starts a new master", h.Alias, h.ControlPath)}}
}

// doctorShell checks that the remote login shell prints nothing on its own
// and that a POSIX sh is there (nbtunnel's scripts run in `sh -s`).
func doctorShell(ctx context.Context, c *sshclient.Client, alias string) check {
	name := "remote shell"
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	noise, err := c.Output(sctx, "true", nil)
	if err != nil {
		return check{Name: name, Status: checkFail, Detail: "running a command: " + err.Error(),
			Fix: []string{fmt.Sprintf("'ssh %s true' should exit 0 and print nothing; check the account's shell and its startup files", alias)}}
	}
	out, err := c.Output(sctx, "sh -s", []byte("echo nbtunnel-sh $((6*7))\n"))
	if err != nil || !bytes.Contains(out, []byte("nbtunnel-sh 42\n")) {
		msg := "no POSIX sh answered"
		if err != nil {
			msg += ": " + err.Error()
		}
		return check{Name: name, Status: checkFail, Detail: msg,
			Fix: []string{"nbtunnel runs its remote scripts with 'sh -s': the host needs a POSIX /bin/sh on PATH"}}
	}
	if len(noise) > 0 {
		shown := string(noise)
		if len(shown) > 80 {
			shown = shown[:80] + "..."
		}
		return check{Name: name, Status: checkWarn,
			Detail: fmt.Sprintf("prints %d byte(s) on stdout for every command (%q); nbtunnel copes, scp, rsync and sftp may not", len(noise), shown),
			Fix:    []string{"move the output in your remote shell startup files (.bashrc, .profile, .cshrc) into a block that runs only for interactive shells, e.g. [ -t 0 ] && echo ..., or case $- in *i*) ...;; esac"}}
	}
	return check{Name: name, Status: checkOK, Detail: "quiet (nothing on stdout), POSIX sh present"}
}

func (e *env) doctorServers(r *doctorReport, alias string, found *tunnel.Found) {
	if len(found.Dirs) == 0 {
		r.add(check{Name: "runtime dirs", Status: checkWarn,
			Detail: "no Jupyter runtime directory on " + alias + " ($JUPYTER_RUNTIME_DIR, ~/.local/share/jupyter/runtime, ~/Library/Jupyter/runtime)",
			Fix:    []string{"no Jupyter has run as this user yet: 'nbtunnel open --start " + alias + "' starts one"}})
	} else {
		r.add(check{Name: "runtime dirs", Status: checkOK, Detail: strings.Join(found.Dirs, ", ")})
	}
	var items []string
	for _, s := range found.Live {
		items = append(items, fmt.Sprintf("%s (root %s, %s)", s, orDash(s.RootDir), authOf(s)))
	}
	for _, sk := range found.Skipped {
		items = append(items, fmt.Sprintf("skipped %s (%s): %v", sk.Server.File, describeChoice(sk.Server), sk.Why))
	}
	for _, p := range found.Problems {
		items = append(items, "problem: "+p.Error())
	}
	switch {
	case len(found.Live) == 0:
		r.add(check{Name: "servers", Status: checkFail, Detail: "no running Jupyter server found on " + alias, Items: items,
			Fix: []string{fmt.Sprintf("'nbtunnel open --start %s' starts one (add --venv PATH to use a virtualenv)", alias)}})
	case len(found.Live) == 1:
		r.add(check{Name: "servers", Status: checkOK, Detail: "1 live server", Items: items})
	default:
		r.add(check{Name: "servers", Status: checkOK, Detail: fmt.Sprintf("%d live servers; 'open' takes the newest", len(found.Live)), Items: items,
			Fix: []string{"pick another with --server PORT, --server PID or --server ROOTDIR"}})
	}
}

// doctorPython reports what `open --start` would find: python3 and the
// Jupyter front ends importable by it, and venv for --create.
func doctorPython(ctx context.Context, c *sshclient.Client, found *tunnel.Found) check {
	name := "python for --start"
	if found.Remote.Python3 == "" {
		return check{Name: name, Status: checkWarn, Detail: "no python3 on the remote PATH: --start needs --venv PATH",
			Fix: []string{"install Python 3 on the host, or point --venv at an environment that has Jupyter"}}
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	script := `python3 - <<'EOF'
import importlib.util as u
print(" ".join(m for m in ("jupyterlab", "notebook", "jupyter_server", "venv") if u.find_spec(m)))
EOF
`
	out, err := c.Output(pctx, "sh -s", []byte(script))
	if err != nil {
		return check{Name: name, Status: checkWarn, Detail: found.Remote.Python3 + " could not be asked: " + err.Error()}
	}
	mods := strings.Fields(lastLine(string(out)))
	var fronts []string
	venv := false
	for _, m := range mods {
		if m == "venv" {
			venv = true
		} else {
			fronts = append(fronts, m)
		}
	}
	if len(fronts) == 0 {
		return check{Name: name, Status: checkWarn, Detail: found.Remote.Python3 + " has no Jupyter (jupyterlab, notebook, jupyter_server)",
			Fix: []string{"use --venv PATH --create to make an environment with Jupyter, or install Jupyter for this python"}}
	}
	d := found.Remote.Python3 + " has " + strings.Join(fronts, ", ")
	if !venv {
		d += "; no venv module (--create needs it)"
	}
	return check{Name: name, Status: checkOK, Detail: d}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// doctorPort checks the local port 'open' would listen on.
func (e *env) doctorPort(ctx context.Context, alias string, found *tunnel.Found, want int) check {
	name := "local port"
	if len(found.Live) == 0 && want == 0 {
		return check{Name: name, Status: checkSkip, Detail: "no server to forward to"}
	}
	port, why := want, "asked for"
	var s jupyter.Server
	if len(found.Live) > 0 {
		s = found.Live[0]
	}
	if port == 0 {
		if p := loadPortState(e.getenv).get(alias, serverID(s)); p != 0 {
			port, why = p, "used last time"
		} else {
			port, why = s.Port, "the remote port"
		}
	}
	if port == 0 {
		return check{Name: name, Status: checkOK, Detail: "any free port will do"}
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil {
		l.Close()
		return check{Name: name, Status: checkOK, Detail: fmt.Sprintf("127.0.0.1:%d (%s) is free", port, why)}
	}
	if len(found.Live) > 0 && localAnswers(ctx, port, s) {
		return check{Name: name, Status: checkOK, Detail: fmt.Sprintf("127.0.0.1:%d already forwards this server (another nbtunnel or ssh -L)", port)}
	}
	if want != 0 {
		return check{Name: name, Status: checkFail, Detail: fmt.Sprintf("127.0.0.1:%d is in use by another program", port),
			Fix: []string{"choose another --local-port, or leave it out to let nbtunnel pick a free one"}}
	}
	return check{Name: name, Status: checkInfo, Detail: fmt.Sprintf("127.0.0.1:%d (%s) is in use: 'open' picks another free port", port, why)}
}

// doctorHook says whether nbtunnel's hook is installed for the host and
// whether it runs this binary.
func (e *env) doctorHook(r *doctorReport, alias string, hf *hostFlags) {
	name := "hook"
	self, err := selfPath()
	if err != nil {
		r.add(check{Name: name, Status: checkSkip, Detail: err.Error()})
		return
	}
	if hf.putty != "" {
		store, err := e.puttyStore()
		if err != nil {
			r.add(check{Name: name, Status: checkSkip, Detail: err.Error()})
			return
		}
		s, err := store.Load(hf.putty)
		if err != nil {
			r.add(check{Name: name, Status: checkSkip, Detail: err.Error()})
			return
		}
		cmd, _ := s.Get("ProxyTelnetCommand")
		switch {
		case !strings.Contains(cmd, hostconf.PuttyHookMarker):
			r.add(check{Name: name, Status: checkInfo, Detail: "not installed: 'nbtunnel install --putty " + hf.putty + "' makes PuTTY and plink show the link"})
		case cmd == install.PuttyHookCommand(self, hf.putty):
			r.add(check{Name: name, Status: checkOK, Detail: "installed in " + store.Where(hf.putty) + ", running " + self})
		default:
			r.add(check{Name: name, Status: checkWarn, Detail: "installed, but its command is not this nbtunnel: " + cmd,
				Fix: []string{"run 'nbtunnel install --putty " + hf.putty + "' again with the nbtunnel you use now (" + self + ")"}})
		}
		return
	}
	path := hf.config
	if path == "" {
		path = filepath.Join(homeDir(e.getenv), ".ssh", "config")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.add(check{Name: name, Status: checkInfo, Detail: "not installed (" + err.Error() + ")"})
		return
	}
	b, ok, err := fileedit.FindBlock(path, data, hostconf.HookBlockKey(alias))
	if err != nil {
		r.add(check{Name: name, Status: checkFail, Detail: err.Error(),
			Fix: []string{"repair or delete the damaged block in " + path + ", then 'nbtunnel install " + alias + "' again"}})
		return
	}
	if !ok {
		r.add(check{Name: name, Status: checkInfo, Detail: "not installed in " + path + ": 'nbtunnel install " + alias + "' makes plain 'ssh " + alias + "' print the link"})
		return
	}
	bin := hookBinary(b.Lines)
	switch {
	case bin == self:
		r.add(check{Name: name, Status: checkOK, Detail: fmt.Sprintf("installed in %s line %d, running %s", path, b.BeginLine, self)})
	case bin == "":
		r.add(check{Name: name, Status: checkWarn, Detail: fmt.Sprintf("the block in %s line %d names no nbtunnel command", path, b.BeginLine),
			Fix: []string{"'nbtunnel uninstall " + alias + "' and install again"}})
	default:
		fix := "run 'nbtunnel install " + alias + "' with the nbtunnel you use now (" + self + ")"
		if _, err := os.Stat(bin); err != nil {
			r.add(check{Name: name, Status: checkFail, Detail: fmt.Sprintf("the hook in %s line %d runs %s, which does not exist: ssh %s fails", path, b.BeginLine, bin, alias), Fix: []string{fix}})
			return
		}
		r.add(check{Name: name, Status: checkWarn, Detail: fmt.Sprintf("the hook in %s line %d runs %s, not this nbtunnel (%s)", path, b.BeginLine, bin, self), Fix: []string{fix}})
	}
}

// hookBinary finds the nbtunnel path in a hook block's ProxyCommand or
// LocalCommand line (quoted or not).
func hookBinary(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		end := strings.IndexAny(l, " \t=")
		if end < 0 {
			continue
		}
		switch strings.ToLower(l[:end]) {
		case "proxycommand", "localcommand":
		default:
			continue
		}
		rest := strings.TrimSpace(l[end:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
		rest = strings.TrimPrefix(rest, "exec ")
		for _, q := range []string{`"`, `'`} {
			if strings.HasPrefix(rest, q) {
				if end := strings.Index(rest[1:], q); end >= 0 {
					return rest[1 : end+1]
				}
			}
		}
		if words := strings.Fields(rest); len(words) > 0 {
			return words[0]
		}
	}
	return ""
}

// doctorPuttySession checks what nbtunnel needs of a saved session beyond
// resolving it: its key files exist and parse.
func (e *env) doctorPuttySession(_ context.Context, r *doctorReport, session string, h *hostconf.Host) {
	if len(h.IdentityFiles) == 0 {
		r.add(check{Name: "PuTTY key", Status: checkInfo, Detail: "the session names no key file: Pageant or an agent, or a password"})
		return
	}
	for _, f := range h.IdentityFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			r.add(check{Name: "PuTTY key", Status: checkFail, Detail: fmt.Sprintf("session %q names %s: %v", session, f, err),
				Fix: []string{"fix Connection > SSH > Auth > Private key file in PuTTY's settings for this session"}})
			continue
		}
		if strings.HasSuffix(strings.ToLower(f), ".ppk") {
			if _, _, err := ppk.ParsePublicKey(data); err != nil {
				r.add(check{Name: "PuTTY key", Status: checkFail, Detail: fmt.Sprintf("%s: %v", f, err),
					Fix: []string{"re-save the key with puttygen"}})
				continue
			}
		}
		r.add(check{Name: "PuTTY key", Status: checkOK, Detail: f + " readable"})
	}
}
