// Package hostconf resolves a host alias the way the user's OpenSSH client
// would (ssh_config read by the config engine in sshconfig, with OpenSSH's
// own rules, or ssh -G where evaluation needs OpenSSH), or a PuTTY
// saved session the way PuTTY would, into the connection settings of a Host.
//
// Its subpackages own the rest of what is known about the user's client
// setup: sshconfig (the OpenSSH config engine), hostkeys (known_hosts and
// PuTTY's host-key cache), putty (PuTTY's session store), fileedit (safe
// edits of the user's files), pattern (OpenSSH's wildcard patterns) and
// ppk (PuTTY's private-key files).
// Writing to the user's config is package install's job.
//
// hostconf imports nothing of this module outside its own subtree.
package hostconf
