package main

import (
	"os"
	"testing"

	"github.com/nbtunnel/nbtunnel/internal/testbed"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(runHelper(role))
	}
	os.Exit(m.Run())
}

// TestShort runs the benchmark in its short mode against a real test bed: it proves that every
// measurement still runs end to end. It asserts nothing about the numbers.
func TestShort(t *testing.T) {
	if os.Getenv(testbed.E2EEnv) != "1" {
		t.Skipf("the benchmark's short mode runs only with %s=1", testbed.E2EEnv)
	}
	testbed.Require(t)
	if code := run([]string{"-short"}); code != 0 {
		t.Fatalf("go run ./bench -short exited with status %d (see its log above)", code)
	}
}
