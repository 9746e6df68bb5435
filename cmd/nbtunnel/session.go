package main

import (
	"path/filepath"
	"strings"
)

// sessionKind is what proxy mode knows about the session it relays, from
// the command line of the client that started it.
type sessionKind int

const (
	// sessionUnknown: not an OpenSSH client we can read (plink, PuTTY, a
	// system without /proc): the link waits until the session has lasted
	// sideDelay.
	sessionUnknown sessionKind = iota
	// sessionInteractive: `ssh HOST`, `ssh -N HOST`, `ssh -t HOST cmd`:
	// someone is there to use the link, shown at once.
	sessionInteractive
	// sessionBatch: `ssh HOST cmd`, scp, sftp, rsync, git, `ssh -W` (a jump
	// through this host): no side connection at all, so one login and no
	// output.
	sessionBatch
)

// OpenSSH 9.x ssh(1) options that take an argument (its getopt string).
const sshArgOpts = "bcDeEFiIJlLmoOpPQRSwWB"

// classifySSH tells what an OpenSSH ssh invoked with argv (argv[0]
// included) will do. Like ssh, it reads options before and after the
// destination; the first argument after the destination's options starts
// the remote command.
func classifySSH(argv []string) sessionKind {
	if len(argv) == 0 || filepath.Base(argv[0]) != "ssh" {
		return sessionUnknown
	}
	var (
		dest            string
		command         bool
		tty, noCmd      bool
		batch           bool
		remoteCmdOption bool
	)
	args := argv[1:]
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			if dest == "" && len(args) > 0 {
				args = args[1:] // the destination
			}
			command = len(args) > 0
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if dest != "" {
				command = true
				break
			}
			dest = a
			continue
		}
		for i := 1; i < len(a); i++ {
			c := a[i]
			if strings.IndexByte(sshArgOpts, c) >= 0 {
				val := a[i+1:]
				if val == "" && len(args) > 0 {
					val, args = args[0], args[1:]
				}
				switch c {
				case 'W', 'O':
					batch = true // stdio forward (a jump), control command
				case 'o':
					k, v, _ := strings.Cut(val, "=")
					if v == "" {
						k, v, _ = strings.Cut(strings.TrimSpace(val), " ")
					}
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "remotecommand":
						remoteCmdOption = !strings.EqualFold(strings.TrimSpace(v), "none") && strings.TrimSpace(v) != ""
					case "sessiontype":
						switch strings.ToLower(strings.TrimSpace(v)) {
						case "none":
							noCmd = true
						case "subsystem":
							batch = true
						}
					case "requesttty":
						switch strings.ToLower(strings.TrimSpace(v)) {
						case "yes", "force":
							tty = true
						}
					}
				}
				break
			}
			switch c {
			case 's', 'G':
				batch = true // subsystem (sftp, scp in sftp mode); print config
			case 'N':
				noCmd = true
			case 't':
				tty = true
			}
		}
	}
	switch {
	case batch:
		return sessionBatch
	case noCmd, tty:
		return sessionInteractive
	case command, remoteCmdOption:
		return sessionBatch
	}
	return sessionInteractive
}
