package jupyter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRuntimeFileSize is the largest runtime file the discovery script reads
// and ParseRuntimeFile accepts (256 KiB). Real files are under 1 KiB.
const MaxRuntimeFileSize = 256 << 10

// FileError is a problem with one runtime file on the remote host: it could
// not be read, is too large, is not valid JSON, or has fields of the wrong
// type. The file is skipped; other files are still used.
type FileError struct {
	File string // remote path
	Err  error
}

func (e *FileError) Error() string { return "runtime file " + e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// ErrFileTooLarge is wrapped by FileError when a runtime file is over MaxRuntimeFileSize.
var ErrFileTooLarge = errors.New("file too large")

// kindOf returns the server kind and the pid in a runtime file name
// (nbserver-PID.json or jpserver-PID.json), or ok false for other names.
func kindOf(file string) (kind string, pid int, ok bool) {
	base := path.Base(file)
	var rest string
	switch {
	case strings.HasPrefix(base, "nbserver-"):
		kind, rest = KindNotebook, strings.TrimPrefix(base, "nbserver-")
	case strings.HasPrefix(base, "jpserver-"):
		kind, rest = KindServer, strings.TrimPrefix(base, "jpserver-")
	default:
		return "", 0, false
	}
	digits, found := strings.CutSuffix(rest, ".json")
	if !found || digits == "" || digits[0] == '0' || len(digits) > 10 {
		return "", 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > 1<<31-1 {
		return "", 0, false
	}
	return kind, n, true
}

// ParseRuntimeFile parses the contents of one runtime file. file is its
// remote path; its base name (nbserver-PID.json or jpserver-PID.json) gives
// the kind, and the pid in the name must match the file's "pid". Fields of
// the wrong JSON type, a token with control characters, a base_url that
// could not be part of a link, and a file with neither port nor sock are
// errors (*FileError). Alive, Started and User are left for the caller.
func ParseRuntimeFile(file string, data []byte) (Server, error) {
	s, err := parseRuntime(file, data)
	if err != nil {
		return Server{}, &FileError{File: file, Err: err}
	}
	return s, nil
}

func parseRuntime(file string, data []byte) (Server, error) {
	kind, namePID, ok := kindOf(file)
	if !ok {
		return Server{}, errors.New("name is not nbserver-PID.json or jpserver-PID.json")
	}
	if len(data) > MaxRuntimeFileSize {
		return Server{}, fmt.Errorf("%d bytes: %w (limit %d)", len(data), ErrFileTooLarge, MaxRuntimeFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Server{}, errors.New("file is empty")
	}
	if !utf8.Valid(data) {
		return Server{}, errors.New("file is not valid UTF-8")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return Server{}, fmt.Errorf("parsing JSON: %w", err)
	}
	if m == nil {
		return Server{}, errors.New("parsing JSON: not an object")
	}
	f := fields(m)
	s := Server{Kind: kind, File: file}
	var pid, port int64
	var base, root, nbdir string
	var have bool
	var err error
	if pid, have, err = f.integer("pid"); err != nil {
		return Server{}, err
	} else if !have {
		return Server{}, errors.New(`no "pid"`)
	}
	if pid != int64(namePID) {
		return Server{}, fmt.Errorf(`"pid" %d does not match the file name`, pid)
	}
	s.PID = namePID
	if port, _, err = f.integer("port"); err != nil {
		return Server{}, err
	}
	if port < 0 || port > 65535 {
		return Server{}, fmt.Errorf(`"port" %d is out of range`, port)
	}
	for _, sf := range []struct {
		key string
		dst *string
	}{
		{"sock", &s.Sock}, {"hostname", &s.Hostname}, {"base_url", &base}, {"root_dir", &root},
		{"notebook_dir", &nbdir}, {"version", &s.Version}, {"token", &s.Token},
	} {
		if *sf.dst, _, err = f.str(sf.key); err != nil {
			return Server{}, err
		}
	}
	for _, bf := range []struct {
		key string
		dst *bool
	}{{"password", &s.Password}, {"secure", &s.Secure}} {
		if *bf.dst, _, err = f.boolean(bf.key); err != nil {
			return Server{}, err
		}
	}
	if strings.IndexFunc(s.Token, unicode.IsControl) >= 0 {
		return Server{}, errors.New(`"token" contains control characters`)
	}
	if strings.IndexByte(s.Sock, 0) >= 0 {
		return Server{}, errors.New(`"sock" contains a NUL byte`)
	}
	if strings.ContainsFunc(base, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r) || r == '?' || r == '#' || r == '\\'
	}) {
		return Server{}, fmt.Errorf(`"base_url" %q cannot be part of a link`, base)
	}
	s.BaseURL = normBaseURL(base)
	if s.Sock != "" {
		s.Port = 0
	} else if port == 0 {
		return Server{}, errors.New(`neither "port" nor "sock" is set`)
	} else {
		s.Port = int(port)
	}
	s.RootDir = root
	if root == "" {
		s.RootDir = nbdir
	}
	return s, nil
}

// fields reads typed values from a JSON object; null counts as absent.
type fields map[string]json.RawMessage

func (f fields) raw(key string) (json.RawMessage, bool) {
	r, ok := f[key]
	if !ok || string(bytes.TrimSpace(r)) == "null" {
		return nil, false
	}
	return bytes.TrimSpace(r), true
}

func typeName(r json.RawMessage) string {
	switch r[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func (f fields) integer(key string) (int64, bool, error) {
	r, ok := f.raw(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(string(r), 10, 64)
	if err != nil {
		if r[0] == '-' || (r[0] >= '0' && r[0] <= '9') {
			return 0, true, fmt.Errorf("%q is %s, want an integer", key, string(r))
		}
		return 0, true, fmt.Errorf("%q is %s, want an integer", key, typeName(r))
	}
	return n, true, nil
}

func (f fields) str(key string) (string, bool, error) {
	r, ok := f.raw(key)
	if !ok {
		return "", false, nil
	}
	if r[0] != '"' {
		return "", true, fmt.Errorf("%q is %s, want a string", key, typeName(r))
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", true, fmt.Errorf("%q: %w", key, err)
	}
	return s, true, nil
}

func (f fields) boolean(key string) (bool, bool, error) {
	r, ok := f.raw(key)
	if !ok {
		return false, false, nil
	}
	switch string(r) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, fmt.Errorf("%q is %s, want a boolean", key, typeName(r))
}
