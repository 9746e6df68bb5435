// Package tunnel runs the tunnel loop: it finds the Jupyter server on the
// remote host over an sshclient.Client, points a proxy.Forwarder at it,
// watches it, and reconnects or switches servers when the link or the
// server goes away.
package tunnel
