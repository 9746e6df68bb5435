// Package install makes every edit nbtunnel makes to the user's SSH client
// configuration, OpenSSH's config and PuTTY's saved sessions: the hooks
// that run nbtunnel (ProxyCommand or LocalCommand, PuTTY's local proxy
// command) and the local forwards to Jupyter, put in and taken out.
//
// For OpenSSH the hook is a block of lines nbtunnel owns inside the user's
// config file (see fileedit.SetBlock), placed before every Host and Match
// section so that its values are the first obtained, which OpenSSH keeps.
// The block has its own "Host ALIAS" line and ends with "Host *", so the
// user's own lines keep their meaning and every byte outside the block is
// kept. Install is idempotent and Uninstall gives back the file as it was.
//
// install imports only hostconf and its subpackages of this module.
package install
