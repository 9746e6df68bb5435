package hostconf_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

// testConfigs copies testdata/openssh into a temporary directory with
// @DIR@ replaced by that directory, and returns it.
func testConfigs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk("testdata/openssh", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/openssh", p)
		dst := filepath.Join(dir, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "@DIR@", dir)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func bptr(b bool) *bool { return &b }

func TestResolveTable(t *testing.T) {
	dir := testConfigs(t)
	home := t.TempDir()
	env := map[string]string{"SSH_AUTH_SOCK": "/run/agent.sock", "MYAGENT": "/run/my.sock"}
	opts := func(file string) hostconf.ResolveOptions {
		return hostconf.ResolveOptions{
			ConfigFile: filepath.Join(dir, file),
			Home:       home,
			LocalUser:  "local",
			Getenv:     func(k string) string { return env[k] },
			SSHPath:    "-",
		}
	}
	tests := []struct {
		file, alias string
		check       func(t *testing.T, h *hostconf.Host)
	}{
		{"basic.conf", "gpu", func(t *testing.T, h *hostconf.Host) {
			want := &hostconf.Host{
				Alias: "gpu", HostName: "gpu.cluster.example", Port: 2222, User: "alice",
				IdentityFiles: []string{
					filepath.Join(home, ".ssh/id_gpu"),
					filepath.Join(home, "keys/alice@gpu.cluster.example:2222-gpu-local"),
				},
				IdentitiesOnly:      true,
				ServerAliveInterval: 30 * time.Second,
				ServerAliveCountMax: 5,
				ConnectTimeout:      90 * time.Second,
				LocalForwards: []hostconf.Forward{
					{Listen: "localhost:8888", Target: "localhost:8888"},
					{Listen: "127.0.0.1:9999", Target: "[::1]:80"},
				},
				Source: filepath.Join(dir, "basic.conf"),
			}
			got := *h
			got.HostKeys = nil
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("got  %+v\nwant %+v", got, *want)
			}
		}},
		{"basic.conf", "bob@upper", func(t *testing.T, h *hostconf.Host) {
			if h.User != "bob" || h.HostName != "mixed.example.com" || h.Port != 0 {
				t.Errorf("got user %q hostname %q port %d, want bob mixed.example.com 0", h.User, h.HostName, h.Port)
			}
			if len(h.IdentityFiles) != 7 || h.IdentityFiles[0] != filepath.Join(home, ".ssh/id_rsa") || h.IdentityFiles[6] != filepath.Join(home, ".ssh/id_dsa") {
				t.Errorf("got default identity files %q", h.IdentityFiles)
			}
		}},
		{"agent.conf", "env", func(t *testing.T, h *hostconf.Host) {
			if h.IdentityAgent != "/run/my.sock" {
				t.Errorf("got IdentityAgent %q, want /run/my.sock", h.IdentityAgent)
			}
		}},
		{"agent.conf", "braces", func(t *testing.T, h *hostconf.Host) {
			if h.IdentityAgent != "/run/agent.sock.d/x" {
				t.Errorf("got IdentityAgent %q, want /run/agent.sock.d/x", h.IdentityAgent)
			}
		}},
		{"agent.conf", "sock", func(t *testing.T, h *hostconf.Host) {
			if h.IdentityAgent != "" {
				t.Errorf("got IdentityAgent %q, want \"\" (use $SSH_AUTH_SOCK)", h.IdentityAgent)
			}
		}},
		{"basic.conf", "upper", func(t *testing.T, h *hostconf.Host) {
			if h.User != "quoted user" {
				t.Errorf("got user %q, want %q", h.User, "quoted user")
			}
		}},
		{"basic.conf", "eq", func(t *testing.T, h *hostconf.Host) {
			if h.HostName != "eq.example" || h.Port != 2022 || h.User != "defaultuser" {
				t.Errorf("got %q %d %q, want eq.example 2022 defaultuser", h.HostName, h.Port, h.User)
			}
		}},
		{"basic.conf", "negated", func(t *testing.T, h *hostconf.Host) {
			if h.User != "defaultuser" {
				t.Errorf("got user %q, want defaultuser (negated pattern)", h.User)
			}
		}},
		{"basic.conf", "ctl", func(t *testing.T, h *hostconf.Host) {
			kh := h.HostKeys.(*hostkeys.KnownHosts)
			u, g := kh.Files()
			wantU := []string{filepath.Join(home, "kh/ctl.known"), "/tmp/with space/kh"}
			if !reflect.DeepEqual(u, wantU) || len(g) != 2 {
				t.Errorf("got files %q %q, want %q and the 2 defaults", u, g, wantU)
			}
			if got := kh.Policy(); got != "accept-new" {
				t.Errorf("got policy %q, want accept-new", got)
			}
			if !strings.HasPrefix(h.ControlPath, filepath.Join(home, ".ssh/cm-")) || len(h.ControlPath) != len(filepath.Join(home, ".ssh/cm-"))+40 {
				t.Errorf("got ControlPath %q, want ~/.ssh/cm-<40 hex>", h.ControlPath)
			}
			if h.ControlMaster != "auto" || h.IdentityAgent != filepath.Join(home, "agent-ctl.sock") || h.HostKeyAlias != "ctl-alias" {
				t.Errorf("got ControlMaster %q IdentityAgent %q HostKeyAlias %q", h.ControlMaster, h.IdentityAgent, h.HostKeyAlias)
			}
			if !reflect.DeepEqual(h.PasswordAuthentication, bptr(false)) || !reflect.DeepEqual(h.KbdInteractiveAuthentication, bptr(false)) {
				t.Errorf("got password/kbd %v %v, want false false", h.PasswordAuthentication, h.KbdInteractiveAuthentication)
			}
		}},
		{"basic.conf", "ctl2", func(t *testing.T, h *hostconf.Host) {
			kh := h.HostKeys.(*hostkeys.KnownHosts)
			u, _ := kh.Files()
			if len(u) != 0 || kh.Policy() != "no" || h.ControlPath != "" || h.IdentityAgent != "none" || h.ControlMaster != "yes" {
				t.Errorf("got files %q policy %q ControlPath %q IdentityAgent %q ControlMaster %q", u, kh.Policy(), h.ControlPath, h.IdentityAgent, h.ControlMaster)
			}
		}},
		{"proxy.conf", "target", func(t *testing.T, h *hostconf.Host) {
			if len(h.ProxyJump) != 2 {
				t.Fatalf("got %d hops, want 2", len(h.ProxyJump))
			}
			b, i := h.ProxyJump[0], h.ProxyJump[1]
			if b.Alias != "bastion" || b.HostName != "bastion.example" || b.User != "jump" || b.Port != 0 {
				t.Errorf("got hop 1 %+v", b)
			}
			if i.Alias != "inner" || i.HostName != "inner.example" || i.User != "carol" || i.Port != 2201 || i.ProxyJump != nil {
				t.Errorf("got hop 2 %+v (a later hop's own ProxyJump must not apply)", i)
			}
		}},
		{"proxy.conf", "uri", func(t *testing.T, h *hostconf.Host) {
			if len(h.ProxyJump) != 1 || h.ProxyJump[0].User != "dave" || h.ProxyJump[0].Port != 2022 || h.ProxyJump[0].HostName != "bastion.example" {
				t.Errorf("got hops %+v", h.ProxyJump)
			}
		}},
		{"proxy.conf", "pc", func(t *testing.T, h *hostconf.Host) {
			// OpenSSH passes the rest of the line, "#" included, to the shell.
			if want := "nc -X connect -x proxy:3128 pc.example 2222 # comment erin"; h.ProxyCommand != want || h.ProxyJump != nil {
				t.Errorf("got ProxyCommand %q ProxyJump %v, want %q and no jump", h.ProxyCommand, h.ProxyJump, want)
			}
		}},
		{"proxy.conf", "jfirst", func(t *testing.T, h *hostconf.Host) {
			if h.ProxyCommand != "" || len(h.ProxyJump) != 1 {
				t.Errorf("got ProxyCommand %q, %d hops; want ProxyJump to win", h.ProxyCommand, len(h.ProxyJump))
			}
		}},
		{"proxy.conf", "nojump", func(t *testing.T, h *hostconf.Host) {
			// "ProxyJump none" does not block a later ProxyCommand.
			if h.ProxyCommand != "nc never nojump" || h.ProxyJump != nil {
				t.Errorf("got ProxyCommand %q ProxyJump %v, want the command and no jump", h.ProxyCommand, h.ProxyJump)
			}
		}},
		{"algs.conf", "plus", func(t *testing.T, h *hostconf.Host) {
			if n := len(h.Ciphers); n != 7 || h.Ciphers[6] != "aes256-cbc" {
				t.Errorf("got ciphers %q", h.Ciphers)
			}
		}},
		{"algs.conf", "plain", func(t *testing.T, h *hostconf.Host) {
			if want := []string{"ssh-ed25519", "rsa-sha2-512"}; !reflect.DeepEqual(h.HostKeyAlgorithms, want) {
				t.Errorf("got %q, want %q", h.HostKeyAlgorithms, want)
			}
		}},
		{"match.conf", "alias1", func(t *testing.T, h *hostconf.Host) {
			if h.User != "matched-by-hostname" || h.Port != 2001 || h.ConnectTimeout != 7*time.Second || h.ServerAliveInterval != 11*time.Second {
				t.Errorf("got user %q port %d timeout %v alive %v", h.User, h.Port, h.ConnectTimeout, h.ServerAliveInterval)
			}
		}},
		{"include.conf", "inc-a", func(t *testing.T, h *hostconf.Host) {
			if h.User != "from-include" || h.Port != 1111 || h.HostName != "a.example" {
				t.Errorf("got %q %d %q", h.User, h.Port, h.HostName)
			}
		}},
		{"exec.conf", "exe", func(t *testing.T, h *hostconf.Host) {
			// Match exec runs the command itself, as ssh does.
			if h.User != "from-exec" {
				t.Errorf("got user %q, want from-exec (Match exec \"true\")", h.User)
			}
		}},
		{"include.conf", "inc-c", func(t *testing.T, h *hostconf.Host) {
			if h.User != "c-include" || h.Port != 4444 {
				t.Errorf("got %q %d, want c-include 4444", h.User, h.Port)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.alias, func(t *testing.T) {
			h, err := hostconf.Resolve(context.Background(), tt.alias, opts(tt.file))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if h.HostKeys == nil {
				t.Fatal("got nil HostKeys")
			}
			tt.check(t, h)
		})
	}
}

func TestResolveErrors(t *testing.T) {
	dir := testConfigs(t)
	home := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, config, alias string
		want                []string
		unsupported         bool
	}{
		{"bad port", write("badport.conf", "Host x\n\n  Port abc\n"), "x", []string{"badport.conf line 3", "Port"}, false},
		{"include loop", filepath.Join(dir, "loop.conf"), "x", []string{"loop.conf", "Include loop"}, false},
		{"keyword newer than OpenSSH 9.2, without ssh", write("newkw.conf", "Host x\n  ChannelTimeout session=5m\n"), "x", []string{"newkw.conf line 2", "ChannelTimeout", "ssh -G"}, true},
		{"Match criterion newer than OpenSSH 9.2, without ssh", write("newmatch.conf", "Match tagged x\n  User y\n"), "x", []string{"newmatch.conf line 1", "Match tagged", "ssh -G"}, true},
		{"bad token", write("badtok.conf", "Host x\n IdentityFile ~/%z\n"), "x", []string{"badtok.conf line 2", "%z"}, false},
		{"bad strict", write("badstrict.conf", "Host x\n StrictHostKeyChecking maybe\n"), "x", []string{"badstrict.conf line 2", "maybe"}, false},
		{"jump loop", write("jumploop.conf", "Host a\n ProxyJump b\nHost b\n ProxyJump a\n"), "a", []string{"jumploop.conf line", "ProxyJump"}, false},
		{"missing file", filepath.Join(dir, "nope.conf"), "x", []string{"nope.conf"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hostconf.Resolve(context.Background(), tt.alias, hostconf.ResolveOptions{ConfigFile: tt.config, Home: home, LocalUser: "me", SSHPath: "-"})
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
			if got := errors.Is(err, hostconf.ErrUnsupportedConfig); got != tt.unsupported {
				t.Errorf("got errors.Is(err, ErrUnsupportedConfig) = %v, want %v", got, tt.unsupported)
			}
		})
	}
}

// requireSSH returns the ssh binary, skipping when it is missing unless
// NBTUNNEL_E2E=1.
func requireSSH(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("NBTUNNEL_E2E") == "1" {
			t.Fatalf("ssh not found: %v", err)
		}
		t.Skipf("ssh not found: %v", err)
	}
	return p
}

