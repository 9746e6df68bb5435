package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is stamped at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/nbtunnel
//
// Left empty, the module's build information says what it can (the module
// version for `go install ...@v1.2.3`, else the VCS revision).
var version string

// versionInfo is what `nbtunnel version --json` prints.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: version, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if v.Version == "" {
			v.Version = "(unknown)"
		}
		return v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	if v.Version == "" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" || v.Version == "(devel)" {
		v.Version = "(devel)"
		if len(v.Commit) >= 12 {
			v.Version = "(devel " + v.Commit[:12] + ")"
		}
	}
	return v
}

func (v versionInfo) String() string {
	s := "nbtunnel " + v.Version
	if v.Commit != "" && len(v.Commit) >= 12 {
		s += " (" + v.Commit[:12]
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", s, v.GoVersion, v.OS, v.Arch)
}

// cmdVersion is `nbtunnel version` (and `nbtunnel --version`).
func cmdVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print a JSON object: version, commit, go, os, arch")
	if err := parseFlags(fs, args); err != nil {
		return e.ui.fail("", "", err)
	}
	if fs.NArg() > 0 {
		return e.ui.fail("", "", usagef("version: no arguments expected (got %q)", fs.Arg(0)))
	}
	v := buildVersion()
	if *asJSON {
		data, _ := json.Marshal(v)
		e.ui.link(string(data))
		return 0
	}
	e.ui.link(v.String())
	return 0
}
