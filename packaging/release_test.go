//go:build linux

// The release build (make release, scripts/release) as a user meets it: the
// artifacts it promises exist, SHA256SUMS matches them, each binary is
// static and built for its platform, the ones this machine can run print
// the stamped version (linux natively, windows/amd64 under Wine), the .deb
// installs (dpkg -i into a private root) a working binary and completions,
// and a second build gives the same bytes.
package packaging_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
	"github.com/nbtunnel/nbtunnel/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testbed.CloseWine(); err != nil {
		fmt.Fprintf(os.Stderr, "closing the Wine prefix: %v\n", err)
	}
	os.Exit(code)
}

const testVersion = "v9.8.7-rc.1"

func release(t *testing.T) string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.Command("../scripts/release")
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION="+testVersion, "SOURCE_DATE_EPOCH=1700000000")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, out)
	}
	return dist
}

func TestRelease(t *testing.T) {
	for _, p := range []string{"dpkg", "dpkg-deb"} {
		if _, err := exec.LookPath(p); err != nil {
			testenv.Skipf(t, "%s not installed", p)
		}
	}
	dist := release(t)
	targets := []struct{ goos, goarch string }{
		{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}, {"windows", "arm64"},
	}
	want := map[string]bool{"SHA256SUMS": true, "nbtunnel_" + testVersion + "_completions.tar.gz": true,
		"nbtunnel_9.8.7~rc.1-1_amd64.deb": true, "nbtunnel_9.8.7~rc.1-1_arm64.deb": true,
		"nbtunnel-9.8.7~rc.1-1.x86_64.rpm": true, "nbtunnel-9.8.7~rc.1-1.aarch64.rpm": true}
	for _, tg := range targets {
		name := fmt.Sprintf("nbtunnel_%s_%s_%s", testVersion, tg.goos, tg.goarch)
		if tg.goos == "windows" {
			name += ".exe"
		}
		want[name] = true
		t.Run(tg.goos+"_"+tg.goarch, func(t *testing.T) { checkBinary(t, filepath.Join(dist, name), tg.goos, tg.goarch) })
	}
	ents, _ := os.ReadDir(dist)
	got := map[string]bool{}
	for _, e := range ents {
		got[e.Name()] = true
	}
	for n := range want {
		if !got[n] {
			t.Errorf("release has no %s; it has %v", n, names(got))
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("release has an unexpected file %s", n)
		}
	}
	checkSums(t, dist, got)
	checkDeb(t, filepath.Join(dist, "nbtunnel_9.8.7~rc.1-1_"+runtime.GOARCH+".deb"))

	// The same commit and SOURCE_DATE_EPOCH give the same bytes.
	again := release(t)
	a, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	b, _ := os.ReadFile(filepath.Join(again, "SHA256SUMS"))
	if string(a) != string(b) {
		t.Errorf("a second release build differs (not reproducible):\n%s\nvs\n%s", a, b)
	}
}

func names(m map[string]bool) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	return out
}

func checkSums(t *testing.T, dist string, files map[string]bool) {
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Errorf("SHA256SUMS line %q is not in sha256sum's format", sc.Text())
			continue
		}
		listed[name] = true
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Errorf("SHA256SUMS lists %s: %v", name, err)
			continue
		}
		h := sha256.Sum256(data)
		if hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS: %s does not match", name)
		}
	}
	for n := range files {
		if n != "SHA256SUMS" && !listed[n] {
			t.Errorf("SHA256SUMS does not list %s", n)
		}
	}
}

// checkBinary checks the format and architecture of a binary, that it is
// static, and runs it when this machine can.
func checkBinary(t *testing.T, path, goos, goarch string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch goos {
	case "linux":
		e, err := elf.NewFile(f)
		if err != nil {
			t.Fatalf("%s is not ELF: %v", path, err)
		}
		wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if e.Machine != wantMachine {
			t.Errorf("%s: machine %v, want %v", path, e.Machine, wantMachine)
		}
		for _, p := range e.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked (%v): want a static binary", path, p.Type)
			}
		}
	case "darwin":
		m, err := macho.NewFile(f)
		if err != nil {
			t.Fatalf("%s is not Mach-O: %v", path, err)
		}
		wantCPU := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if m.Cpu != wantCPU {
			t.Errorf("%s: cpu %v, want %v", path, m.Cpu, wantCPU)
		}
	case "windows":
		p, err := pe.NewFile(f)
		if err != nil {
			t.Fatalf("%s is not PE: %v", path, err)
		}
		wantMachine := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[goarch]
		if p.Machine != wantMachine {
			t.Errorf("%s: machine %#x, want %#x", path, p.Machine, wantMachine)
		}
	}
	// Nothing of the build machine in the binary (-trimpath).
	data, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
	if wd, _ := os.Getwd(); strings.Contains(string(data), filepath.Dir(wd)) {
		t.Errorf("%s contains the build directory %s: want -trimpath", path, filepath.Dir(wd))
	}
	switch {
	case goos == runtime.GOOS && goarch == runtime.GOARCH:
		checkRuns(t, path, goos, goarch)
	case goos == "windows" && goarch == "amd64" && runtime.GOARCH == "amd64":
		checkRunsUnderWine(t, path)
	}
}

