package main

import (
	"bytes"
	"context"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// cmdConfig prints the settings nbtunnel resolved for HOST (or a PuTTY
// session) in `ssh -G`'s format, so they can be set side by side with
// what OpenSSH itself says. It connects to nothing.
func cmdConfig(ctx context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("config", &hf)
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.ui.verbose = hf.verbose
	h, err := e.resolve(ctx, alias, &hf)
	if err != nil {
		return e.exitCode(alias, nil, err)
	}
	var buf bytes.Buffer
	if err := hostconf.WriteConfig(&buf, h); err != nil {
		return e.exitCode(alias, h, err)
	}
	e.ui.text(strings.TrimSuffix(buf.String(), "\n"))
	return 0
}
