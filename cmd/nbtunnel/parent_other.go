//go:build !linux

package main

// puttyParent is only known on Linux; elsewhere lines go to PuTTY's stderr
// as they are.
func puttyParent() string { return "" }
