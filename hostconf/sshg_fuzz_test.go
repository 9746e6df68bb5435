package hostconf_test

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// configGen turns fuzz bytes into an ssh config built from the keywords,
// patterns, Match criteria and spellings nbtunnel reads, so that every
// generated file is one both nbtunnel and ssh -G should read alike (the
// documented differences are left out of the vocabulary).
type configGen struct {
	b []byte
	i int
}

func (g *configGen) pick(list ...string) string {
	if g.i >= len(g.b) {
		return list[0]
	}
	v := list[int(g.b[g.i])%len(list)]
	g.i++
	return v
}

var (
	genHosts    = []string{"a", "b", "A", "gpu1", "gpu", "x", "u9@a"}
	genPatterns = []string{"a", "b", "a?", "?", "*", "!a", `"a"`, "a*", "*a", "A", "gpu?", "gpu*", "!b*", "'a'", "x.example", "*.example"}
	genCriteria = []string{"all", "final", "!final", "canonical", "host a,b", "host !a,*", "originalhost a*", "user u*",
		"!user root", "localuser @LOCAL@", "exec true", "exec false", `!exec "test %h = a"`, "host A", "host *.example",
		"user u9", `host "x.example"`}
	genSettings = [][]string{
		{"HostName", "%h.example", "B", "a", "x.example", "%h", "X.Example"},
		{"User", "u1", `"q u"`, "u2", "u9"},
		{"Port", "2001", "2002", "ssh"},
		{"IdentityFile", "~/.ssh/k1", "~/.ssh/k_%h", "%d/k2", `"~/sp ace"`},
		{"ProxyJump", "j1", "none", "u@j2:22", "ssh://j3:2222"},
		{"ProxyCommand", "nc %h %p", "none", "ssh -W %h:%p gw # c"},
		{"LocalForward", "8080 localhost:80", "127.0.0.1:9090 [::1]:90", "7070 /tmp/s.sock", "7171 ${SOCKS}/%h.sock", "~/%r.sock /tmp/t"},
		{"ControlPath", "~/.ssh/cm-%C", "none", "/tmp/c-%h-%p-%r", "${SOCKS}/cm-%n-%l-%L-%i-%k-%d-%u"},
		{"IdentityAgent", "${SOCKS}/agent", "none", "~/agent-%h"},
		{"StrictHostKeyChecking", "yes", "no", "ask", "accept-new", "off"},
		{"ConnectTimeout", "5", "1m", "none"},
		{"ServerAliveInterval", "7", "2m"},
		{"IdentitiesOnly", "yes", "no"},
		{"ControlMaster", "auto", "no", "autoask"},
		{"HostKeyAlias", "Z", "alias-%h"},
		{"UserKnownHostsFile", "/tmp/k1 /tmp/k2", "none", "~/.ssh/kh-%h"},
		{"CanonicalizeHostname", "yes", "no"},
		{"PasswordAuthentication", "no", "yes"},
		{"Ciphers", "+aes256-cbc", "aes128-ctr", "-chacha*"},
		{"Include", "@DIR@/inc*.conf", "@DIR@/nothing-*.conf"},
	}
)

func (g *configGen) config(local string) (string, string) {
	host := g.pick(genHosts...)
	var b strings.Builder
	n := 1 + int(g.pick("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")[0]-'0')
	for l := 0; l < n+4; l++ {
		indent := g.pick("", "  ", "\t")
		switch g.pick("h", "m", "s", "s", "s", "s") {
		case "h":
			b.WriteString("Host " + g.pick(genPatterns...))
			if g.pick("", "more") != "" {
				b.WriteString(" " + g.pick(genPatterns...))
			}
		case "m":
			b.WriteString("Match " + strings.ReplaceAll(g.pick(genCriteria...), "@LOCAL@", local))
			if g.pick("", "more") != "" {
				b.WriteString(" " + strings.ReplaceAll(g.pick(genCriteria[1:]...), "@LOCAL@", local))
			}
		default:
			s := genSettings[0]
			if g.i < len(g.b) {
				s = genSettings[int(g.b[g.i])%len(genSettings)]
				g.i++
			}
			v := g.pick(s[1:]...)
			b.WriteString(indent + s[0] + g.pick(" ", "=", " = ", "\t") + v)
			if s[0] == "ProxyJump" && v == "none" {
				// "ProxyJump none # comment" is a documented difference.
				b.WriteString("\n")
				continue
			}
		}
		b.WriteString(g.pick("\n", "\n", "\r\n", " # trailing\n"))
	}
	return b.String(), host
}

// FuzzDifferentialSSHG compares nbtunnel config with ssh -G on generated
// configs. It needs ssh (skipped without it, failed under NBTUNNEL_E2E=1).
func FuzzDifferentialSSHG(f *testing.F) {
	bin := sshBin(f)
	u, err := user.Current()
	if err != nil {
		f.Fatal(err)
	}
	home, local := u.HomeDir, u.Username
	f.Add([]byte{})
	f.Add([]byte("host gpu? and a Match final block"))
	f.Add([]byte{0, 3, 1, 2, 5, 4, 4, 2, 9, 1, 0, 7, 3, 3, 8, 2, 6, 1, 1, 0, 5, 5, 2, 2})
	f.Add([]byte{2, 1, 1, 4, 0, 0, 2, 8, 3, 3, 1, 0, 0, 2, 5, 2, 2, 2, 6, 6, 1, 3, 0, 0, 9, 2, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &configGen{b: data}
		text, host := g.config(local)
		dir := t.TempDir()
		text = strings.ReplaceAll(text, "@DIR@", dir)
		config := filepath.Join(dir, "config")
		if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inc1.conf"), []byte("User inc-user\nHost b\n  Port 2003\nMatch final\n  ConnectTimeout 4\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"SOCKS": "/run/socks"}
		gOut, gOK := sshGOut(t, bin, config, host, env)
		ourOut, err := ours(config, host, home, local, env)
		switch {
		case errors.Is(err, hostconf.ErrJumpLoop):
			// ssh -G prints a jump loop; ssh refuses it when it
			// connects, nbtunnel when it reads the config.
		case err != nil && gOK:
			t.Errorf("config:\n%s\nhost %s: nbtunnel refuses what ssh -G accepts: %v", text, host, err)
		case err == nil && !gOK:
			t.Errorf("config:\n%s\nhost %s: nbtunnel accepts what ssh -G refuses: %s", text, host, strings.TrimSpace(gOut))
		case err == nil:
			compareOutputs(t, "generated config for "+host+":\n"+text, ourOut, gOut, home, local, env)
		}
	})
}
