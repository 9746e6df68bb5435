package jupyter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors ParseStop returns for a stop that did not happen.
var (
	// ErrNotRunning: no process has that pid (already stopped).
	ErrNotRunning = errors.New("no such process")
	// ErrNotOwner: the process belongs to another user.
	ErrNotOwner = errors.New("process belongs to another user")
	// ErrNotJupyterProcess: the process's command line does not look like Jupyter.
	ErrNotJupyterProcess = errors.New("process is not Jupyter")
	// ErrStillRunning: SIGTERM was sent but the process had not exited when the script stopped waiting.
	ErrStillRunning = errors.New("process still running after SIGTERM")
)

// stopBody sends SIGTERM to nbt_pid if it is ours (unless nbt_uidcheck is
// 0) and its command line runs a Jupyter server (python -m notebook,
// jupyter-lab, jupyter server, ...), then waits up to
// about 10 s for it to exit. It reports V result: stopped, gone, notowner,
// notjupyter, running or failed, and V args (the command line it saw).
const stopBody = `
nbt_res() { nbt_v result "$1"; nbt_end; exit 0; }
nbt_main() {
nbt_begin
kill -0 "$nbt_pid" 2>/dev/null || [ -d "/proc/$nbt_pid" ] || nbt_res gone
if [ -r "/proc/$nbt_pid/cmdline" ]; then
	nbt_args=$(tr '\000' ' ' <"/proc/$nbt_pid/cmdline" 2>/dev/null)
	nbt_own=0
	[ -O "/proc/$nbt_pid" ] && nbt_own=1
else
	nbt_args=$(ps -o args= -p "$nbt_pid" 2>/dev/null)
	nbt_own=0
	[ "$(ps -o uid= -p "$nbt_pid" 2>/dev/null | tr -d ' ')" = "$(id -u)" ] && nbt_own=1
fi
nbt_v args "$nbt_args"
[ -n "$nbt_args" ] || nbt_res gone
[ "$nbt_uidcheck" = 0 ] || [ "$nbt_own" = 1 ] || nbt_res notowner
case " $nbt_args " in
*" -m notebook "*|*" -m jupyterlab "*|*" -m jupyter_server "*|*" -m jupyter "*|*jupyter-notebook" "*|\
*jupyter-lab" "*|*jupyter-server" "*|*jupyter" notebook "*|*jupyter" lab "*|*jupyter" server "*|\
*jupyterhub-singleuser" "*|*jupyter-labhub" "*) ;;
*) nbt_res notjupyter ;;
esac
kill -TERM "$nbt_pid" 2>/dev/null || nbt_res failed
nbt_n=0
nbt_max=10
sleep 0.01 2>/dev/null && nbt_max=50
while kill -0 "$nbt_pid" 2>/dev/null; do
	nbt_n=$((nbt_n + 1))
	[ $nbt_n -le $nbt_max ] || nbt_res running
	nbt_nap
done
nbt_res stopped
}
nbt_main </dev/null
exit 1
`

// StopScript returns the POSIX sh text (for LaunchCommand) that stops the
// Jupyter server with pid: SIGTERM, only if the process belongs to the
// remote user (skipped when uidCheck is false) and its command line runs a
// Jupyter server (python -m notebook|jupyterlab|jupyter_server, jupyter-lab,
// jupyter-notebook, jupyter server, ...); then it waits up to about 10 s. Jupyter removes its
// own runtime file on SIGTERM. Parse with ParseStop.
func StopScript(pid int, uidCheck bool, nonce string) []byte {
	check := "1"
	if !uidCheck {
		check = "0"
	}
	return []byte("nbt_nonce=" + ShellQuote(nonce) + "\nnbt_pid=" + ShellQuote(strconv.Itoa(pid)) +
		"\nnbt_uidcheck=" + ShellQuote(check) + "\n" + scriptPrelude + stopBody)
}

// ParseStop parses StopScript's stdout: nil when the process exited;
// otherwise an error wrapping ErrNotRunning, ErrNotOwner,
// ErrNotJupyterProcess or ErrStillRunning (or a framing error).
func ParseStop(out []byte, pid int, nonce string) error {
	f, err := parseFrame(out, nonce, "stop")
	if err != nil {
		return err
	}
	args := strings.TrimSpace(f.vals["args"])
	switch r := f.vals["result"]; r {
	case "stopped":
		return nil
	case "gone":
		return fmt.Errorf("stopping pid %d: %w", pid, ErrNotRunning)
	case "notowner":
		return fmt.Errorf("stopping pid %d (%s): %w", pid, args, ErrNotOwner)
	case "notjupyter":
		return fmt.Errorf("stopping pid %d (%s): %w", pid, args, ErrNotJupyterProcess)
	case "running":
		return fmt.Errorf("stopping pid %d: %w", pid, ErrStillRunning)
	default:
		return fmt.Errorf("stopping pid %d: kill failed (result %q)", pid, r)
	}
}
