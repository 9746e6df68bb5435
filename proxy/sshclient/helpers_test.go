package sshclient_test

// Helpers for this package's tests. The remote they dial (an sshtest.Remote, running a real /bin/sh)
// is shared with proxy/tunnel's tests.

import "time"

// ioTimeout bounds every blocking read or write in these tests, so that a bug hangs no test for long. It
// is no assertion about speed.
const ioTimeout = 30 * time.Second
