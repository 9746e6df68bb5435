package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Wine is one Wine prefix (a Windows installation) shared by the tests of one test binary run: nbtunnel.exe
// and the suite's own Windows programs run in it against the bed's real hosts (Wine uses the host's network).
//
// The prefix is made once per run (wineboot -i, about ten seconds) under os.TempDir, with WINEDEBUG=-all, the
// null graphics driver (so window-based programs such as a test Pageant work headless) and a stand-in
// bcryptprimitives.dll built from testdata/bcryptprimitives.c with x86_64-w64-mingw32-gcc: Wine 8.0 lacks
// ProcessPrng, which Go ≥ 1.24 Windows binaries need to start.
//
// The prefix has one Windows user, whose profile (%USERPROFILE%, %APPDATA%) and HKEY_CURRENT_USER every test
// shares: Wine sets USERPROFILE and APPDATA from the prefix and ignores those of the caller's environment.
// Tests that touch them take the prefix with Lock, which also empties the profile's .ssh and nbtunnel state
// and PuTTY's registry keys. CloseWine ends every Windows process and removes the prefix.
type Wine struct {
	// Prefix is the WINEPREFIX directory.
	Prefix string
	// Profile is the Linux path of the Windows user's profile directory (%USERPROFILE%).
	Profile string
	// Dir is a scratch directory for the run's Windows programs, removed by CloseWine.
	Dir string

	mu sync.Mutex
}

var (
	wineOnce sync.Once
	wineBed  *Wine
	wineErr  error
)

// wineBinaries are the programs a Wine prefix needs.
var wineBinaries = []string{"wine", "wineboot", "wineserver", "x86_64-w64-mingw32-gcc", "go"}

// RequireWine is Require plus wine, wineboot, wineserver, the MinGW-w64 C compiler and the go command.
func RequireWine(t testing.TB) {
	t.Helper()
	Require(t, wineBinaries...)
}

// SharedWine returns the run's Wine prefix, made on first use; it fails t when that fails. It calls
// RequireWine first (so under NBTUNNEL_E2E=1 a missing wine fails the test).
func SharedWine(t testing.TB) *Wine {
	t.Helper()
	RequireWine(t)
	wineOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		wineBed, wineErr = newWine(ctx)
	})
	if wineErr != nil {
		t.Fatalf("making a Wine prefix: %v", wineErr)
	}
	return wineBed
}

// CloseWine ends the shared prefix's Windows processes (wineserver -k) and removes it. Call it from TestMain
// after m.Run; it does nothing when no prefix was made.
func CloseWine() error {
	if wineBed == nil {
		return nil
	}
	w := wineBed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.stopAll(ctx)
	return os.RemoveAll(filepath.Dir(w.Prefix))
}

// stopAll ends every Windows program of the prefix and its wineserver, and waits for them.
func (w *Wine) stopAll(ctx context.Context) {
	_, _ = w.run(ctx, nil, "wineserver", "-k") // fails when no server runs
	_, _ = w.run(ctx, nil, "wineserver", "-w")
}

// run runs a Wine tool (wine, wineboot, wineserver) to its end and returns its stdout; an error carries its
// stderr. Output goes through files, not pipes: wineboot leaves a wineserver running that would hold a pipe
// open.
func (w *Wine) run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "nbtunnel-wine-out-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	stdout, err := os.Create(filepath.Join(tmp, "stdout"))
	if err != nil {
		return "", err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(tmp, "stderr"))
	if err != nil {
		return "", err
	}
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env(env)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	out, _ := os.ReadFile(stdout.Name())
	if err != nil {
		msg, _ := os.ReadFile(stderr.Name())
		return string(out), fmt.Errorf("running %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(msg)))
	}
	return string(out), nil
}

