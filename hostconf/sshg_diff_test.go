package hostconf_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
	"github.com/nbtunnel/nbtunnel/internal/testenv"
)

// The differential test: every case under testdata/sshg is a txtar
// archive whose comment says which hosts to look up (and what the case
// models); its files are written to a fresh directory (@DIR@ in them
// becomes that directory) and "config" is read as ssh -F would. For each
// host, what nbtunnel config prints (hostconf.WriteConfig of Resolve,
// with the ssh -G fallback off) must equal what this machine's ssh -G
// prints for the same keys, after the normalizations in sshGView, which
// are the documented differences. A case that both refuse must be refused
// by both.
//
// Header lines of a case:
//
//	hosts: a b user@c     the hosts to look up
//	env: NAME=value ...   environment for both (${NAME} expansion)
//	unsupported: HOST     the engine must say ErrUnsupported for HOST
//	                      (ssh -G is the fallback there)
//	differs: HOST why     a deliberate difference, documented in
//	                      sshconfig's package doc: only nbtunnel's
//	                      answer is checked to exist

// sshBin finds ssh, skipping (failing under NBTUNNEL_E2E=1) without it.
func sshBin(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ssh")
	if err != nil {
		testenv.Skipf(t, "ssh (openssh-client) not installed: %v", err)
	}
	return p
}

type diffCase struct {
	name        string
	hosts       []string
	env         map[string]string
	unsupported map[string]bool
	differs     map[string]string
	files       []txtar.File
}

func loadDiffCases(t *testing.T) []diffCase {
	t.Helper()
	names, err := filepath.Glob("testdata/sshg/*.txtar")
	if err != nil || len(names) == 0 {
		t.Fatalf("no differential cases in testdata/sshg: %v", err)
	}
	var cases []diffCase
	for _, n := range names {
		a, err := txtar.ParseFile(n)
		if err != nil {
			t.Fatal(err)
		}
		c := diffCase{name: strings.TrimSuffix(filepath.Base(n), ".txtar"), env: map[string]string{},
			unsupported: map[string]bool{}, differs: map[string]string{}, files: a.Files}
		for _, l := range strings.Split(string(a.Comment), "\n") {
			k, v, _ := strings.Cut(l, ":")
			v = strings.TrimSpace(v)
			switch k {
			case "hosts":
				c.hosts = strings.Fields(v)
			case "env":
				for _, kv := range strings.Fields(v) {
					name, val, _ := strings.Cut(kv, "=")
					c.env[name] = val
				}
			case "unsupported":
				c.unsupported[v] = true
			case "differs":
				h, why, _ := strings.Cut(v, " ")
				c.differs[h] = why
			}
		}
		if len(c.hosts) == 0 {
			t.Fatalf("%s: no hosts: line", n)
		}
		cases = append(cases, c)
	}
	return cases
}

// writeCase writes a case's files under dir.
func writeCase(t testing.TB, dir string, files []txtar.File) string {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := bytes.ReplaceAll(f.Data, []byte("@DIR@"), []byte(dir))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "config")
}

// sshGOut runs ssh -G -F config host with exactly env (no system file:
// -F skips it). ok is false when ssh refuses the config.
func sshGOut(t testing.TB, bin, config, host string, env map[string]string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-G", "-F", config, "--", host)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "SHELL=/bin/sh", "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("ssh -G %s: timed out", host)
	}
	if err != nil {
		return stderr.String(), false
	}
	return string(out), true
}

// ours resolves host as nbtunnel config does, without the ssh -G
// fallback, and prints it.
func ours(config, host, home, local string, env map[string]string) (string, error) {
	env2 := map[string]string{"SHELL": "/bin/sh"}
	for k, v := range env {
		env2[k] = v
	}
	h, err := hostconf.Resolve(context.Background(), host, hostconf.ResolveOptions{
		ConfigFile: config, Home: home, LocalUser: local, SSHPath: "-",
		Getenv: func(k string) string { return env2[k] },
	})
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := hostconf.WriteConfig(&b, h); err != nil {
		return "", err
	}
	return b.String(), nil
}

