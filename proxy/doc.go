// Package proxy is nbtunnel's data path: local port forwards on 127.0.0.1
// to a target reached through a Dialer (a Forwarder), the stdio relay used
// in ProxyCommand mode (Relay), and the byte copying both share.
//
// It knows nothing of SSH beyond the Dialer interface, which *ssh.Client
// and sshclient's dialers implement; proxy/sshclient is the SSH client and
// proxy/tunnel the loop that keeps a forward pointed at Jupyter.
package proxy
