package jupyter

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxDiscoveryOutput is a sensible cap for the caller to apply when reading
// the discovery script's stdout (16 MiB); ParseDiscovery accepts any size.
const MaxDiscoveryOutput = 16 << 20

// DiscoveryCommand is the remote command line for discovery. sshd hands it to
// the user's login shell (bash, zsh, tcsh, fish, sh...), so it contains
// nothing any of them would interpret: the script itself goes on stdin.
func DiscoveryCommand() string { return "sh -s" }

// DiscoveryScript returns the POSIX sh text to write on the discovery
// session's stdin (then close stdin). nonce must be fresh (NewNonce) and is
// passed again to ParseDiscovery. The script only reads: it never deletes or
// writes files, never runs python or jupyter, and does a constant number of
// forks per runtime directory however many runtime files it finds.
func DiscoveryScript(nonce string) []byte {
	return []byte("nbt_nonce=" + ShellQuote(nonce) + "\n" + discoveryBody)
}

// Remote is what the discovery script reports about the remote account.
type Remote struct {
	UID      int    // -1 when unknown
	User     string // $USER or $LOGNAME
	Home     string // $HOME
	OS       string // uname -s, e.g. "Linux", "Darwin"
	Hostname string // uname -n
	Shell    string // $SHELL
	Python3  string // path of python3 on the session's PATH, "" when absent
	Jupyter  string // path of jupyter on the session's PATH, "" when absent
	// Listen holds what listens on the remote host, from /proc/net (Linux);
	// nil where the script could not tell.
	Listen *Listening
}

// Listening is the set of TCP ports in LISTEN state and listening unix
// socket paths on the remote host.
type Listening struct {
	TCP  map[int]bool
	Unix map[string]bool
}

// Listens reports whether s's port or socket is being listened on. known is
// false when the remote did not say (no /proc/net), and then the caller has
// to find out by connecting.
func (r Remote) Listens(s Server) (listens, known bool) {
	if r.Listen == nil {
		return false, false
	}
	if s.Sock != "" {
		return r.Listen.Unix[s.Sock], true
	}
	return r.Listen.TCP[s.Port], true
}

// parseListening reads the "listen" record: "T HEXADDR:HEXPORT" lines from
// /proc/net/tcp{,6} and "U PATH" lines from /proc/net/unix.
func parseListening(val string) *Listening {
	l := &Listening{TCP: map[int]bool{}, Unix: map[string]bool{}}
	for _, line := range strings.Split(val, "\n") {
		switch {
		case strings.HasPrefix(line, "T "):
			_, hexPort, ok := strings.Cut(line[2:], ":")
			if !ok {
				continue
			}
			if port, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
				l.TCP[int(port)] = true
			}
		case strings.HasPrefix(line, "U "):
			l.Unix[line[2:]] = true
		}
	}
	return l
}

// Discovery is the parsed result of one discovery run.
type Discovery struct {
	Remote Remote
	// Dirs are the runtime directories that exist, as physical paths, in the
	// order scanned.
	Dirs []string
	// Servers holds one entry per pid, alive and dead alike, newest first
	// (by Started, then live before dead, then pid). When several files
	// name the same pid, the newest file wins.
	Servers []Server
	// Problems are per-file or per-directory issues, each naming the remote
	// path; most are *FileError. They do not stop the other files.
	Problems []error
}

// Alive returns the servers whose process the script saw alive, newest first.
func (d *Discovery) Alive() []Server {
	var out []Server
	for _, s := range d.Servers {
		if s.Alive {
			out = append(out, s)
		}
	}
	return out
}

// ErrNoDiscoveryOutput is wrapped by the error of ParseDiscovery (and of
// ParseLaunch, ParseStop, ParsePip) when the output has no begin marker for
// the nonce: the script did not run.
var ErrNoDiscoveryOutput = errors.New("no discovery output")

// ErrTruncatedOutput is wrapped by the Parse functions' errors when the
// output has the begin marker but no end marker.
var ErrTruncatedOutput = errors.New("discovery output is truncated")

type fileRec struct {
	dir, name             string
	size, mtime           int64
	alive                 bool
	owner                 string
	content               bytes.Buffer
	seen, big, unreadable bool
}

