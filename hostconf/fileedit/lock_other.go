//go:build !unix && !windows

package fileedit

import "os"

// tryLock cannot lock on this platform; edits are still atomic.
func tryLock(*os.File) (bool, error) { return true, nil }

func waitLock(*os.File) error { return nil }

func unlock(*os.File) error { return nil }

// fileOwnership is unused where files have no uid/gid.
type fileOwnership struct{}

func ownershipOf(os.FileInfo) *fileOwnership   { return nil }
func chownFile(*os.File, *fileOwnership) error { return nil }
func chownPath(string, *fileOwnership) error   { return nil }
func syncDir(string) error                     { return nil }

const removeWhileLocked = false
