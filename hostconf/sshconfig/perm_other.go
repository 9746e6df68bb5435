//go:build !unix

package sshconfig

import "os"

// checkPerm: Windows has no owner and mode bits OpenSSH checks this way.
func checkPerm(*os.File) error { return nil }
