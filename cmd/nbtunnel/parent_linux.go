package main

import (
	"os"
	"strconv"
	"strings"
)

// parentIsPuTTYWindow reports whether this process was started by PuTTY's
// window (the GUI program putty, directly or through the shell it runs a
// local proxy command with), as opposed to plink or anything else. (plink
// strips control characters from what it writes to a terminal, so the
// line trick of ownLineWriter is for the window only.)
func parentIsPuTTYWindow() bool {
	pid := os.Getppid()
	for i := 0; i < 2 && pid > 1; i++ {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil {
			return false
		}
		switch strings.TrimSpace(string(comm)) {
		case "putty":
			return true
		case "sh", "dash", "bash":
			pid = parentOf(pid)
		default:
			return false
		}
	}
	return false
}

// parentOf returns pid's parent from /proc/PID/stat, or 0.
func parentOf(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
