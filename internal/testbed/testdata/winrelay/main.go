// Command winrelay is a user's own ProxyCommand for the Windows tests: `winrelay LOG HOST PORT` writes the
// arguments it received (one per line) to LOG, then relays its stdin and stdout to HOST:PORT over TCP.
// Built with GOOS=windows by the suite; Windows hands it one command line that it splits itself.
package main

import (
	"io"
	"net"
	"os"
	"strings"
)

func main() {
	if len(os.Args) != 4 {
		os.Stderr.WriteString("usage: winrelay LOG HOST PORT\n")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(strings.Join(os.Args[1:], "\n")+"\n"), 0o600); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	c, err := net.Dial("tcp", net.JoinHostPort(os.Args[2], os.Args[3]))
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	go func() {
		io.Copy(c, os.Stdin)
		c.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(os.Stdout, c)
}
