package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// ttyPrompter asks on the controlling terminal, as ssh does, so prompts work
// even when stdin and stdout carry data (ProxyCommand mode never prompts).
type ttyPrompter struct {
	mu sync.Mutex
}

var errNoTTY = errors.New("no terminal to ask on")

func openTTY() (*os.File, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errNoTTY
	}
	return f, nil
}

// readSecret prints prompt and reads one line, with echo off unless echo.
// It gives up when ctx ends.
func (p *ttyPrompter) read(ctx context.Context, prompt string, echo bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tty, err := openTTY()
	if err != nil {
		return "", err
	}
	defer tty.Close()
	fmt.Fprint(tty, printable(prompt))
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		if echo {
			line, err := bufio.NewReader(tty).ReadString('\n')
			ch <- result{strings.TrimRight(line, "\r\n"), err}
			return
		}
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		ch <- result{string(b), err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return "", fmt.Errorf("reading from the terminal: %w", r.err)
		}
		return r.s, nil
	case <-ctx.Done():
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
		if tty, err := openTTY(); err == nil {
			fmt.Fprintln(tty, printable(instruction))
			tty.Close()
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

// hasTTY reports whether a controlling terminal can be opened.
func hasTTY() bool {
	f, err := openTTY()
	if err != nil {
		return false
	}
	f.Close()
	return true
}