// ParseDiscovery parses the discovery script's stdout. Anything before the
// begin marker or after the end marker (login banners, shell start-up
// output) is ignored. It returns an error only when the markers for nonce
// are missing or the framing is broken; problems with single files are in
// Discovery.Problems. It never panics.
func ParseDiscovery(out []byte, nonce string) (*Discovery, error) {
	body, err := discoveryRecords(out, nonce)
	if err != nil {
		return nil, err
	}
	d := &Discovery{Remote: Remote{UID: -1}}
	files, err := d.readRecords(body)
	if err != nil {
		return nil, err
	}
	d.addServers(files)
	sortServers(d.Servers)
	return d, nil
}

// discoveryRecords checks the begin marker for nonce and the protocol version,
// and returns the records up to the end marker.
func discoveryRecords(out []byte, nonce string) ([]byte, error) {
	begin := []byte("NBTUNNEL-BEGIN " + nonce + " ")
	i := bytes.Index(out, begin)
	if i < 0 {
		return nil, fmt.Errorf("parsing discovery output: %w: the remote shell did not run the script "+
			"(a POSIX sh must be on the remote PATH; a ForceCommand or a restricted shell also stops it)", ErrNoDiscoveryOutput)
	}
	rest := out[i+len(begin):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, fmt.Errorf("parsing discovery output: %w", ErrTruncatedOutput)
	}
	if v := string(bytes.TrimSpace(rest[:nl])); v != "1" {
		return nil, fmt.Errorf("parsing discovery output: unknown protocol version %q", v)
	}
	rest = rest[nl+1:]
	end := []byte("NBTUNNEL-END " + nonce)
	if bytes.HasPrefix(rest, end) {
		return nil, nil
	}
	if j := bytes.Index(rest, append([]byte("\n"), end...)); j >= 0 {
		return rest[:j+1], nil
	}
	return nil, fmt.Errorf("parsing discovery output: %w (the script was cut off or killed)", ErrTruncatedOutput)
}

// readRecords reads the remote's facts (V), runtime directories (D) and
// their problems (P, X) into d, and returns the runtime files the records
// describe (S, B, C, R), in the order first named. Lines that are not
// records are skipped.
func (d *Discovery) readRecords(body []byte) ([]*fileRec, error) {
	p := &lineReader{b: body}
	files := map[string]*fileRec{}
	var order []*fileRec
	dir := ""
	get := func(name string) *fileRec {
		k := dir + "\x00" + name
		r := files[k]
		if r == nil {
			r = &fileRec{dir: dir, name: name}
			files[k] = r
			order = append(order, r)
		}
		return r
	}
	for !p.done() {
		line := p.line()
		if len(line) < 2 || line[1] != ' ' {
			continue // not ours; tolerate
		}
		tag, arg := line[0], string(line[2:])
		switch tag {
		case 'V':
			key, n, ok := strings.Cut(arg, " ")
			if !ok {
				return nil, errFraming(line)
			}
			val, err := p.counted(n)
			if err != nil {
				return nil, err
			}
			d.Remote.set(key, val)
		case 'D', 'P', 'X':
			val, err := p.counted(arg)
			if err != nil {
				return nil, err
			}
			dir = d.dirRecord(tag, val, dir)
		case 'S', 'B':
			f := strings.Fields(arg)
			if len(f) < 4 {
				return nil, errFraming(line)
			}
			get(f[0]).setHeader(f, tag == 'B')
		case 'C':
			name, content, ok := strings.Cut(arg, ":")
			if !ok {
				return nil, errFraming(line)
			}
			r := get(name)
			if r.content.Len() <= MaxRuntimeFileSize {
				r.content.WriteString(content)
				r.content.WriteByte('\n')
			}
		case 'R':
			get(arg).unreadable = true
		}
	}
	return order, nil
}

// dirRecord records a D (a runtime directory, which becomes the current
// one), P (a problem with a directory) or X (a file that is not a runtime
// file) record, and returns the current directory.
func (d *Discovery) dirRecord(tag byte, val, dir string) string {
	switch tag {
	case 'D':
		dir = val
		d.Dirs = append(d.Dirs, val)
	case 'P':
		d.Problems = append(d.Problems, fmt.Errorf("runtime directory: %s", val))
	case 'X':
		d.Problems = append(d.Problems, &FileError{File: path.Join(dir, val),
			Err: errors.New("name is not nbserver-PID.json or jpserver-PID.json; skipped")})
	}
	return dir
}

