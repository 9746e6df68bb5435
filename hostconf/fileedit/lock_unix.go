//go:build unix

// Platform parts of locking and of the atomic replace (ownership, directory sync).

package fileedit

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock without blocking; false means another
// open file description holds it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

// waitLock takes an exclusive flock, sleeping until it is free.
func waitLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func unlock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// fileOwnership is the uid and gid a file had before we replaced it.
type fileOwnership struct{ uid, gid int }

func ownershipOf(fi os.FileInfo) *fileOwnership {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &fileOwnership{uid: int(st.Uid), gid: int(st.Gid)}
}

// chownFile gives f the recorded owner when we run as root (only root
// can, and only then does a new file get the wrong owner).
func chownFile(f *os.File, o *fileOwnership) error {
	if o == nil || os.Geteuid() != 0 {
		return nil
	}
	return f.Chown(o.uid, o.gid)
}

func chownPath(path string, o *fileOwnership) error {
	if o == nil || os.Geteuid() != 0 {
		return nil
	}
	return os.Chown(path, o.uid, o.gid)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeWhileLocked: a lock file can be unlinked while open and locked.
const removeWhileLocked = true