func newWine(ctx context.Context) (*Wine, error) {
	dir, err := os.MkdirTemp("", "nbtunnel-wine-")
	if err != nil {
		return nil, err
	}
	w := &Wine{Prefix: filepath.Join(dir, "prefix"), Dir: filepath.Join(dir, "bin")}
	if err := os.Mkdir(w.Dir, 0o700); err != nil {
		return nil, err
	}
	fail := func(err error) (*Wine, error) {
		w.stopAll(context.Background())
		os.RemoveAll(dir)
		return nil, err
	}
	if _, err := w.run(ctx, nil, "wineboot", "-i"); err != nil {
		return fail(err)
	}
	if _, err := w.run(ctx, nil, "wineserver", "-w"); err != nil {
		return fail(err)
	}
	if err := w.RegAdd(ctx, `HKCU\Software\Wine\Drivers`, "Graphics", "REG_SZ", "null"); err != nil {
		return fail(err)
	}
	_, src, _, _ := runtime.Caller(0)
	dll := filepath.Join(w.Prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if _, err := command(ctx, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", dll,
		filepath.Join(filepath.Dir(src), "testdata", "bcryptprimitives.c"), "-lbcrypt"); err != nil {
		return fail(fmt.Errorf("building the bcryptprimitives.dll stand-in: %w", err))
	}
	out, err := w.Output(ctx, nil, "cmd", "/c", "echo %USERPROFILE%")
	if err != nil {
		return fail(fmt.Errorf("asking Wine for %%USERPROFILE%%: %w", err))
	}
	w.Profile = w.LinuxPath(strings.TrimSpace(out))
	if _, err := os.Stat(w.Profile); err != nil {
		return fail(fmt.Errorf("the Windows profile %s: %w", strings.TrimSpace(out), err))
	}
	return w, nil
}

func (w *Wine) env(extra []string) []string { return w.Env(extra) }

// Env is the environment Windows programs run with: the caller's, WINEPREFIX, WINEDEBUG=-all, then extra.
// DISPLAY is dropped so no window can reach a real display. A Linux program that starts Windows programs
// (ssh with a ProxyCommand of wine ...) needs it.
func (w *Wine) Env(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WINEPREFIX=") && !strings.HasPrefix(kv, "WINEDEBUG=") &&
			!strings.HasPrefix(kv, "WINEDLLOVERRIDES=") {
			env = append(env, kv)
		}
	}
	// No Mono or Gecko: wineboot would otherwise offer to download them.
	return append(append(env, "WINEPREFIX="+w.Prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml="), extra...)
}

// Command returns a command running the Windows program exe (a Linux path or a Windows one) with args under
// Wine. env adds variables (Wine passes them through, except the profile's own: USERPROFILE, APPDATA, ...).
func (w *Wine) Command(ctx context.Context, env []string, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "wine", append([]string{exe}, args...)...)
	cmd.Env = w.env(env)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Output runs a Windows program to its end and returns its stdout; an error carries its stderr.
func (w *Wine) Output(ctx context.Context, env []string, exe string, args ...string) (string, error) {
	return w.run(ctx, env, "wine", append([]string{exe}, args...)...)
}

// RegAdd sets one registry value with `wine reg add KEY /v NAME /t TYPE /d DATA /f` (TYPE: REG_SZ, REG_DWORD).
func (w *Wine) RegAdd(ctx context.Context, key, name, typ, data string) error {
	if _, err := w.Output(ctx, nil, "reg", "add", key, "/v", name, "/t", typ, "/d", data, "/f"); err != nil {
		return fmt.Errorf("reg add %s /v %s: %w", key, name, err)
	}
	return nil
}

// RegDelete removes a registry key and everything under it; a missing key is not an error.
func (w *Wine) RegDelete(ctx context.Context, key string) {
	_, _ = w.Output(ctx, nil, "reg", "delete", key, "/f")
}

// RegQuery returns `reg query KEY` output (every value of KEY), for tests to read what a program wrote.
func (w *Wine) RegQuery(ctx context.Context, key string) (string, error) {
	return w.Output(ctx, nil, "reg", "query", key)
}

// WindowsPath is p (an absolute Linux path) as Windows programs in the prefix see it: Z:\ maps to /.
func WindowsPath(p string) string {
	return `Z:` + strings.ReplaceAll(p, "/", `\`)
}

// LinuxPath is the Linux path of a Windows path in the prefix (C:\... or Z:\...).
func (w *Wine) LinuxPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(p) >= 2 && p[1] == ':' {
		switch strings.ToUpper(p[:1]) {
		case "Z":
			return filepath.Clean("/" + p[2:])
		case "C":
			return filepath.Join(w.Prefix, "drive_c", p[2:])
		}
	}
	return p
}

// ProfilePath is the Windows path of a file under the profile (parts joined with \).
func (w *Wine) ProfilePath(parts ...string) string {
	return strings.Join(append([]string{`C:\users\` + filepath.Base(w.Profile)}, parts...), `\`)
}

// Lock gives t the prefix's profile and registry until t ends. It empties what tests write there first:
// %USERPROFILE%\.ssh, %APPDATA%\nbtunnel, %ProgramData%\ssh and HKCU\Software\SimonTatham, and ends any
// Windows program a previous test left running.
func (w *Wine) Lock(t testing.TB) {
	t.Helper()
	w.mu.Lock()
	t.Cleanup(w.mu.Unlock)
	t.Cleanup(func() { w.reset() })
	w.reset()
}

func (w *Wine) reset() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.stopAll(ctx)
	os.RemoveAll(filepath.Join(w.Profile, ".ssh"))
	os.RemoveAll(filepath.Join(w.Profile, "AppData", "Roaming", "nbtunnel"))
	os.RemoveAll(filepath.Join(w.Profile, ".config"))
	os.RemoveAll(filepath.Join(w.Prefix, "drive_c", "ProgramData", "ssh"))
	w.RegDelete(ctx, `HKCU\Software\SimonTatham`)
}

// BuildWindows cross-builds the Go package pkg (a directory, or an import path of this module) into the
// Windows executable out (GOOS=windows GOARCH=amd64 CGO_ENABLED=0), from the module root.
func BuildWindows(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	_, src, _, _ := runtime.Caller(0)
	cmd.Dir = filepath.Join(filepath.Dir(src), "..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOOS=windows go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
