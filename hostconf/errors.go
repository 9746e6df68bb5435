package hostconf

import "fmt"

// ConfigError reports a problem with a config file Resolve read: a file it
// could not read, or a line it could not take (a bad value, a malformed
// Include or Match). The CLI tells it apart to point the user at the file.
type ConfigError struct {
	File string // the file, as the config or the user named it
	Line int    // 1-based line of the problem; 0 when it is the whole file
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("reading %s line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("reading %s: %v", e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// configErrorf returns a *ConfigError for file and line whose Err is
// fmt.Errorf(format, args...).
func configErrorf(file string, line int, format string, args ...any) error {
	return &ConfigError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}
