//go:build !linux

package main

// parentIsPuTTYWindow is only known on Linux; elsewhere lines go to PuTTY
// as they are.
func parentIsPuTTYWindow() bool { return false }
