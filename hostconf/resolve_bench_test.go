package hostconf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// BenchmarkResolve resolves one host of a config of the size many users
// have: 40 Host blocks, an Include of drop-in files, a Match final block
// and a Host * block at the end.
func BenchmarkResolve(b *testing.B) {
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("Include " + dir + "/conf.d/*.conf\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&cfg, "Host box%d box%d.lab\n    HostName 10.0.%d.%d\n    User user%d\n    Port %d\n    IdentityFile ~/.ssh/id_box%d\n\n", i, i, i/250, i%250, i, 2200+i, i)
	}
	cfg.WriteString("Match final host 10.0.0.*\n    ServerAliveInterval 30\nHost *\n    ServerAliveCountMax 5\n    ConnectTimeout 20\n    ControlPath ~/.ssh/cm-%C\n")
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o700); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		text := fmt.Sprintf("Host drop%d\n    HostName drop%d.example\n", i, i)
		if err := os.WriteFile(filepath.Join(dir, "conf.d", fmt.Sprintf("%d.conf", i)), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	o := hostconf.ResolveOptions{ConfigFile: config, Home: dir, LocalUser: "me", SSHPath: "-"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := hostconf.Resolve(context.Background(), "box37", o); err != nil {
			b.Fatal(err)
		}
	}
}
