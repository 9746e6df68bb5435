//go:build linux

package install_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/putty"
	"github.com/nbtunnel/nbtunnel/install"
	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

// TestPuttyHookCommandRealPlink has real plink run the installed hook
// command (a stand-in script that records its arguments) for a session
// with a hostile name: PuTTY's unescaping and the shell must give back the
// exact session name.
func TestPuttyHookCommandRealPlink(t *testing.T) {
	testbed.Require(t, "plink")
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	bin := filepath.Join(dir, "bin dir", "nb%tunnel")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + argsFile + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	puttyDir := filepath.Join(dir, "putty")
	st := putty.NewFileStore(dir, func(k string) string {
		if k == "PUTTYDIR" {
			return puttyDir
		}
		return ""
	})
	session := `x y'$(touch pwned)"%host\n`
	if err := os.MkdirAll(st.SessionDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Where(session), []byte("HostName=gpu.invalid\nPortNumber=2222\nProtocol=ssh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := install.InstallPutty(ctx, st, session, bin, false); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "plink", "-batch", "-load", session, "true")
	cmd.Env = append(os.Environ(), "PUTTYDIR="+puttyDir, "HOME="+dir)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // the stand-in proxy speaks no SSH: plink fails
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("the hook command did not run: %v; plink said: %s", err, out)
	}
	want := "proxy\n--putty\n" + session + "\ngpu.invalid\n2222\n"
	if string(got) != want {
		t.Errorf("hook arguments:\n%q\nwant\n%q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("the session name was run as a command")
	}
}
