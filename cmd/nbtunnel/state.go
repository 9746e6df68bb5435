package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// portState remembers which local port each host and server got last time,
// so a link stays the same across runs. It holds no tokens.
type portState struct {
	path  string
	Ports map[string]int `json:"ports"`
}

// stateDir is where nbtunnel keeps its state: %APPDATA%\nbtunnel on
// Windows, $XDG_CONFIG_HOME/nbtunnel or ~/.config/nbtunnel elsewhere.
func stateDir(getenv func(string) string) string {
	if runtime.GOOS == "windows" {
		if d := getenv("APPDATA"); d != "" {
			return filepath.Join(d, "nbtunnel")
		}
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "nbtunnel")
	}
	return filepath.Join(homeDir(getenv), ".config", "nbtunnel")
}

func loadPortState(getenv func(string) string) *portState {
	s := &portState{path: filepath.Join(stateDir(getenv), "ports.json"), Ports: map[string]int{}}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return s
	}
	// A damaged state file only costs the remembered ports.
	if json.Unmarshal(data, s) != nil || s.Ports == nil {
		s.Ports = map[string]int{}
	}
	return s
}

func portKey(host, serverID string) string { return host + "\x00" + serverID }

func (s *portState) get(host, serverID string) int { return s.Ports[portKey(host, serverID)] }

// set records port and saves the file; failures are returned for a warning.
func (s *portState) set(host, serverID string, port int) error {
	if s.Ports[portKey(host, serverID)] == port {
		return nil
	}
	s.Ports[portKey(host, serverID)] = port
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("saving the port memory %s: %w", s.path, err)
	}
	if err := fileedit.WriteFileAtomic(s.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the port memory %s: %w", s.path, err)
	}
	return nil
}

// homeDir is the user's home: on Windows %USERPROFILE% (where
// Win32-OpenSSH and PuTTY look, whatever HOME says), elsewhere $HOME.
func homeDir(getenv func(string) string) string {
	if runtime.GOOS == "windows" {
		if h := getenv("USERPROFILE"); h != "" {
			return h
		}
	}
	if h := getenv("HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}
