package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// parentSession reads the command line of the client that runs us as its
// ProxyCommand from /proc (see clientProcess).
func parentSession() sessionKind {
	if pid, argv := clientProcess(); pid != 0 {
		return classifySSH(argv)
	}
	return sessionUnknown
}

// clientProcess finds the program that runs us as its proxy command: our
// parent, or the first ancestor that is no shell (a ProxyCommand without
// exec, PuTTY's shell for a local proxy command, a wrapper script). It
// returns its pid and argv, or 0 when /proc does not say.
func clientProcess() (int, []string) {
	pid := os.Getppid()
	for range 3 {
		if pid <= 1 {
			return 0, nil
		}
		argv := procArgv(pid)
		if len(argv) == 0 {
			return 0, nil
		}
		switch filepath.Base(argv[0]) {
		case "sh", "bash", "dash", "zsh", "ksh":
			pid = procPPID(pid)
			continue
		}
		return pid, argv
	}
	return 0, nil
}

func procArgv(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(string(bytes.TrimSuffix(data, []byte{0})), "\x00")
}

func procPPID(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
