package main

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// openLinkFile opens link in the browser the way Jupyter does, keeping the
// token off every command line: the link goes into a small HTML page that
// redirects to it, in a new private directory (0700, file 0600; on Windows
// under %TEMP%, which only the user can read), and the opener is given the
// page's path. The opener is %BROWSER% / $BROWSER when set (a program,
// given the path as its one argument), else Windows' URL handler. The page
// is removed after a minute.
//
// This is a minimal stand-in until the shared browser opener lands.
func openLinkFile(link string, getenv func(string) string) error {
	dir, err := os.MkdirTemp("", "nbtunnel-open-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return err
	}
	esc := html.EscapeString(link)
	page := `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=` + esc +
		`"><title>Opening Jupyter</title></head><body><a href="` + esc + `">Jupyter</a></body></html>` + "\n"
	path := filepath.Join(dir, "jupyter.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		os.RemoveAll(dir)
		return err
	}
	cmd := exec.Command("rundll32", "url.dll,FileProtocolHandler", path)
	if b := getenv("BROWSER"); b != "" {
		cmd = exec.Command(b, path)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	go func() {
		t := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		t.Stop()
	}()
	time.AfterFunc(time.Minute, func() { os.RemoveAll(dir) })
	return nil
}
