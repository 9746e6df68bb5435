package jupyter

// discoveryBody is the static part of the discovery script. It runs under any
// POSIX sh (dash, bash, busybox ash, ksh) and prints, between
// "NBTUNNEL-BEGIN <nonce> 1" and "NBTUNNEL-END <nonce>":
//
//	V <key> <len>\n<value>\n       facts about the remote (uid, home, ...)
//	D <len>\n<dir>\n               a runtime directory (physical path) now scanned
//	P <len>\n<text>\n              a problem with that directory
//	X <len>\n<name>\n              a file in it named like a runtime file, but not nbserver-PID.json/jpserver-PID.json
//	S <name> <size> <mtime> <alive 0|1> <owner uid>   a runtime file, its contents follow
//	C <name>:<line>                one line of its contents
//	B <name> <size> <mtime> <alive> <owner>       a runtime file over the size limit, not read (or cut short)
//	R <name>                       a runtime file that could not be read
//
// Only canonical names (nbserver-<digits>.json, jpserver-<digits>.json) pass
// grep -x to stat and awk, so names on S/C/B/R lines never contain spaces,
// quotes or newlines. The per-file work is done by one stat and one awk per
// directory, and the shell loop appends to a variable only for live pids
// (no fork per file, no quadratic string building) so that thousands of stale files stay cheap.
// The whole script is one function, so a truncated script never runs.
const discoveryBody = `
nbt_main() {
LC_ALL=C; export LC_ALL
unset CDPATH
IFS=' 	
'
PATH=${PATH:-/usr/bin:/bin}:/usr/bin:/bin:/usr/sbin:/sbin
printf '\nNBTUNNEL-BEGIN %s 1\n' "$nbt_nonce"
nbt_v() { printf 'V %s %s\n%s\n' "$1" "${#2}" "$2"; }
nbt_v uid "$(id -u 2>/dev/null)"
nbt_v user "${USER:-$LOGNAME}"
nbt_v home "$HOME"
nbt_v uname "$(uname -sn 2>/dev/null)"
nbt_v shell "$SHELL"
nbt_v python3 "$(command -v python3 2>/dev/null)"
nbt_v jupyter "$(command -v jupyter 2>/dev/null)"
if [ -r /proc/net/tcp ]; then
	nbt_v listen "$(awk 'FILENAME ~ /unix$/ {
	if ($4 == "00010000" && NF >= 8) { p = $0; for (i = 1; i < 8; i++) sub(/^[^ ]+ +/, "", p); print "U " p }
	next
}
FNR > 1 && $4 == "0A" { print "T " $2 }' /proc/net/tcp /proc/net/tcp6 /proc/net/unix 2>/dev/null)"
fi
nbt_here=$(pwd)
nbt_seen='
'
nbt_sf=
nbt_pm=
if [ -d /proc/self ]; then
	nbt_pm=proc
	[ -d /proc/1 ] || nbt_pm=hide
fi
for nbt_d in "${JUPYTER_RUNTIME_DIR:-}" "${JUPYTER_DATA_DIR:+$JUPYTER_DATA_DIR/runtime}" \
	"${XDG_DATA_HOME:-$HOME/.local/share}/jupyter/runtime" "$HOME/Library/Jupyter/runtime"; do
	[ -n "$nbt_d" ] || continue
	case $nbt_d in /*) ;; *) nbt_d=$nbt_here/$nbt_d ;; esac
	[ -d "$nbt_d" ] || continue
	if ! cd -P -- "$nbt_d" 2>/dev/null; then
		nbt_p="cannot enter $nbt_d"
		printf 'P %s\n%s\n' "${#nbt_p}" "$nbt_p"
		continue
	fi
	nbt_d=$PWD
	case $nbt_seen in *"
$nbt_d
"*) continue ;; esac
	nbt_seen="$nbt_seen$nbt_d
"
	printf 'D %s\n%s\n' "${#nbt_d}" "$nbt_d"
	nbt_ok=
	nbt_up=
	for nbt_f in nbserver-*.json jpserver-*.json; do
		case $nbt_f in *'*'*) [ -e "$nbt_f" ] || [ -h "$nbt_f" ] || continue ;; esac
		nbt_q=${nbt_f#??server-}
		nbt_q=${nbt_q%.json}
		case $nbt_q in
		''|0*|*[!0-9]*|???????????*)
			printf 'X %s\n%s\n' "${#nbt_f}" "$nbt_f"
			continue ;;
		esac
		nbt_ok=1
		case $nbt_pm in
		proc)
			[ -d "/proc/$nbt_q" ] && nbt_up="$nbt_up $nbt_q" ;;
		hide)
			if [ -d "/proc/$nbt_q" ] || kill -0 "$nbt_q"; then
				nbt_up="$nbt_up $nbt_q"
			else
				case $(kill -0 "$nbt_q" 2>&1) in *ermi*|*EPERM*) nbt_up="$nbt_up $nbt_q" ;; esac
			fi ;;
		esac
	done 2>/dev/null
	[ -n "$nbt_ok" ] || continue
	if [ -z "$nbt_pm" ]; then
		nbt_pm=ps
		nbt_ps=$(ps -A -o pid= 2>/dev/null)
	fi
	[ "$nbt_pm" = ps ] && nbt_up=$nbt_ps
	if [ -z "$nbt_sf" ]; then
		if stat -c %s / >/dev/null 2>&1; then nbt_sf=gnu
		elif stat -f %z / >/dev/null 2>&1; then nbt_sf=bsd
		else nbt_sf=wc
		fi
	fi
	printf '%s\n' nbserver-*.json jpserver-*.json |
	grep -x '[nj][bp]server-[1-9][0-9]\{0,9\}\.json' |
	case $nbt_sf in
	gnu) xargs stat -c '%n %s %Y %u' -- 2>/dev/null ;;
	bsd) xargs stat -f '%N %z %m %u' -- 2>/dev/null ;;
	*) xargs wc -c -- 2>/dev/null | awk '$2 != "total" { print $2, $1, 0 }' ;;
	esac | awk -v up="$nbt_up" -v cap=262144 '
BEGIN { n = split(up, a, " "); for (i = 1; i <= n; i++) live[a[i]] = 1 }
NF >= 3 && $1 ~ /^[nj][bp]server-[1-9][0-9]*\.json$/ && !seen[$1]++ {
	f = $1; p = f; sub(/^[a-z]+-/, "", p); sub(/\.json$/, "", p)
	st = (p in live) ? 1 : 0
	o = $4; for (i = 5; i <= NF; i++) o = o " " $i
	if ($2 + 0 > cap) { print "B " f " " $2 " " $3 " " st " " o; next }
	print "S " f " " $2 " " $3 " " st " " o
	got = 0; big = 0
	while ((r = (getline line < f)) > 0) {
		got += length(line) + 1
		if (got > cap) { big = 1; break }
		print "C " f ":" line
	}
	close(f)
	if (big) print "B " f " " got " " $3 " " st " " o
	else if (r < 0) print "R " f
}'
done
printf 'NBTUNNEL-END %s\n' "$nbt_nonce"
}
nbt_main </dev/null
exit 0
`
