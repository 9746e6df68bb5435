// Package fileedit makes safe edits of a user's file: an advisory lock
// against other nbtunnel processes, an atomic replace with a backup of the
// old content, the file's ownership and mode kept, and blocks of lines
// between markers that nbtunnel owns, leaving every other byte as it was.
//
// fileedit imports nothing else of this module.
package fileedit
