package sshconfig

import (
	"errors"
	"fmt"
)

// Error is a problem with a config file: the file and line it is on
// (Line 0: the file as a whole) and what is wrong. Evaluate returns it for
// everything OpenSSH's ssh would refuse.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("reading %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("reading %s line %d: %v", e.File, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported marks a config this package cannot evaluate without
// OpenSSH itself (see the package documentation); errors.Is finds it in
// an *UnsupportedError.
var ErrUnsupported = errors.New("needs OpenSSH's own evaluation")

// UnsupportedError says which line needs OpenSSH itself and why. A caller
// may then ask `ssh -G`.
type UnsupportedError struct {
	File string
	Line int
	What string
}

func (e *UnsupportedError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("reading %s: %s is not supported", e.File, e.What)
	}
	return fmt.Sprintf("reading %s line %d: %s is not supported", e.File, e.Line, e.What)
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func lineErr(file string, line int, format string, args ...any) error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}
