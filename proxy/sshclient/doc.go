// Package sshclient is nbtunnel's SSH client: it dials a hostconf.Host as
// the user's OpenSSH client would (agent, keys, .ppk files, prompts,
// host-key checks, ProxyJump chains, ProxyCommand transports, an existing
// ControlMaster), keeps the connection alive and runs remote commands.
//
// Nothing here writes to the terminal: prompts go through a Prompter and
// diagnostics through a Logf function supplied by the caller.
package sshclient