// sshG runs ssh -G and returns its settings.
func sshG(t *testing.T, bin, config, alias string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-G", "-F", config, "--", alias).Output()
	if err != nil {
		t.Fatalf("ssh -G -F %s %s: %v", config, alias, err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		if k != "" {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// TestResolveOracle compares Resolve with this machine's `ssh -G`.
func TestResolveOracle(t *testing.T) {
	bin := requireSSH(t)
	dir := testConfigs(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"basic.conf":   {"gpu", "gpu-7", "upper", "eq", "x.neg", "negated", "ctl", "ctl2", "other"},
		"proxy.conf":   {"target", "bastion", "inner", "uri", "pc", "jfirst", "nojump", "nocmd"},
		"algs.conf":    {"plus", "minus", "caret", "plain"},
		"match.conf":   {"alias1", "alias2", "other"},
		"include.conf": {"inc-a", "inc-b", "inc-c", "inc-d"},
		"exec.conf":    {"exe"},
	}
	for file, aliases := range cases {
		for _, alias := range aliases {
			t.Run(file+"/"+alias, func(t *testing.T) {
				config := filepath.Join(dir, file)
				g := sshG(t, bin, config, alias)
				sshPath := "-"
				if file == "exec.conf" {
					sshPath = bin
				}
				h, err := hostconf.Resolve(context.Background(), alias, hostconf.ResolveOptions{
					ConfigFile: config, Home: u.HomeDir, LocalUser: u.Username, SSHPath: sshPath,
					Getenv: os.Getenv,
				})
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				compareWithSSHG(t, h, g, u.HomeDir)
			})
		}
	}
}

func one(g map[string][]string, k string) string {
	if v := g[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func compareWithSSHG(t *testing.T, h *hostconf.Host, g map[string][]string, home string) {
	t.Helper()
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, ssh -G says %q", what, got, want)
		}
	}
	check("hostname", h.HostName, one(g, "hostname"))
	check("user", h.User, one(g, "user"))
	port := h.Port
	if port == 0 {
		port = 22
	}
	check("port", strconv.Itoa(port), one(g, "port"))
	var ids []string
	for _, f := range g["identityfile"] {
		if strings.HasPrefix(f, "~/") {
			f = filepath.Join(home, f[2:])
		}
		f = strings.NewReplacer("%r", h.User, "%h", h.HostName, "%p", strconv.Itoa(port), "%n", h.Alias, "%u", one(g, "user")).Replace(f)
		ids = append(ids, f)
	}
	if !strings.Contains(strings.Join(g["identityfile"], ""), "%u") {
		check("identityfile", strings.Join(h.IdentityFiles, "|"), strings.Join(ids, "|"))
	}
	check("controlpath", h.ControlPath, strings.TrimSuffix(one(g, "controlpath"), "none"))
	kh := h.HostKeys.(*hostkeys.KnownHosts)
	uf, gf := kh.Files()
	if one(g, "userknownhostsfile") != "none" {
		check("userknownhostsfile", strings.Join(uf, " "), one(g, "userknownhostsfile"))
	}
	check("globalknownhostsfile", strings.Join(gf, " "), one(g, "globalknownhostsfile"))
	strict := map[string]string{"true": "yes", "false": "no"}[one(g, "stricthostkeychecking")]
	if strict == "" {
		strict = one(g, "stricthostkeychecking")
	}
	check("stricthostkeychecking", kh.Policy(), strict)
	pc := one(g, "proxycommand")
	if pc == "none" {
		pc = ""
	}
	pc = strings.NewReplacer("%h", h.HostName, "%p", strconv.Itoa(port), "%r", h.User, "%n", h.Alias).Replace(pc)
	check("proxycommand", h.ProxyCommand, pc)
	var hops []string
	for _, j := range h.ProxyJump {
		hops = append(hops, j.Alias)
	}
	var wantHops []string
	if pj := one(g, "proxyjump"); pj != "" && pj != "none" {
		for _, s := range strings.Split(pj, ",") {
			s = strings.TrimPrefix(s, "ssh://")
			if i := strings.LastIndex(s, "@"); i >= 0 {
				s = s[i+1:]
			}
			s, _, _ = strings.Cut(s, ":")
			wantHops = append(wantHops, s)
		}
	}
	check("proxyjump", strings.Join(hops, ","), strings.Join(wantHops, ","))
	check("hostkeyalias", h.HostKeyAlias, one(g, "hostkeyalias"))
	ct := "none"
	if h.ConnectTimeout > 0 {
		ct = strconv.Itoa(int(h.ConnectTimeout.Seconds()))
	}
	check("connecttimeout", ct, one(g, "connecttimeout"))
	check("serveraliveinterval", strconv.Itoa(int(h.ServerAliveInterval.Seconds())), one(g, "serveraliveinterval"))
	sacm := h.ServerAliveCountMax
	if sacm == 0 {
		sacm = 3
	}
	check("serveralivecountmax", strconv.Itoa(sacm), one(g, "serveralivecountmax"))
	if h.Ciphers != nil {
		check("ciphers", strings.Join(h.Ciphers, ","), one(g, "ciphers"))
	}
	if h.HostKeyAlgorithms != nil {
		check("hostkeyalgorithms", strings.Join(h.HostKeyAlgorithms, ","), one(g, "hostkeyalgorithms"))
	}
	var fw []string
	for _, f := range h.LocalForwards {
		fw = append(fw, f.Listen+" "+f.Target)
	}
	var wantFw []string
	for _, f := range g["localforward"] {
		l, r, _ := strings.Cut(f, " ")
		if !strings.Contains(l, ":") {
			l = "localhost:" + l
		}
		norm := func(s string) string { return strings.Replace(strings.Replace(s, "[", "", 1), "]", "", 1) }
		wantFw = append(wantFw, norm(l)+" "+norm(r))
	}
	var gotFw []string
	for _, f := range fw {
		gotFw = append(gotFw, strings.Replace(strings.Replace(f, "[", "", -1), "]", "", -1))
	}
	check("localforward", strings.Join(gotFw, "|"), strings.Join(wantFw, "|"))
	cm := map[string]string{"true": "yes", "false": ""}[one(g, "controlmaster")]
	if one(g, "controlmaster") != "true" && one(g, "controlmaster") != "false" {
		cm = one(g, "controlmaster")
	}
	check("controlmaster", h.ControlMaster, cm)
	check("identitiesonly", strconv.FormatBool(h.IdentitiesOnly), map[string]string{"yes": "true", "no": "false"}[one(g, "identitiesonly")])
}

func FuzzConfig(f *testing.F) {
	for _, name := range []string{"basic.conf", "proxy.conf", "algs.conf", "match.conf", "exec.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata/openssh", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "gpu")
	}
	f.Add([]byte("Host a\n ProxyJump a,a,a,a\n"), "a")
	f.Add([]byte("Match host \"x\" !user y\n Port 1\n"), "x")
	f.Fuzz(func(t *testing.T, config []byte, alias string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "config")
		if err := os.WriteFile(p, config, 0o600); err != nil {
			t.Fatal(err)
		}
		// Match exec lines are not run: a generated command could do anything.
		noExec := func(ctx context.Context, cmd string) (bool, error) { return len(cmd)%2 == 0, nil }
		h, err := hostconf.Resolve(context.Background(), alias, hostconf.ResolveOptions{ConfigFile: p, Home: dir, LocalUser: "me", SSHPath: "-", MatchExec: noExec})
		if err == nil && h.HostKeys == nil {
			t.Fatal("got a host without HostKeys")
		}
		if err != nil && !strings.Contains(err.Error(), p) && !strings.Contains(err.Error(), "host") {
			t.Fatalf("got error %q, want it to name the file or host", err)
		}
	})
}

// TestResolveDefaultFiles reads ~/.ssh/config under Home (relative
// Includes are relative to ~/.ssh) and then the system file.
func TestResolveDefaultFiles(t *testing.T) {
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(filepath.Join(sshDir, "conf.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config":          "Include conf.d/*.conf\r\nHost r\r\n  Port 2200\r\n",
		"conf.d/a.conf":   "Host r\n  User rel\n  Port 1100\n",
		"conf.d/b.conf":   "Host r\n  User second\n  IdentityFile ~/.ssh/id_b\n",
		"conf.d/skip.txt": "Host r\n  User wrong\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(sshDir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h, err := hostconf.Resolve(context.Background(), "r", hostconf.ResolveOptions{Home: home, LocalUser: "me", SSHPath: "-"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if h.User != "rel" || h.Port != 1100 || h.Source != filepath.Join(sshDir, "config") {
		t.Errorf("got user %q port %d source %q, want rel 1100 %s", h.User, h.Port, h.Source, filepath.Join(sshDir, "config"))
	}
	if want := []string{filepath.Join(sshDir, "id_b")}; !reflect.DeepEqual(h.IdentityFiles, want) {
		t.Errorf("got identity files %q, want %q", h.IdentityFiles, want)
	}
}

// TestResolveSSHGFallback: a line only OpenSSH can evaluate sends Resolve
// to `ssh -G`, whose output it then expands as ssh would. A script stands
// in for ssh here (the real one is in TestDifferentialSSHG).
func TestResolveSSHGFallback(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	args := filepath.Join(dir, "args")
	script := filepath.Join(dir, "fake-ssh")
	text := "#!/bin/sh\necho \"$@\" > " + args + "\ncat <<'OUT'\nhost x\nuser guser\nhostname g.example\nport 2022\n" +
		"identityfile ~/.ssh/id_%h\nglobalknownhostsfile ~/gkh\nuserknownhostsfile /tmp/ukh\nproxycommand nc %h %p\nOUT\n"
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("Host x\n  ChannelTimeout session=1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := hostconf.Resolve(context.Background(), "x", hostconf.ResolveOptions{ConfigFile: config, Home: home, LocalUser: "me", SSHPath: script})
	if err != nil {
		t.Fatal(err)
	}
	kh := h.HostKeys.(*hostkeys.KnownHosts)
	_, global := kh.Files()
	got := []string{h.User, h.HostName, strconv.Itoa(h.Port), strings.Join(h.IdentityFiles, " "), h.ProxyCommand, strings.Join(global, " ")}
	want := []string{"guser", "g.example", "2022", filepath.Join(home, ".ssh/id_g.example"), "nc g.example 2022", filepath.Join(home, "gkh")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(args); strings.TrimSpace(string(b)) != "-G -F "+config+" -- x" {
		t.Errorf("ssh ran with %q, want -G -F %s -- x", b, config)
	}
}
