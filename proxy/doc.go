// Package proxy owns nbtunnel's data path and the SSH connection it rides
// on: dialing a host as the user's OpenSSH client would (agent and keys,
// prompts, host-key checks, ProxyJump chains, ProxyCommand transports, an
// existing ControlMaster), keepalives, local port forwards on 127.0.0.1, and
// the stdio relay used in ProxyCommand mode.
//
// Nothing here writes to the terminal: prompts go through a Prompter and
// diagnostics through a Logf function supplied by the caller.
package proxy