func parseKV(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(l, " ")
		if k != "" {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// sshGView turns ssh -G's output into what nbtunnel config prints for the
// same settings: the keys nbtunnel prints, with IdentityFile, ProxyCommand
// and GlobalKnownHostsFile expanded (ssh expands them after printing),
// a bare LocalForward port given its default address, IdentityAgent
// SSH_AUTH_SOCK (the default) left out, and ServerAliveCountMax 0 read as
// 3.
func sshGView(g map[string][]string, home, local string, env map[string]string, keys []string) map[string][]string {
	one := func(k string) string {
		if v := g[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	port, _ := strconv.Atoi(one("port"))
	host, _ := os.Hostname()
	t := sshconfig.Tokens{Home: home, HostName: one("hostname"), Port: port, RemoteUser: one("user"),
		LocalUser: local, Original: one("host"), LocalHost: host, UID: strconv.Itoa(os.Getuid()),
		HostKeyAlias: one("hostkeyalias"), ProxyJump: one("proxyjump")}
	getenv := func(k string) string { return env[k] }
	out := map[string][]string{}
	for _, k := range keys {
		for _, v := range g[k] {
			switch k {
			case "identityfile":
				v = oracleExpand(t, v, true, getenv)
			case "proxycommand":
				v = oracleExpand(t, v, false, nil)
			case "globalknownhostsfile":
				var fs []string
				for _, f := range strings.Fields(v) {
					fs = append(fs, oracleTilde(f, home))
				}
				v = strings.Join(fs, " ")
			case "localforward":
				l, r, _ := strings.Cut(v, " ")
				if _, err := strconv.Atoi(l); err == nil {
					l = "[localhost]:" + l
				}
				v = l + " " + r
			case "serveralivecountmax":
				// nbtunnel always keeps its link alive: a count of 0
				// (ssh: give up at the first unanswered keepalive) is
				// read as the default, 3. Documented in package sshconfig.
				if v == "0" {
					v = "3"
				}
			case "identityagent":
				if v == "SSH_AUTH_SOCK" {
					continue
				}
				if strings.HasPrefix(v, "$") {
					v = env[v[1:]]
				}
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// oracleExpand expands the tokens (and, for a path, a leading ~ and
// ${VAR}) that ssh -G leaves in a value, independently of package
// sshconfig, so that the comparison does not take the code under test as
// its own oracle. Only %C (a hash) is left to the engine.
func oracleExpand(t sshconfig.Tokens, v string, path bool, getenv func(string) string) string {
	if path {
		v = oracleTilde(v, t.Home)
		for {
			i := strings.Index(v, "${")
			j := strings.IndexByte(v[max(i, 0):], '}')
			if i < 0 || j < 0 {
				break
			}
			v = v[:i] + getenv(v[i+2:i+j]) + v[i+j+1:]
		}
	}
	short, _, _ := strings.Cut(t.LocalHost, ".")
	k := t.HostKeyAlias
	if k == "" {
		k = t.Original
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(t.Home)
		case 'h':
			b.WriteString(t.HostName)
		case 'p':
			b.WriteString(strconv.Itoa(t.Port))
		case 'r':
			b.WriteString(t.RemoteUser)
		case 'u':
			b.WriteString(t.LocalUser)
		case 'n':
			b.WriteString(t.Original)
		case 'l':
			b.WriteString(t.LocalHost)
		case 'L':
			b.WriteString(short)
		case 'i':
			b.WriteString(t.UID)
		case 'k':
			b.WriteString(k)
		case 'j':
			b.WriteString(t.ProxyJump)
		default: // %C
			e, err := t.Expand("%"+string(v[i]), sshconfig.TokensDefault, nil)
			if err != nil {
				e = "%" + string(v[i])
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// oracleTilde replaces a leading "~/" (or a lone "~") with home.
func oracleTilde(v, home string) string {
	if v == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(v, "~/"); ok {
		return strings.TrimSuffix(home, "/") + "/" + rest
	}
	return v
}

func compareOutputs(t *testing.T, label, ourOut, gOut, home, local string, env map[string]string) {
	t.Helper()
	o := parseKV(ourOut)
	var keys []string
	for k := range o {
		keys = append(keys, k)
	}
	// Keys ssh -G prints that nbtunnel prints only when set.
	for _, k := range []string{"controlpath", "hostkeyalias", "identityagent", "proxycommand", "proxyjump", "localforward"} {
		if _, ok := o[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	g := sshGView(parseKV(gOut), home, local, env, keys)
	for _, k := range keys {
		got, want := strings.Join(o[k], "\n"), strings.Join(g[k], "\n")
		if got != want {
			t.Errorf("%s: %s:\n nbtunnel: %q\n ssh -G:   %q", label, k, got, want)
		}
	}
}

// TestDifferentialSSHG compares nbtunnel config with ssh -G on the
// corpus in testdata/sshg and on the project's own configs in
// testdata/openssh.
func TestDifferentialSSHG(t *testing.T) {
	bin := sshBin(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	home, local := u.HomeDir, u.Username
	cases := loadDiffCases(t)
	checked := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			config := writeCase(t, dir, c.files)
			for _, host := range c.hosts {
				ourOut, err := ours(config, host, home, local, c.env)
				label := c.name + " " + host
				if c.unsupported[host] {
					// ssh -G is not run: it may ask the DNS.
					if !errors.Is(err, hostconf.ErrUnsupportedConfig) {
						t.Errorf("%s: got %v, want ErrUnsupportedConfig (ssh -G is the fallback)", label, err)
					}
					checked++
					continue
				}
				gOut, gOK := sshGOut(t, bin, config, host, c.env)
				switch {
				case c.differs[host] != "":
					if err != nil && gOK {
						t.Errorf("%s: nbtunnel refuses (%v) where ssh -G does not; the documented difference is: %s", label, err, c.differs[host])
					}
				case err != nil && gOK:
					t.Errorf("%s: nbtunnel refuses what ssh -G accepts: %v", label, err)
				case err == nil && !gOK:
					t.Errorf("%s: nbtunnel accepts what ssh -G refuses (%s)", label, strings.TrimSpace(gOut))
				case err != nil:
					var ce *hostconf.ConfigError
					if !errors.As(err, &ce) && !strings.Contains(err.Error(), dir) {
						t.Errorf("%s: error %q names no file", label, err)
					}
				default:
					compareOutputs(t, label, ourOut, gOut, home, local, c.env)
				}
				checked++
			}
		})
	}
	// The project's own configs of TestResolveTable, through the same
	// comparison.
	own := map[string][]string{
		"basic.conf":   {"gpu", "gpu-7", "upper", "eq", "x.neg", "negated", "ctl", "ctl2", "other", "bob@upper"},
		"proxy.conf":   {"target", "bastion", "inner", "uri", "pc", "jfirst", "nojump", "nocmd"},
		"algs.conf":    {"plus", "minus", "caret", "plain"},
		"match.conf":   {"alias1", "alias2", "other"},
		"include.conf": {"inc-a", "inc-b", "inc-c", "inc-d"},
		"exec.conf":    {"exe"},
		"agent.conf":   {"env", "braces", "sock"},
	}
	env := map[string]string{"SSH_AUTH_SOCK": "/run/agent.sock", "MYAGENT": "/run/my.sock"}
	dir := testConfigs(t)
	for file, hosts := range own {
		for _, host := range hosts {
			config := filepath.Join(dir, file)
			gOut, gOK := sshGOut(t, bin, config, host, env)
			ourOut, err := ours(config, host, home, local, env)
			label := "testdata/openssh/" + file + " " + host
			switch {
			case err != nil || !gOK:
				t.Errorf("%s: nbtunnel: %v; ssh -G accepts: %v %s", label, err, gOK, strings.TrimSpace(gOut))
			default:
				compareOutputs(t, label, ourOut, gOut, home, local, env)
			}
			checked++
		}
	}
	t.Logf("%d corpus cases and %d files of testdata/openssh: %d host lookups compared with ssh -G", len(cases), len(own), checked)
}
