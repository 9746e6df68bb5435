package testbed

import (
	"os"
	"os/exec"
	"testing"
)

// baseBinaries are the programs every Bed needs; Require checks them.
var baseBinaries = []string{"sshd", "ssh", "ip", "setpriv", "useradd", "userdel", "jupyter-notebook", "jupyter-server"}

// E2EEnv is the environment variable that turns Require's skips into failures when it is "1".
const E2EEnv = "NBTUNNEL_E2E"

// Require skips t unless the process is root and each of sshd, ssh, ip, setpriv, useradd,
// userdel, jupyter-notebook, jupyter-server and extra (for example "plink",
// "puttygen", "ssh-keygen", "chromium") is found on PATH or in /usr/sbin. When NBTUNNEL_E2E=1 it fails the test
// with t.Fatalf instead of skipping.
func Require(t testing.TB, extra ...string) {
	t.Helper()
	if missing := Missing(extra...); missing != "" {
		if os.Getenv(E2EEnv) == "1" {
			t.Fatalf("end-to-end test bed unavailable (%s=1): %s", E2EEnv, missing)
		}
		t.Skipf("end-to-end test bed unavailable: %s (set %s=1 to fail instead)", missing, E2EEnv)
	}
}

// Missing reports why the bed cannot run here ("" when it can): not root, or which binaries are missing.
func Missing(extra ...string) string {
	var msg string
	if os.Geteuid() != 0 {
		msg = "not root"
	}
	var missing []string
	for _, name := range append(append([]string(nil), baseBinaries...), extra...) {
		if _, err := lookPath(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if msg != "" {
			msg += "; "
		}
		msg += "missing binaries:"
		for _, m := range missing {
			msg += " " + m
		}
	}
	return msg
}

// lookPath finds name on PATH, then in the sbin directories a non-login root PATH may lack.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"} {
		cand := dir + "/" + name
		if st, serr := os.Stat(cand); serr == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return cand, nil
		}
	}
	return "", err
}
