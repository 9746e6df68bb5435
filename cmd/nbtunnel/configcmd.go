package main

import (
	"context"
)

// cmdConfig is a placeholder until the config engine's `nbtunnel config`
// lands: it keeps its place in the command table and its flags.
func cmdConfig(_ context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("config", &hf)
	if _, err := parseHostArgs(fs, &hf, args); err != nil {
		return e.ui.fail("", "", err)
	}
	return e.ui.fail("", "", usagef("config: not available in this build yet"))
}
