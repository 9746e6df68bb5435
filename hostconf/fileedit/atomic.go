package fileedit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// BackupSuffix is appended to a file's path to name the one backup of its
// previous version that nbtunnel keeps beside it.
const BackupSuffix = ".nbtunnel.bak"

// WriteFileAtomic replaces path with data so that a crash at any point
// leaves either the old or the new file, never a mixture or nothing:
// it writes a temporary file in the same directory, fsyncs it, renames it
// over path and fsyncs the directory.
//
// Before replacing an existing file it saves that file's previous content
// at path+BackupSuffix (one backup, replaced each time, with the original's
// mode). The new file keeps the old file's permission bits, and, when the
// caller is root, its owner and group; perm is the mode of a file that did
// not exist (0 means 0600). A missing parent directory is created with mode
// 0700. A symlinked path is written at its final target, so the link stays.
//
// WriteFileAtomic takes no lock; use EditFile for a read-modify-write that
// must not interleave with another nbtunnel process.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	target, err := resolveLink(path)
	if err != nil {
		return err
	}
	_, err = fileWriter{}.replace(target, data, perm)
	return err
}

// fileWriter replaces files atomically. Its zero value is ready to use.
type fileWriter struct {
	// beforeRename, when set, runs after the temporary file is complete
	// and synced but before it is renamed over the target; an error from
	// it aborts the write as a crash at that point would. Tests only.
	beforeRename func(tmp string) error
}

// replace writes data to target (already symlink-resolved), keeping a
// backup of the previous version. It returns the backup path, "" if the
// file did not exist.
func (w fileWriter) replace(target string, data []byte, perm os.FileMode) (backup string, err error) {
	if perm == 0 {
		perm = 0o600
	}
	dir := filepath.Dir(target)
	if err := mkdirOwned(dir); err != nil {
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	mode := perm.Perm()
	var owner *fileOwnership
	old, err := os.ReadFile(target)
	switch {
	case err == nil:
		fi, err := os.Stat(target)
		if err != nil {
			return "", fmt.Errorf("writing %s: %w", target, err)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("writing %s: not a regular file", target)
		}
		mode = fi.Mode().Perm()
		owner = ownershipOf(fi)
		backup = target + BackupSuffix
		if err := w.writeReplace(backup, old, mode, owner, nil); err != nil {
			return "", fmt.Errorf("backing up %s to %s: %w", target, backup, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if fi, err := os.Stat(dir); err == nil {
			owner = ownershipOf(fi)
		}
	default:
		return "", fmt.Errorf("reading %s: %w", target, err)
	}
	if err := w.writeReplace(target, data, mode, owner, w.beforeRename); err != nil {
		return "", fmt.Errorf("writing %s: %w", target, err)
	}
	return backup, nil
}

// writeReplace is the crash-safe core: temp file, fsync, chmod/chown,
// rename, fsync of the directory.
func (w fileWriter) writeReplace(path string, data []byte, mode os.FileMode, owner *fileOwnership, hook func(string) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".nbtunnel-tmp*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := chownFile(tmp, owner); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(tmpName); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// resolveLink follows symlinks in path's last element (repeatedly, even a
// dangling link) and returns the file that is really written.
func resolveLink(path string) (string, error) {
	p := path
	for range 40 {
		fi, err := os.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return p, nil
			}
			return "", fmt.Errorf("reading %s: %w", path, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("reading link %s: %w", p, err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = dest
	}
	return "", fmt.Errorf("reading %s: too many levels of symbolic links", path)
}

// mkdirOwned creates dir (and missing parents) with mode 0700; when root,
// each new directory gets the owner of the directory it was made in.
func mkdirOwned(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirOwned(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if pfi, err := os.Stat(parent); err == nil {
		if err := chownPath(dir, ownershipOf(pfi)); err != nil {
			return err
		}
	}
	return nil
}

// EditOptions controls an edit of a user's file.
type EditOptions struct {
	// DryRun computes the change and its diff but writes nothing (no
	// file, no backup, no lock file).
	DryRun bool
	// LockTimeout bounds the wait for another nbtunnel process editing
	// the same file; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// Perm is the mode of a file that does not exist yet; 0 means 0600.
	Perm os.FileMode
}

// EditResult says what an edit did (or, for a dry run, would do).
type EditResult struct {
	// Changed is false when the file already had the wanted content.
	Changed bool
	// Diff is a unified diff from the old to the new content, "" when
	// nothing changed.
	Diff string
	// Path is the file actually written: the target of a symlink.
	Path string
	// Backup is where the previous version was (or would be) saved; ""
	// when the file did not exist or nothing changed.
	Backup string
}

// EditFile is a locked read-modify-write of path. It resolves a symlinked
// path to its target, takes the advisory lock (LockFile) for the target,
// reads it (a missing file reads as empty), calls edit with the content
// and, if edit returns different bytes, replaces the file as
// WriteFileAtomic does (backup, mode, owner, crash safety). edit must not
// keep or modify old. ctx bounds the wait for the lock.
func EditFile(ctx context.Context, path string, o EditOptions, edit func(old []byte) ([]byte, error)) (EditResult, error) {
	return fileWriter{}.edit(ctx, path, o, edit)
}

func (w fileWriter) edit(ctx context.Context, path string, o EditOptions, edit func(old []byte) ([]byte, error)) (EditResult, error) {
	target, err := resolveLink(path)
	if err != nil {
		return EditResult{}, err
	}
	res := EditResult{Path: target}
	if !o.DryRun {
		if err := mkdirOwned(filepath.Dir(target)); err != nil {
			return res, fmt.Errorf("writing %s: %w", target, err)
		}
		l, err := LockFile(ctx, target, o.LockTimeout)
		if err != nil {
			return res, err
		}
		defer l.Unlock()
	}
	old, err := os.ReadFile(target)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("reading %s: %w", target, err)
	}
	data, err := edit(old)
	if err != nil {
		return res, err
	}
	if bytes.Equal(old, data) {
		return res, nil // also: a missing file left missing
	}
	res.Changed = true
	res.Diff = unifiedDiff(target, old, data)
	if exists {
		res.Backup = target + BackupSuffix
	}
	if o.DryRun {
		return res, nil
	}
	if _, err := w.replace(target, data, o.Perm); err != nil {
		return res, err
	}
	return res, nil
}
