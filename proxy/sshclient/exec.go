package sshclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ExitError reports a remote command's non-zero exit status.
type ExitError struct {
	Command string
	Status  int
	Stderr  []byte
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(string(e.Stderr))
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 && len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	if msg == "" {
		return fmt.Sprintf("remote command %q exited with status %d", e.Command, e.Status)
	}
	return fmt.Sprintf("remote command %q exited with status %d: %s", e.Command, e.Status, msg)
}

// Run runs cmd on the remote host with stdin as its standard input, copying
// its output to stdout and stderr (either may be nil to discard), and
// returns its exit status. Cancelling ctx ends the session.
func (c *Client) Run(ctx context.Context, cmd string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	s, err := c.NewSession()
	if err != nil {
		return -1, fmt.Errorf("opening a session: %w", err)
	}
	defer s.Close()
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	s.Stdout, s.Stderr = stdout, stderr
	stop := context.AfterFunc(ctx, func() {
		s.Signal(ssh.SIGTERM)
		s.Close()
	})
	defer stop()
	err = s.Run(cmd)
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), nil
	}
	if errors.Is(err, io.EOF) {
		// x/crypto reports a zero exit status first; io.EOF after it comes
		// from copying stdin into a channel the command had already closed:
		// it exited 0 without reading all of its input, which is success.
		return 0, nil
	}
	if err != nil {
		return -1, fmt.Errorf("running remote command %q: %w", cmd, err)
	}
	return 0, nil
}

// Output runs cmd with stdin and returns its standard output. A non-zero
// exit is an *ExitError carrying the command's standard error.
func (c *Client) Output(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	var out, errb limitedBuffer
	out.max, errb.max = 64<<20, 64<<10
	status, err := c.Run(ctx, cmd, stdin, &out, &errb)
	if err != nil {
		return nil, err
	}
	if status != 0 {
		return out.Bytes(), &ExitError{Command: cmd, Status: status, Stderr: errb.Bytes()}
	}
	return out.Bytes(), nil
}

// limitedBuffer keeps at most max bytes (the first for stdout-like data)
// so a hostile remote cannot exhaust memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
