package main

import (
	"os"
	"strconv"
	"strings"
)

// puttyParent tells which PuTTY program started this process (directly or
// through the shell it runs a local proxy command with): "putty" (the
// window), "plink-tty" (plink writing to a terminal), or "" (plink writing
// to a file or pipe, or anything else).
func puttyParent() string {
	pid := os.Getppid()
	for i := 0; i < 2 && pid > 1; i++ {
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil {
			return ""
		}
		switch strings.TrimSpace(string(comm)) {
		case "putty":
			return "putty"
		case "plink":
			fi, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/fd/2")
			if err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return "plink-tty"
			}
			return ""
		case "sh", "dash", "bash":
			pid = parentOf(pid)
		default:
			return ""
		}
	}
	return ""
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
