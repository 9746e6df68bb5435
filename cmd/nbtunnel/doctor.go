package main

import "context"

func cmdDoctor(_ context.Context, e *env, args []string) int {
	var hf hostFlags
	fs := newFlagSet("doctor", &hf)
	fs.Bool("json", false, "print the checklist as JSON")
	if _, err := parseHostArgs(fs, &hf, args); err != nil {
		return e.ui.fail("", "", err)
	}
	return 1
}
