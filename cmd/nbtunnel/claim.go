package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// A port's claim says "this process serves the forward on 127.0.0.1:PORT".
// It is an advisory lock on STATEDIR/forwards/PORT.lock (flock on Unix,
// LockFileEx on Windows) that the operating system drops when the process
// ends, however it ends, so a claim is never stale. The lock file stays
// (removing it would race with the next locker); it holds nothing.

type portClaim struct {
	f    *os.File
	port int
}

func claimPath(getenv func(string) string, port int) string {
	return filepath.Join(stateDir(getenv), "forwards", strconv.Itoa(port)+".lock")
}

func openClaim(getenv func(string) string, port int) (*os.File, error) {
	path := claimPath(getenv, port)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("claiming 127.0.0.1:%d: %w", port, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrPermission) {
		// A lock file another user (root) made: a read-only descriptor
		// holds the lock as well.
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("claiming 127.0.0.1:%d: %w", port, err)
	}
	return f, nil
}

// tryClaim takes port's claim when no other process holds it; it returns
// nil and no error when one does.
func tryClaim(getenv func(string) string, port int) (*portClaim, error) {
	f, err := openClaim(getenv, port)
	if err != nil {
		return nil, err
	}
	ok, err := lockNow(f)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("claiming 127.0.0.1:%d: %w", port, err)
		}
		return nil, nil
	}
	return &portClaim{f: f, port: port}, nil
}

// waitClaim blocks until port's claim is free (its holder ended or let it
// go) and takes it, or until ctx is done. Waiting costs nothing: the lock
// call sleeps in the kernel.
func waitClaim(ctx context.Context, getenv func(string) string, port int) (*portClaim, error) {
	f, err := openClaim(getenv, port)
	if err != nil {
		return nil, err
	}
	got := make(chan error, 1)
	go func() { got <- lockWait(f) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("claiming 127.0.0.1:%d: %w", port, err)
		}
		return &portClaim{f: f, port: port}, nil
	case <-ctx.Done():
		// The lock call cannot be interrupted: let go of the file once
		// it returns (closing it drops a lock it got).
		go func() { <-got; f.Close() }()
		return nil, ctx.Err()
	}
}

// release lets the claim go. It is safe on a nil claim and more than once.
func (c *portClaim) release() {
	if c == nil || c.f == nil {
		return
	}
	c.f.Close()
	c.f = nil
}
