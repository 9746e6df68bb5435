package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/term"
)

// ttyPrompter asks on the controlling terminal (the console on Windows), as
// ssh does, so prompts work even when stdin and stdout carry data
// (ProxyCommand mode never prompts).
type ttyPrompter struct {
	mu sync.Mutex
}

var errNoTTY = errors.New("no terminal to ask on")

// read prints prompt on the console (see openConsole) and reads one line,
// with echo off unless echo. It gives up when ctx ends (Ctrl-C, SIGTERM).
// The terminal's mode is restored however it returns, so an interrupted
// prompt never leaves the user's terminal without echo.
func (p *ttyPrompter) read(ctx context.Context, prompt string, echo bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, out, err := openConsole()
	if err != nil {
		return "", err
	}
	defer in.Close()
	defer out.Close()
	fmt.Fprint(out, printable(prompt))
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	restore := func() {}
	if echo {
		go func() {
			line, err := bufio.NewReader(in).ReadString('\n')
			ch <- result{strings.TrimRight(line, "\r\n"), err}
		}()
	} else {
		fd := int(in.Fd())
		old, err := term.GetState(fd)
		if err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", err)
		}
		restore = sync.OnceFunc(func() { term.Restore(fd, old) })
		defer restore()
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- result{string(b), err}
		}()
	}
	select {
	case r := <-ch:
		if !echo {
			fmt.Fprintln(out)
		}
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return "", fmt.Errorf("reading from the terminal: %w", r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		restore()
		fmt.Fprintln(out)
		return "", ctx.Err()
	}
}

func (p *ttyPrompter) Passphrase(ctx context.Context, file string) ([]byte, error) {
	s, err := p.read(ctx, fmt.Sprintf("Enter passphrase for key '%s': ", file), false)
	return []byte(s), err
}

func (p *ttyPrompter) Password(ctx context.Context, user, host string) (string, error) {
	return p.read(ctx, fmt.Sprintf("%s@%s's password: ", user, host), false)
}

func (p *ttyPrompter) Challenge(ctx context.Context, user, host, instruction string, questions []string, echos []bool) ([]string, error) {
	if instruction != "" {
		if in, out, err := openConsole(); err == nil {
			fmt.Fprintln(out, printable(instruction))
			in.Close()
			out.Close()
		}
	}
	answers := make([]string, len(questions))
	for i, q := range questions {
		echo := i < len(echos) && echos[i]
		a, err := p.read(ctx, q, echo)
		if err != nil {
			return nil, err
		}
		answers[i] = a
	}
	return answers, nil
}

// confirm asks a yes/no question on the terminal; no terminal means no.
func (p *ttyPrompter) confirm(ctx context.Context, question string) (bool, error) {
	a, err := p.read(ctx, question+" [y/N] ", true)
	if err != nil {
		return false, err
	}
	a = strings.ToLower(strings.TrimSpace(a))
	return a == "y" || a == "yes", nil
}

// hasTTY reports whether a controlling terminal (a console on Windows)
// can be opened.
func hasTTY() bool {
	in, out, err := openConsole()
	if err != nil {
		return false
	}
	in.Close()
	out.Close()
	return true
}
