package fileedit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// LockSuffix is appended to a file's path to name the lock file that
// serialises nbtunnel's edits of it.
const LockSuffix = ".nbtunnel.lock"

// DefaultLockTimeout is how long EditFile waits for another nbtunnel
// process to finish editing the same file.
const DefaultLockTimeout = 10 * time.Second

// ErrLocked is wrapped by the error LockFile returns when another process
// held the lock for the whole wait.
var ErrLocked = errors.New("another nbtunnel process is editing it")

// FileLock is an advisory lock (flock on Unix, LockFileEx on Windows) on
// path+LockSuffix. The operating system drops it when the process exits,
// so a crashed nbtunnel never leaves a stale lock. Unlock removes the lock
// file, so nothing is left beside the user's file: on Unix it is removed
// while still locked, and a locker that opened it before the removal
// notices (the name no longer leads to the file it locked) and starts
// again; on Windows it is removed after the unlock, which fails harmlessly
// while another process has it open.
type FileLock struct {
	f    *os.File
	name string
}

// LockFile takes the advisory lock for path (path should already be
// symlink-resolved, so every name for a file shares one lock). It waits at
// most timeout (0 means DefaultLockTimeout) and never past ctx; on timeout
// the error wraps ErrLocked. The caller must call Unlock.
func LockFile(ctx context.Context, path string, timeout time.Duration) (*FileLock, error) {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	name := path + LockSuffix
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l, err := lockOnce(ctx, path, name, timeout, deadline.C)
		if l != nil || err != nil {
			return l, err
		}
		// The file we locked was removed by the holder before us: again.
	}
}

// lockOnce opens name and waits for its lock. A nil lock and nil error
// mean the file was removed while we waited.
func lockOnce(ctx context.Context, path, name string, timeout time.Duration, deadline <-chan time.Time) (*FileLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrPermission) {
		// A lock file another user (root) made: a read-only
		// descriptor can hold the lock too.
		f, err = os.Open(name)
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if fi, err := os.Stat(filepath.Dir(name)); err == nil {
		// Run as root in a user's directory, leave the lock file the
		// user's, as the file it guards is.
		if err := chownFile(f, ownershipOf(fi)); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			if !sameFile(f, name) {
				unlock(f)
				f.Close()
				return nil, nil
			}
			return &FileLock{f: f, name: name}, nil
		}
		select {
		case <-tick.C:
		case <-deadline:
			f.Close()
			return nil, fmt.Errorf("locking %s (lock file %s, waited %s): %w", path, name, timeout, ErrLocked)
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, ctx.Err())
		}
	}
}

// Unlock releases the lock. It is safe to call more than once.
func (l *FileLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	if removeWhileLocked {
		os.Remove(l.name)
	}
	err := unlock(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if !removeWhileLocked {
		os.Remove(l.name)
	}
	return err
}

// TryLock takes an exclusive advisory lock on the open file f (flock on
// Unix, LockFileEx on its first byte on Windows) without waiting; false
// means another open file (description or handle) holds it. The lock lasts
// until Unlock or until f is closed. Where the platform has no such locks,
// TryLock takes nothing and returns true.
func TryLock(f *os.File) (bool, error) { return tryLock(f) }

// WaitLock takes the lock TryLock takes, blocking until it is free. It
// cannot be interrupted: a caller that gives up waiting closes f once
// WaitLock returns. On Windows f must be opened for synchronous I/O (as
// os.OpenFile opens it).
func WaitLock(f *os.File) error { return waitLock(f) }

// Unlock releases a lock TryLock or WaitLock took on f.
func Unlock(f *os.File) error { return unlock(f) }

// sameFile reports whether name still leads to the open file f.
func sameFile(f *os.File, name string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	ni, err := os.Stat(name)
	return err == nil && os.SameFile(fi, ni)
}