// setHeader records an S or B (too big to send) header: name, size, mtime,
// alive and owner fields.
func (r *fileRec) setHeader(f []string, big bool) {
	r.seen = true
	r.size, _ = strconv.ParseInt(f[1], 10, 64)
	r.mtime, _ = strconv.ParseInt(f[2], 10, 64)
	r.alive = f[3] == "1"
	r.owner = strings.Join(f[4:], " ")
	if big {
		r.big = true
	}
}

// addServers adds the server each file describes to d.Servers, one per pid
// (the newer file wins), or the file's problem to d.Problems.
func (d *Discovery) addServers(files []*fileRec) {
	byPID := map[int]int{} // pid -> index in d.Servers
	for _, r := range files {
		s, err := r.server(d.Remote)
		if err != nil {
			d.Problems = append(d.Problems, err)
			continue
		}
		if k, dup := byPID[s.PID]; dup {
			if newer(s, d.Servers[k]) {
				d.Servers[k] = s
			}
			continue
		}
		byPID[s.PID] = len(d.Servers)
		d.Servers = append(d.Servers, s)
	}
}

// server is the server r describes, or why it describes none (naming the
// file).
func (r *fileRec) server(remote Remote) (Server, error) {
	file := path.Join(r.dir, r.name)
	if r.dir == "" {
		file = r.name
	}
	switch {
	case !r.seen:
		return Server{}, &FileError{File: file, Err: errors.New("contents without a header record")}
	case r.big:
		return Server{}, &FileError{File: file,
			Err: fmt.Errorf("%d bytes: %w (limit %d); skipped", r.size, ErrFileTooLarge, MaxRuntimeFileSize)}
	case r.unreadable:
		return Server{}, &FileError{File: file, Err: errors.New("cannot read it (permission denied?)")}
	}
	s, err := ParseRuntimeFile(file, r.content.Bytes())
	if err != nil {
		return Server{}, err
	}
	s.Alive = r.alive
	if r.mtime > 0 {
		s.Started = time.Unix(r.mtime, 0).UTC()
	}
	s.UID = -1
	if uid, err := strconv.Atoi(r.owner); err == nil && uid >= 0 {
		s.UID = uid
		if uid == remote.UID {
			s.User = remote.User
		}
	}
	return s, nil
}

// newer orders servers newest first: by Started, then live before dead,
// then higher pid, then file name.
func newer(a, b Server) bool {
	if !a.Started.Equal(b.Started) {
		return a.Started.After(b.Started)
	}
	if a.Alive != b.Alive {
		return a.Alive
	}
	if a.PID != b.PID {
		return a.PID > b.PID
	}
	return a.File < b.File
}

func sortServers(ss []Server) {
	sort.SliceStable(ss, func(i, j int) bool { return newer(ss[i], ss[j]) })
}

func (r *Remote) set(key, val string) {
	switch key {
	case "uid":
		if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
			r.UID = n
		}
	case "user":
		r.User = val
	case "home":
		r.Home = val
	case "uname":
		r.OS, r.Hostname, _ = strings.Cut(strings.TrimSpace(val), " ")
	case "shell":
		r.Shell = val
	case "python3":
		r.Python3 = val
	case "jupyter":
		r.Jupyter = val
	case "listen":
		r.Listen = parseListening(val)
	}
}

func errFraming(line []byte) error {
	if len(line) > 80 {
		line = line[:80]
	}
	return fmt.Errorf("parsing discovery output: malformed record %q", line)
}

// lineReader walks the framed body.
type lineReader struct {
	b   []byte
	off int
}

func (p *lineReader) done() bool { return p.off >= len(p.b) }

func (p *lineReader) line() []byte {
	rest := p.b[p.off:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		p.off = len(p.b)
		return rest
	}
	p.off += i + 1
	return rest[:i]
}

// counted reads a value of n bytes followed by a newline.
func (p *lineReader) counted(n string) (string, error) {
	k, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || k < 0 || k > len(p.b)-p.off-1 || p.b[p.off+k] != '\n' {
		return "", fmt.Errorf("parsing discovery output: malformed length-prefixed value at byte %d", p.off)
	}
	v := string(p.b[p.off : p.off+k])
	p.off += k + 1
	return v, nil
}
