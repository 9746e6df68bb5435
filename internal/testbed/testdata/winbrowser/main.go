// Command winbrowser stands in for a browser in the Windows tests: given a page (a path or a file:/// URL) as
// its last argument, it appends "argv: ARGS" (its arguments joined by " | ") and then the page's content to
// the file named by %NBTUNNEL_BROWSER_LOG%. Built with GOOS=windows by the suite.
package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

func main() {
	log, err := os.OpenFile(os.Getenv("NBTUNNEL_BROWSER_LOG"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil || len(os.Args) < 2 {
		os.Exit(2)
	}
	defer log.Close()
	fmt.Fprintf(log, "argv: %s\n", strings.Join(os.Args[1:], " | "))
	page := os.Args[len(os.Args)-1]
	if u, err := url.Parse(page); err == nil && u.Scheme == "file" {
		page = strings.TrimPrefix(u.Path, "/")
	}
	b, err := os.ReadFile(page)
	if err != nil {
		fmt.Fprintf(log, "error: %v\n", err)
		os.Exit(1)
	}
	log.Write(b)
}
