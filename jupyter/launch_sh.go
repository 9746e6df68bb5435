package jupyter

// scriptPrelude is shared by the phase-2 scripts: it sets a sane shell
// state and defines the record printers.
//
//	V <key> <len>\n<value>\n   a value
//	T <line>                   one line of a log tail
//	C <line>                   one line of a runtime file
const scriptPrelude = `
unset CDPATH
IFS=' 	
'
PATH=${PATH:-/usr/bin:/bin}:/usr/bin:/bin:/usr/sbin:/sbin
nbt_v() { printf 'V %s %s\n%s\n' "$1" "$(printf %s "$2" | wc -c | tr -d ' ')" "$2"; }
nbt_begin() { printf '\nNBTUNNEL-BEGIN %s 1\n' "$nbt_nonce"; }
nbt_end() { printf 'NBTUNNEL-END %s\n' "$nbt_nonce"; }
nbt_tail() { [ -f "$1" ] && tail -n 40 "$1" 2>/dev/null | awk '{ print "T " $0 }'; }
nbt_nap() { sleep 0.2 2>/dev/null || sleep 1; }
`

// launchBody starts Jupyter detached. Inputs (set before it, all through
// ShellQuote): nbt_nonce, nbt_venv, nbt_create, nbt_frontend, nbt_dir,
// nbt_token, nbt_state, nbt_wait. Progress (venv creation, pip) goes to
// stderr; the framed result goes to stdout. The token reaches Jupyter only
// through JUPYTER_TOKEN in its environment.
const launchBody = `
nbt_fail() {
	nbt_v stage "$1"
	nbt_v error "$2"
	nbt_tail "$3"
	nbt_end
	exit 1
}
nbt_fresh=0
nbt_undo() {
	[ "$nbt_fresh" = 1 ] && [ -n "$nbt_venv" ] && rm -rf "$nbt_venv" 2>/dev/null
	return 0
}
nbt_main() {
umask 077
nbt_begin
case $nbt_venv in ''|/*) ;; *) nbt_venv=$HOME/$nbt_venv ;; esac
case $nbt_state in '') nbt_state=$HOME/.nbtunnel ;; /*) ;; *) nbt_state=$HOME/$nbt_state ;; esac
case $nbt_dir in '') nbt_dir=$HOME ;; /*) ;; *) nbt_dir=$HOME/$nbt_dir ;; esac
mkdir -p "$nbt_state/logs" "$nbt_state/run" 2>/dev/null
chmod 700 "$nbt_state" "$nbt_state/logs" "$nbt_state/run" 2>/dev/null
[ -d "$nbt_state/run" ] && [ -w "$nbt_state/run" ] || nbt_fail state "cannot create $nbt_state/run"
nbt_ts=$(date +%Y%m%d-%H%M%S 2>/dev/null)-$$
nbt_log=$nbt_state/logs/$nbt_ts.log
: >>"$nbt_log" || nbt_fail state "cannot write $nbt_log"
chmod 600 "$nbt_log" 2>/dev/null
nbt_v log "$nbt_log"
nbt_created=0
nbt_installed=0
nbt_py=
if [ -n "$nbt_venv" ]; then
	nbt_py=$nbt_venv/bin/python
	if [ ! -x "$nbt_py" ]; then
		[ "$nbt_create" = 1 ] || nbt_fail venv "no environment at $nbt_venv (no $nbt_py); create it or let nbtunnel create it"
		nbt_py3=$(command -v python3 2>/dev/null)
		[ -n "$nbt_py3" ] || nbt_fail venv "python3 is not on the remote PATH; cannot create $nbt_venv"
		echo "nbtunnel: creating $nbt_venv with $nbt_py3" >&2
		nbt_fresh=0
		[ -e "$nbt_venv" ] || nbt_fresh=1
		if "$nbt_py3" -m venv "$nbt_venv" >>"$nbt_log" 2>&1 && [ -x "$nbt_py" ] && "$nbt_py" -m pip --version >/dev/null 2>&1; then :
		elif nbt_undo && "$nbt_py3" -m virtualenv "$nbt_venv" >>"$nbt_log" 2>&1 && [ -x "$nbt_py" ]; then :
		elif nbt_undo && command -v virtualenv >/dev/null 2>&1 && virtualenv -p "$nbt_py3" "$nbt_venv" >>"$nbt_log" 2>&1 && [ -x "$nbt_py" ]; then :
		else nbt_undo; nbt_fail venv "cannot create $nbt_venv: python3 -m venv and virtualenv both failed (on Debian/Ubuntu: apt install python3-venv)" "$nbt_log"
		fi
		nbt_created=1
	fi
else
	nbt_j=$(command -v jupyter 2>/dev/null)
	if [ -z "$nbt_j" ]; then
		nbt_lp=
		case ${SHELL##*/} in
		bash|zsh|ksh|mksh|sh|dash|ash|fish)
			nbt_lp=$("$SHELL" -l -c 'printf "\nNBTPATH=%s" "$PATH"' </dev/null 2>/dev/null) ;;
		csh|tcsh)
			# tcsh takes -l only alone; -c still reads ~/.tcshrc or ~/.cshrc.
			nbt_lp=$("$SHELL" -c 'printf "\nNBTPATH=%s" "$PATH"' </dev/null 2>/dev/null) ;;
		esac
		case $nbt_lp in *NBTPATH=*)
			nbt_lp=${nbt_lp##*NBTPATH=}
			nbt_j=$(PATH=$nbt_lp command -v jupyter 2>/dev/null) ;;
		esac
	fi
	if [ -n "$nbt_j" ] && [ -f "$nbt_j" ]; then
		IFS= read -r nbt_l <"$nbt_j" || :
		case $nbt_l in
		'#!'*)
			nbt_l=${nbt_l#??}
			set -f
			set -- $nbt_l
			set +f
			if [ "${1##*/}" = env ]; then
				shift
				while [ $# -gt 0 ]; do case $1 in -*|*=*) shift ;; *) break ;; esac; done
				[ $# -gt 0 ] && nbt_py=$(command -v "$1" 2>/dev/null)
			elif [ $# -gt 0 ]; then
				nbt_py=$1
			fi ;;
		esac
	fi
	if [ -z "$nbt_py" ] || [ ! -x "$nbt_py" ]; then
		nbt_py=$(command -v python3 2>/dev/null)
	fi
	[ -n "$nbt_py" ] || nbt_fail python "neither jupyter nor python3 is on the remote PATH; give a venv to create"
fi
nbt_v python "$nbt_py"
nbt_probe='
import sys, os, re
def ver(name, mod):
    v = ""
    try:
        from importlib.metadata import version
        v = version(name)
    except Exception:
        try:
            v = getattr(__import__(mod), "__version__", "0")
        except Exception:
            return "-"
    v = re.sub(r"[^0-9A-Za-z.+-]", "", str(v))
    return v or "0"
def atleast(v, want):
    try:
        got = tuple(int(x) for x in re.match(r"[0-9]+(?:\.[0-9]+)*", v).group(0).split("."))
    except Exception:
        return False
    return got >= want
lab = ver("jupyterlab", "jupyterlab")
nb = ver("notebook", "notebook")
js = ver("jupyter_server", "jupyter_server")
print(lab, nb, js, int(atleast(nb, (6, 4))), int(atleast(nb, (7,))), int(atleast(js, (1, 11))))
try:
    from jupyter_core.paths import jupyter_runtime_dir
    print(jupyter_runtime_dir())
except Exception:
    print("")
'
nbt_info=$("$nbt_py" -c "$nbt_probe" 2>>"$nbt_log") || nbt_fail python "$nbt_py cannot run" "$nbt_log"
{ read -r nbt_lab nbt_nb nbt_js nbt_nbsock nbt_nb7 nbt_jssock; IFS= read -r nbt_rd; } <<NBT_EOF
$nbt_info
NBT_EOF
nbt_want=$nbt_frontend
case $nbt_want in
lab) nbt_has=$nbt_lab; nbt_pkg=jupyterlab ;;
notebook) nbt_has=$nbt_nb; nbt_pkg=notebook ;;
server) nbt_has=$nbt_js; nbt_pkg=jupyter_server ;;
'') nbt_has=-; nbt_pkg=jupyterlab
	[ "$nbt_lab$nbt_nb$nbt_js" = --- ] || nbt_has=1 ;;
*) nbt_fail frontend "unknown frontend $nbt_want (want lab, notebook or server)" ;;
esac
if [ "$nbt_has" = - ] && [ "$nbt_create" = 1 ] && [ -n "$nbt_venv" ]; then
	echo "nbtunnel: installing $nbt_pkg into $nbt_venv" >&2
	nbt_rc=$nbt_state/run/pip-$nbt_ts.rc
	{ "$nbt_py" -m pip install --disable-pip-version-check --no-input --retries 1 --timeout 10 "$nbt_pkg" </dev/null 2>&1
		echo $? >"$nbt_rc"; } | tee -a "$nbt_log" >&2
	read -r nbt_prc <"$nbt_rc" 2>/dev/null || nbt_prc=1
	rm -f "$nbt_rc"
	if [ "$nbt_prc" != 0 ]; then
		nbt_msg="pip install $nbt_pkg into $nbt_venv failed (exit $nbt_prc)"
		[ "$nbt_created" = 1 ] && [ "$nbt_fresh" = 1 ] && nbt_undo && nbt_msg="$nbt_msg; removed the new environment $nbt_venv"
		nbt_fail pip "$nbt_msg" "$nbt_log"
	fi
	nbt_installed=1
	nbt_info=$("$nbt_py" -c "$nbt_probe" 2>>"$nbt_log") || nbt_fail python "$nbt_py cannot run" "$nbt_log"
	{ read -r nbt_lab nbt_nb nbt_js nbt_nbsock nbt_nb7 nbt_jssock; IFS= read -r nbt_rd; } <<NBT_EOF
$nbt_info
NBT_EOF
fi
nbt_v created "$nbt_created"
nbt_v installed "$nbt_installed"
if [ -z "$nbt_want" ]; then
	if [ "$nbt_lab" != - ]; then nbt_want=lab
	elif [ "$nbt_nb" != - ]; then nbt_want=notebook
	elif [ "$nbt_js" != - ]; then nbt_want=server
	else nbt_fail python "$nbt_py has none of jupyterlab, notebook, jupyter_server" "$nbt_log"
	fi
fi
case $nbt_want in
lab) nbt_mod=jupyterlab; nbt_kind=jpserver; nbt_sockok=$nbt_jssock; nbt_ver=$nbt_lab ;;
notebook)
	nbt_mod=notebook; nbt_ver=$nbt_nb
	if [ "$nbt_nb7" = 1 ]; then nbt_kind=jpserver; nbt_sockok=$nbt_jssock
	else nbt_kind=nbserver; nbt_sockok=$nbt_nbsock
	fi ;;
server) nbt_mod=jupyter_server; nbt_kind=jpserver; nbt_sockok=$nbt_jssock; nbt_ver=$nbt_js ;;
esac
[ "$nbt_ver" != - ] || nbt_fail python "$nbt_py cannot import $nbt_mod (frontend $nbt_want)" "$nbt_log"
[ -n "$nbt_rd" ] || nbt_fail python "$nbt_py cannot tell its Jupyter runtime directory (jupyter_core missing?)" "$nbt_log"
nbt_v frontend "$nbt_want"
nbt_v version "$nbt_ver"
nbt_v runtime_dir "$nbt_rd"
if [ -n "$nbt_venv" ]; then
	# Kernels should run in the venv too: when the python3 kernel spec the
	# server would use runs another interpreter (e.g. the system's, seen
	# through --system-site-packages), add one to the venv (--sys-prefix
	# writes only inside it).
	nbt_k=$("$nbt_py" -c '
import sys
try:
    from jupyter_client.kernelspec import KernelSpecManager
    a = KernelSpecManager().get_kernel_spec("python3").argv[0]
except Exception:
    a = ""
v = sys.version_info
ok = a in ("", "python", "python%d" % v[0], "python%d.%d" % v[:2], sys.executable)
print("ok" if ok else "other")
' 2>>"$nbt_log")
	if [ "$nbt_k" = other ]; then
		if "$nbt_py" -m ipykernel install --sys-prefix >>"$nbt_log" 2>&1; then
			echo "nbtunnel: added a python3 kernel spec to $nbt_venv so that kernels run there" >&2
			nbt_v kernelspec 1
		fi
	fi
fi
case $(uname -s 2>/dev/null) in Linux|Darwin|*BSD) ;; *) nbt_sockok=0 ;; esac
nbt_sock=$nbt_state/run/jupyter-$nbt_ts.sock
[ ${#nbt_sock} -le 100 ] || nbt_sockok=0
[ "$nbt_fg" = 1 ] && [ -n "$NBT_BIND" ] && nbt_ip=$NBT_BIND
case $nbt_ip in ''|127.0.0.1) nbt_ip=127.0.0.1 ;; *) nbt_sockok=0 ;; esac
cd "$nbt_dir" 2>/dev/null || nbt_fail start "cannot enter directory $nbt_dir"
set -- "$nbt_py" -m "$nbt_mod" --no-browser
if [ "$nbt_sockok" = 1 ]; then
	set -- "$@" "--sock=$nbt_sock"
else
	nbt_port=$("$nbt_py" -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$nbt_ip" 2>/dev/null)
	case $nbt_port in ''|*[!0-9]*) nbt_port=$((20000 + $$ % 30000)) ;; esac
	set -- "$@" "--ip=$nbt_ip" "--port=$nbt_port" --port-retries=50
fi
[ "$(id -u 2>/dev/null)" = 0 ] && set -- "$@" --allow-root
case $nbt_tokfile in ''|/*) ;; *) nbt_tokfile=$HOME/$nbt_tokfile ;; esac
[ -n "$nbt_tokfile" ] && { IFS= read -r nbt_token <"$nbt_tokfile" || nbt_fail start "cannot read the token file $nbt_tokfile"; }
JUPYTER_TOKEN=$nbt_token
export JUPYTER_TOKEN
if [ "$nbt_fg" = 1 ]; then
	"$@" </dev/null >>"$nbt_log" 2>&1 &
elif command -v setsid >/dev/null 2>&1; then
	setsid nohup "$@" </dev/null >>"$nbt_log" 2>&1 &
else
	nohup "$@" </dev/null >>"$nbt_log" 2>&1 &
fi
nbt_pid=$!
unset JUPYTER_TOKEN
nbt_v pid "$nbt_pid"
nbt_v kind "$nbt_kind"
nbt_f=$nbt_rd/$nbt_kind-$nbt_pid.json
if [ "$nbt_fg" != 1 ]; then
	mkdir -p "$nbt_state/servers" 2>/dev/null
	printf '%s\n%s\n' "$nbt_f" "$nbt_log" >"$nbt_state/servers/$nbt_pid" 2>/dev/null
fi
nbt_n=0
nbt_max=$nbt_wait
sleep 0.01 2>/dev/null && nbt_max=$((nbt_wait * 5))
while :; do
	if [ -f "$nbt_f" ] && grep -q '^}' "$nbt_f" 2>/dev/null; then
		nbt_v file "$nbt_f"
		awk '{ print "C " $0 }' "$nbt_f"
		nbt_end
		[ "$nbt_fg" = 1 ] || exit 0
		wait "$nbt_pid"
		exit $?
	fi
	kill -0 "$nbt_pid" 2>/dev/null || nbt_fail start "jupyter exited during start-up (log $nbt_log)" "$nbt_log"
	nbt_n=$((nbt_n + 1))
	[ $nbt_n -le $nbt_max ] || nbt_fail wait "no runtime file $nbt_f after $nbt_wait s; jupyter (pid $nbt_pid) is left running (log $nbt_log)" "$nbt_log"
	nbt_nap
done
}
nbt_main </dev/null
exit 1
`
