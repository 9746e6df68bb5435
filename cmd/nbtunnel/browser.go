package main

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Opening the link in a browser without the token on any command line, the
// way Jupyter does it: the link goes into a small HTML file that redirects
// to it, readable by the user only (0600, in a 0700 directory of its own),
// and the browser is started with the file's path. The file is removed a
// minute later, or when nbtunnel ends, whichever comes first.

// redirectLifetime is how long the redirect file stays: long enough for a
// browser that has to start first to read it.
const redirectLifetime = time.Minute

// browserCommand returns the command line that opens target (a file path)
// in the user's browser: $BROWSER when set (a list separated by the path
// list separator, the first entry used; "%s" in it is replaced by the
// file's URL, else the URL is added as the last argument), else the
// platform's opener.
func browserCommand(goos, target string, getenv func(string) string) []string {
	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(target)}).String()
	if goos == "windows" && !strings.HasPrefix(fileURL, "file:///") {
		fileURL = "file:///" + strings.TrimPrefix(fileURL, "file://")
	}
	if b := getenv("BROWSER"); b != "" {
		sep := ":"
		if goos == "windows" {
			sep = ";"
		}
		for _, entry := range strings.Split(b, sep) {
			f := strings.Fields(entry)
			if len(f) == 0 {
				continue
			}
			replaced := false
			for i, a := range f {
				if strings.Contains(a, "%s") {
					f[i] = strings.ReplaceAll(a, "%s", fileURL)
					replaced = true
				}
			}
			if !replaced {
				f = append(f, fileURL)
			}
			return f
		}
	}
	switch goos {
	case "windows":
		// url.dll's FileProtocolHandler takes the path as one argument:
		// no shell parses it.
		return []string{"rundll32", "url.dll,FileProtocolHandler", target}
	case "darwin":
		return []string{"open", target}
	default:
		return []string{"xdg-open", target}
	}
}

// redirectPage is the HTML that sends the browser on to link.
func redirectPage(link string) string {
	esc := html.EscapeString(link)
	return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=` + esc + `">
<title>Opening Jupyter</title></head>
<body><p>Opening <a href="` + esc + `">your Jupyter server</a> (nbtunnel).</p></body></html>
`
}

// writeRedirect writes the redirect page for link into a new private
// directory and returns the file's path and a function that removes both.
func writeRedirect(link string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "nbtunnel-open-")
	if err != nil {
		return "", nil, fmt.Errorf("writing the browser's redirect file: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("writing the browser's redirect file: %w", err)
	}
	path := filepath.Join(dir, "jupyter.html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.WriteString(redirectPage(link))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("writing the browser's redirect file %s: %w", path, err)
	}
	var once sync.Once
	return path, func() { once.Do(func() { os.RemoveAll(dir) }) }, nil
}

// openInBrowser opens link in the user's browser through a redirect file.
// It does not wait for the browser. The returned cleanup removes the file
// at once (call it when nbtunnel ends); it is removed after
// redirectLifetime anyway. The browser's own output is discarded.
// warn hears of an opener that exits with an error.
func openInBrowser(link string, getenv func(string) string, warn func(format string, args ...any)) (cleanup func(), err error) {
	path, remove, err := writeRedirect(link)
	if err != nil {
		return func() {}, err
	}
	argv := browserCommand(runtime.GOOS, path, getenv)
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		remove()
		var ee *exec.Error
		if errors.As(err, &ee) {
			return func() {}, fmt.Errorf("opening the browser: %w (set $BROWSER to your browser's command)", err)
		}
		return func() {}, fmt.Errorf("opening the browser with %s: %w", argv[0], err)
	}
	timer := time.AfterFunc(redirectLifetime, remove)
	go func() {
		// The opener (xdg-open, open, rundll32) or the browser itself.
		if err := cmd.Wait(); err != nil {
			warn("opening the browser with %s: %v (set $BROWSER to your browser's command)", argv[0], err)
		}
	}()
	return func() { timer.Stop(); remove() }, nil
}
