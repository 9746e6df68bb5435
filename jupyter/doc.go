// Package jupyter owns the remote side of nbtunnel: how Jupyter servers
// describe themselves (their runtime files), the POSIX sh scripts that find,
// start and stop them on the remote host in one exec each, the parsing of
// those scripts' output, and deciding which candidate servers are usable by
// probing them through a dialer the caller provides (Probe, ProbeUsable,
// Confirm).
//
// The package does no I/O of its own beyond what callers hand it: scripts are
// returned as bytes for the caller to write on a session's stdin, their
// output is parsed from bytes, and probes dial only through a DialFunc.
// Every value embedded in a script goes through ShellQuote; nothing taken
// from a runtime file is ever put on a shell line.
//
// Scripts are framed by a random nonce (NewNonce) so that a login banner,
// output from the user's shell start-up files, or hostile file contents
// cannot be mistaken for records.
//
// jupyter imports nothing else of this module.
package jupyter