// checkRunsUnderWine runs the Windows binary under Wine (internal/testbed's
// prefix, which lets Go ≥ 1.24 binaries start there).
func checkRunsUnderWine(t *testing.T, path string) {
	w := testbed.SharedWine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := w.Output(ctx, nil, path, "--version")
	if err != nil {
		t.Fatalf("wine %s --version: %v", path, err)
	}
	if got, prefix := strings.TrimSpace(out), "nbtunnel "+testVersion+" go"; !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, " windows/amd64") {
		t.Errorf("wine %s --version = %q, want %q... windows/amd64", path, got, prefix)
	}
	out, err = w.Output(ctx, nil, path, "version", "--json")
	if err != nil {
		t.Fatalf("wine %s version --json: %v", path, err)
	}
	var v struct{ Version, OS, Arch string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &v); err != nil || v.Version != testVersion || v.OS != "windows" || v.Arch != "amd64" {
		t.Errorf("wine %s version --json = %s (%v), want version %s on windows/amd64", path, out, err, testVersion)
	}
}

func checkRuns(t *testing.T, path, goos, goarch string) {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", path, err)
	}
	if got, prefix := string(out), "nbtunnel "+testVersion+" go"; !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, " "+goos+"/"+goarch+"\n") {
		t.Errorf("%s --version = %q, want %q... %s/%s", path, got, prefix, goos, goarch)
	}
	out, err = exec.Command(path, "version", "--json").Output()
	if err != nil {
		t.Fatalf("%s version --json: %v", path, err)
	}
	var v struct{ Version, OS, Arch string }
	if err := json.Unmarshal(out, &v); err != nil || v.Version != testVersion || v.OS != goos || v.Arch != goarch {
		t.Errorf("%s version --json = %s (%v), want version %s on %s/%s", path, out, err, testVersion, goos, goarch)
	}
}

// checkDeb installs the .deb for this machine and runs what it installs.
func checkDeb(t *testing.T, deb string) {
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "-f", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s %s: %v", deb, name, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got, want := field("Package"), "nbtunnel"; got != want {
		t.Errorf(".deb Package = %q, want %q", got, want)
	}
	if got, want := field("Version"), "9.8.7~rc.1-1"; got != want {
		t.Errorf(".deb Version = %q, want %q", got, want)
	}
	if got, want := field("Architecture"), runtime.GOARCH; got != want {
		t.Errorf(".deb Architecture = %q, want %q", got, want)
	}
	// A real dpkg -i, into a root of its own (its own package database),
	// so the machine running the test is left as it was.
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	if out, err := exec.Command("dpkg", "--root="+root, "--log=/dev/null", "--force-script-chrootless", "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	if out, err := exec.Command("dpkg", "--root="+root, "-s", "nbtunnel").Output(); err != nil || !strings.Contains(string(out), "Status: install ok installed") {
		t.Errorf("dpkg -s nbtunnel after dpkg -i: %v\n%s", err, out)
	}
	checkRuns(t, filepath.Join(root, "usr", "bin", "nbtunnel"), runtime.GOOS, runtime.GOARCH)
	for _, f := range []string{"usr/share/bash-completion/completions/nbtunnel", "usr/share/zsh/vendor-completions/_nbtunnel",
		"usr/share/fish/vendor_completions.d/nbtunnel.fish", "usr/share/doc/nbtunnel/README.md"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil || len(data) == 0 {
			t.Errorf(".deb has no %s (%v)", f, err)
		}
	}
	// The packaged bash completion works with the packaged binary.
	bash := fmt.Sprintf(`PATH=%s:$PATH; source %s; COMP_WORDS=(nbtunnel doc); COMP_CWORD=1; _nbtunnel; echo "${COMPREPLY[@]}"`,
		filepath.Join(root, "usr", "bin"), filepath.Join(root, "usr/share/bash-completion/completions/nbtunnel"))
	out, err := exec.Command("bash", "-c", bash).Output()
	if err != nil || strings.TrimSpace(string(out)) != "doctor" {
		t.Errorf("packaged bash completion of 'nbtunnel doc' = %q (%v), want doctor", out, err)
	}
}
