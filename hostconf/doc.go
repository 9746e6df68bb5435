// Package hostconf owns host settings: it resolves an alias the way the
// user's OpenSSH client or PuTTY saved session would (ssh_config through
// the config engine in hostconf/sshconfig, ssh -G only where that engine
// needs OpenSSH itself, PuTTY's session store), reads the host-key databases those clients keep
// (known_hosts, PuTTY's sshhostkeys cache), and edits the user's files
// (LocalForward and PortForwardings entries inside blocks marked as ours),
// always atomically and with a backup.
//
// hostconf imports nothing else of this module but its own sshconfig.
package hostconf
