package main

import (
	"os"
	"strconv"
	"strings"
)

// parentIsPuTTYWindow reports whether this process was started by PuTTY
// drawing a terminal: the GUI program putty, or plink whose stderr is a
// terminal (directly or through the shell they run a local proxy command
// with), as opposed to a plink writing to a file or pipe, or anything
// else.
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
		case "plink":
			fi, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/fd/2")
			return err == nil && fi.Mode()&os.ModeCharDevice != 0
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
