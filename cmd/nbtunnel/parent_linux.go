package main

import (
	"os"
	"path/filepath"
	"strconv"
)

// puttyParent tells which PuTTY program started this process (directly or
// through the shell it runs a local proxy command with): "putty" (the
// window), "plink-tty" (plink writing to a terminal), or "" (plink writing
// to a file or pipe, or anything else).
func puttyParent() string {
	pid, argv := clientProcess()
	if pid == 0 {
		return ""
	}
	switch filepath.Base(argv[0]) {
	case "putty":
		return "putty"
	case "plink":
		fi, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/fd/2")
		if err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return "plink-tty"
		}
	}
	return ""
}
