// Package install puts nbtunnel's hooks into the user's OpenSSH config and PuTTY sessions, and takes them out.
//
// For OpenSSH the hook is a block of lines nbtunnel owns inside the user's
// config file (see fileedit.SetBlock), placed before every Host and Match
// section so that its values are the first obtained, which OpenSSH keeps.
// The block has its own "Host ALIAS" line and ends with "Host *", so the
// user's own lines keep their meaning and every byte outside the block is
// kept. Install is idempotent and Uninstall gives back the file as it was.
package install
