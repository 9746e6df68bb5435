//go:build windows

package fileedit

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on the file's first byte without
// blocking; false means another handle holds it.
func tryLock(f *os.File) (bool, error) {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	default:
		return false, err
	}
}

// waitLock takes an exclusive lock on the file's first byte, waiting until
// it is free (f is opened for synchronous I/O, so LockFileEx blocks).
func waitLock(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ol)
}

func unlock(f *os.File) error {
	var ol windows.Overlapped
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// fileOwnership is unused on Windows (files keep their ACLs via rename).
type fileOwnership struct{}

func ownershipOf(os.FileInfo) *fileOwnership   { return nil }
func chownFile(*os.File, *fileOwnership) error { return nil }
func chownPath(string, *fileOwnership) error   { return nil }
func syncDir(string) error                     { return nil }

// removeWhileLocked: an open file cannot be removed; it is removed after
// the unlock (and stays while another process has it open).
const removeWhileLocked = false
