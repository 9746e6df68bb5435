package sshclient

import "strings"

// programOf is the first word of a Windows command line, as CreateProcess
// reads it when given no application name: up to the closing quote when it
// starts with '"', else up to the first space or tab.
func programOf(cmdline string) string {
	if rest, ok := strings.CutPrefix(cmdline, `"`); ok {
		prog, _, _ := strings.Cut(rest, `"`)
		return prog
	}
	if i := strings.IndexAny(cmdline, " \t"); i >= 0 {
		return cmdline[:i]
	}
	return cmdline
}
