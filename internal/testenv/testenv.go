// Package testenv decides what a test does when something it needs from
// the machine is missing: skip on a developer's machine, fail in CI, where
// NBTUNNEL_E2E=1 says every end-to-end dependency is installed.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Required is the environment variable that turns Skipf into a failure.
const Required = "NBTUNNEL_E2E"

// Skipf skips t with the message, or fails it when NBTUNNEL_E2E=1.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(Required) == "1" {
		t.Fatalf("%s (%s=1: a missing dependency is a failure)", msg, Required)
	}
	t.Skip(msg + " (set " + Required + "=1 to fail instead)")
}
