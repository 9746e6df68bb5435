package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/nbtunnel/nbtunnel/jupyter"
	"github.com/nbtunnel/nbtunnel/proxy/tunnel"
)

// listEntry is one server in `list --json`. It never carries the token.
type listEntry struct {
	Kind      string `json:"kind"`
	PID       int    `json:"pid"`
	Port      int    `json:"port,omitempty"`
	Sock      string `json:"sock,omitempty"`
	BaseURL   string `json:"base_url"`
	RootDir   string `json:"root_dir"`
	Version   string `json:"version,omitempty"`
	Token     bool   `json:"token"`
	Password  bool   `json:"password"`
	Secure    bool   `json:"secure"`
	Started   string `json:"started,omitempty"`
	File      string `json:"runtime_file"`
	Protected bool   `json:"protected"`
}

func cmdList(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("list", &hf)
	asJSON := fs.Bool("json", false, "print a JSON array of the servers")
	var sl slurmFlags
	addSlurmFlags(fs, &sl)
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.ui.verbose = hf.verbose
	if sl.on {
		return e.listSlurm(ctx, alias, &hf)
	}
	h, c, code := e.connect(ctx, alias, &hf)
	if c == nil {
		return code
	}
	defer c.Close()
	found, err := tunnel.Discover(ctx, c)
	if err != nil {
		return e.exitCode(alias, h, err)
	}
	for _, p := range found.Problems {
		e.ui.warn("%v", p)
	}
	e.noteJobServers(ctx, c, alias, found)
	entries := make([]listEntry, 0, len(found.Live))
	for _, s := range found.Live {
		entries = append(entries, toEntry(s))
	}
	if *asJSON {
		data, _ := json.MarshalIndent(entries, "", "  ")
		e.ui.link(string(data))
		return 0
	}
	if len(entries) == 0 {
		e.ui.say("no running Jupyter server on %s", alias)
		return 0
	}
	tw := tabwriter.NewWriter(e.ui.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tPID\tADDRESS\tBASE URL\tROOT\tVERSION\tAUTH\tSTARTED")
	for _, s := range found.Live {
		addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
		if s.Sock != "" {
			addr = s.Sock
		}
		started := "-"
		if !s.Started.IsZero() {
			started = s.Started.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.PID, oneLine(addr), oneLine(s.BaseURL), oneLine(orDash(s.RootDir)), oneLine(orDash(s.Version)), authOf(s), started)
	}
	tw.Flush()
	return 0
}

func authOf(s jupyter.Server) string {
	switch {
	case s.Token != "" && s.Password:
		return "token+password"
	case s.Token != "":
		return "token"
	case s.Password:
		return "password"
	default:
		return "none"
	}
}

func toEntry(s jupyter.Server) listEntry {
	e := listEntry{Kind: s.Kind, PID: s.PID, Port: s.Port, Sock: s.Sock, BaseURL: s.BaseURL, RootDir: s.RootDir,
		Version: s.Version, Token: s.Token != "", Password: s.Password, Secure: s.Secure, File: s.File,
		Protected: s.Token != "" || s.Password}
	if !s.Started.IsZero() {
		e.Started = s.Started.UTC().Format(time.RFC3339)
	}
	return e
}

// oneLine shows a remote value on one table line, control characters
// (newlines and tabs included) escaped.
func oneLine(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s {
		return s
	}
	return q
}
