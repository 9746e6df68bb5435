//go:build linux

package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitLinkAnswers waits until GET link answers 200 (a takeover in progress
// may refuse connections for a moment).
func waitLinkAnswers(t *testing.T, link string, within time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, within, func() bool {
		resp, err := c.Get(link)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// hookProcesses counts the running `nbtunnel proxy` processes (of the
// binary under test) whose arguments name host.
func hookProcesses(host string) int {
	n := 0
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if len(args) < 2 || args[0] != binPath || args[1] != "proxy" {
			continue
		}
		for _, a := range args[2:] {
			if a == host {
				n++
				break
			}
		}
	}
	return n
}
