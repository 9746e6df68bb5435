package jupyter

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// pipBody finds the interpreter of the server's default kernel and runs
// pip install with the given arguments (NBT_PIP_ARGS is replaced by the
// arguments, each through ShellQuote),
// exec'ing pip after the frame so that the session's exit status is pip's.
// The server's own interpreter is argv[0] of its command line (a venv's
// bin/python keeps the venv, where /proc/PID/exe would resolve the symlink
// to the base interpreter), else /proc/PID/exe, else ps; the kernel's
// from jupyter_client's python3 kernelspec under that interpreter, where a
// bare "python"/"python3" means the server's interpreter itself, as Jupyter
// launches it.
const pipBody = `
nbt_main() {
nbt_begin
nbt_spy=
if [ -r "/proc/$nbt_pid/cmdline" ]; then
	nbt_spy=$(tr '\000' '\n' <"/proc/$nbt_pid/cmdline" 2>/dev/null | head -n 1)
	case $nbt_spy in
	/*) ;;
	*/*|'') nbt_spy= ;;
	*)
		nbt_epath=$(tr '\000' '\n' <"/proc/$nbt_pid/environ" 2>/dev/null | sed -n 's/^PATH=//p' | head -n 1)
		nbt_spy=$(PATH=${nbt_epath:-$PATH} command -v "$nbt_spy" 2>/dev/null) ;;
	esac
	[ -n "$nbt_spy" ] && [ -x "$nbt_spy" ] || nbt_spy=
fi
if [ -z "$nbt_spy" ] && [ -e "/proc/$nbt_pid/exe" ]; then
	nbt_spy=$(readlink "/proc/$nbt_pid/exe" 2>/dev/null)
fi
if [ -z "$nbt_spy" ]; then
	nbt_spy=$(ps -o comm= -p "$nbt_pid" 2>/dev/null)
	case $nbt_spy in /*) ;; *) nbt_spy= ;; esac
fi
case $nbt_spy in *' (deleted)') nbt_spy=${nbt_spy% (deleted)} ;; esac
if [ -z "$nbt_spy" ] || [ ! -x "$nbt_spy" ]; then
	nbt_v error "cannot find the interpreter of pid $nbt_pid (not running, or not readable)"
	nbt_end
	exit 127
fi
nbt_v server_python "$nbt_spy"
nbt_kpy=$("$nbt_spy" -c '
import os, shutil, sys
a = ""
try:
    from jupyter_client.kernelspec import KernelSpecManager
    a = KernelSpecManager().get_kernel_spec("python3").argv[0]
except Exception:
    a = ""
v = sys.version_info
if a in ("", "python", "python%d" % v[0], "python%d.%d" % v[:2]):
    a = sys.executable
elif not os.path.isabs(a):
    a = shutil.which(a) or sys.executable
print(a)
' 2>/dev/null)
[ -n "$nbt_kpy" ] || nbt_kpy=$nbt_spy
nbt_v python "$nbt_kpy"
nbt_end
exec "$nbt_kpy" -m pip install NBT_PIP_ARGS </dev/null 2>&1
}
nbt_main
exit 127
`

// PipScript returns the POSIX sh text (for LaunchCommand) that runs
// `<kernel python> -m pip install ARGS...` for server s: the interpreter of
// its default python3 kernelspec, else the server's own interpreter (argv[0]
// of the server's command line, else /proc/PID/exe). Each arg is quoted with ShellQuote. The output is a
// framed header (parse it with ParsePip) followed by pip's own stdout and
// stderr; the session's exit status is pip's (127 when no interpreter was
// found).
func PipScript(s Server, args []string, nonce string) []byte {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = ShellQuote(a)
	}
	body := strings.Replace(pipBody, "NBT_PIP_ARGS", strings.Join(q, " "), 1)
	return []byte("nbt_nonce=" + ShellQuote(nonce) + "\nnbt_pid=" + ShellQuote(strconv.Itoa(s.PID)) +
		"\n" + scriptPrelude + body)
}

// PipResult is PipScript's header and pip's output.
type PipResult struct {
	ServerPython string // interpreter of the server process
	Python       string // interpreter pip runs under (the kernel's)
	Output       []byte // pip's output, after the header
}

// FrameEnd returns the offset just past the end-marker line for nonce in
// out, or -1 if it has not arrived yet. A caller streaming PipScript's
// output shows the bytes after it as they come.
func FrameEnd(out []byte, nonce string) int {
	end := []byte("\nNBTUNNEL-END " + nonce + "\n")
	i := bytes.Index(out, end)
	if i < 0 {
		return -1
	}
	return i + len(end)
}

// ParsePip parses PipScript's stdout.
func ParsePip(out []byte, nonce string) (PipResult, error) {
	f, err := parseFrame(out, nonce, "pip")
	if err != nil {
		return PipResult{}, err
	}
	if msg, failed := f.vals["error"]; failed {
		return PipResult{}, fmt.Errorf("running pip: %s", msg)
	}
	r := PipResult{ServerPython: f.vals["server_python"], Python: f.vals["python"]}
	if n := FrameEnd(out, nonce); n >= 0 {
		r.Output = out[n:]
	}
	return r, nil
}
