//go:build unix

package sshconfig

import (
	"errors"
	"os"
	"syscall"
)

// checkPerm refuses a file another user owns or others may write, as
// OpenSSH does for ~/.ssh/config and included files.
func checkPerm(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if (st.Uid != 0 && int(st.Uid) != os.Getuid()) || fi.Mode().Perm()&0o022 != 0 {
		return errors.New("bad owner or permissions (writable by others, or owned by another user)")
	}
	return nil
}
