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
// about 15 s for it to exit, repeating SIGTERM every 2 s. It reports V result: stopped, gone, notowner,
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
# Jupyter can lose a SIGTERM that lands while it writes a log line
# ("reentrant call inside BufferedWriter"): send it again every 2 s.
nbt_n=0
nbt_max=15
nbt_every=2
sleep 0.01 2>/dev/null && nbt_max=75 && nbt_every=10
while kill -0 "$nbt_pid" 2>/dev/null; do
	nbt_n=$((nbt_n + 1))
	[ $nbt_n -le $nbt_max ] || nbt_res running
	[ $((nbt_n % nbt_every)) = 0 ] && kill -TERM "$nbt_pid" 2>/dev/null
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
// jupyter-notebook, jupyter server, ...); then it waits up to about 15 s,
// repeating SIGTERM every 2 s (Jupyter can lose one that arrives while it
// logs). Jupyter removes its
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

// Started is one server LaunchScript started, as recorded in the remote
// state directory (STATE/servers/PID).
type Started struct {
	PID  int
	File string // the runtime file the server was to write
	Log  string // the launch log
	Seq  int    // order of start: higher is more recent
}

// startedBody lists the records in STATE/servers whose process is alive,
// oldest first, and removes the records of dead processes.
const startedBody = `
nbt_main() {
nbt_begin
case $nbt_state in '') nbt_state=$HOME/.nbtunnel ;; /*) ;; *) nbt_state=$HOME/$nbt_state ;; esac
nbt_i=0
if [ -d "$nbt_state/servers" ]; then
	for nbt_r in $(ls -tr "$nbt_state/servers" 2>/dev/null); do
		case $nbt_r in ''|*[!0-9]*) continue ;; esac
		if kill -0 "$nbt_r" 2>/dev/null; then
			nbt_i=$((nbt_i + 1))
			nbt_v "pid.$nbt_i" "$nbt_r"
			{ IFS= read -r nbt_rf; IFS= read -r nbt_rl; } <"$nbt_state/servers/$nbt_r" 2>/dev/null
			nbt_v "file.$nbt_i" "$nbt_rf"
			nbt_v "log.$nbt_i" "$nbt_rl"
		else
			rm -f "$nbt_state/servers/$nbt_r"
		fi
	done
fi
nbt_v count "$nbt_i"
nbt_end
exit 0
}
nbt_main </dev/null
exit 1
`

// StartedScript returns the POSIX sh text (for LaunchCommand) that lists
// the servers LaunchScript started under stateDir ("" is $HOME/.nbtunnel,
// relative is under $HOME) whose process is still alive, and forgets the
// others. Parse with ParseStarted.
func StartedScript(stateDir, nonce string) []byte {
	return []byte("nbt_nonce=" + ShellQuote(nonce) + "\nnbt_state=" + ShellQuote(stateDir) + "\n" +
		scriptPrelude + startedBody)
}

// ParseStarted parses StartedScript's stdout, oldest first.
func ParseStarted(out []byte, nonce string) ([]Started, error) {
	f, err := parseFrame(out, nonce, "started")
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(f.vals["count"])
	if err != nil || n < 0 {
		return nil, fmt.Errorf("parsing started output: bad count %q", f.vals["count"])
	}
	var list []Started
	for i := 1; i <= n && i <= 10000; i++ {
		k := strconv.Itoa(i)
		pid, err := strconv.Atoi(f.vals["pid."+k])
		if err != nil || pid <= 0 {
			continue
		}
		list = append(list, Started{PID: pid, File: f.vals["file."+k], Log: f.vals["log."+k], Seq: i})
	}
	return list, nil
}
