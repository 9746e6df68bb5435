package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nbtunnel/nbtunnel/install"
)

// cmdInstall writes (or, with remove, takes out) nbtunnel's hook for a host
// in the user's OpenSSH config or PuTTY session.
func cmdInstall(ctx context.Context, e *env, args []string, remove bool) int {
	name := "install"
	if remove {
		name = "uninstall"
	}
	var hf hostFlags
	fs := newFlagSet(name, &hf)
	localCmd := fs.Bool("local-command", false, "a LocalCommand hook riding a ControlMaster (one login on password/2FA hosts) instead of a ProxyCommand")
	dryRun := fs.Bool("dry-run", false, "print the diff and change nothing")
	browse := fs.Bool("open", false, "(ssh config) the hook also opens the link in your browser; the token is never on a command line")
	onSlurm := fs.Bool("slurm", false, "the host is a SLURM login host: the hook links to Jupyter in your batch job")
	alias, err := parseHostArgs(fs, &hf, args)
	if err != nil {
		return e.ui.fail("", "", err)
	}
	e.useFlags(&hf)
	if *onSlurm && (hf.putty != "" || *localCmd || remove) {
		return e.ui.fail(alias, "", usagef("%s: --slurm goes with the OpenSSH ProxyCommand hook only (install --slurm HOST)", name))
	}
	if hf.putty != "" {
		return e.installPutty(ctx, hf.putty, remove, *dryRun)
	}
	bin, err := selfPath()
	if err != nil {
		return e.ui.fail(alias, "", err)
	}
	o := install.Options{
		ConfigPath:     hf.config,
		ExplicitConfig: hf.config != "",
		BinPath:        bin,
		Mode:           install.ProxyCommandMode,
		DryRun:         *dryRun,
		Open:           *browse,
		Home:           homeDir(e.getenv),
		Slurm:          *onSlurm,
	}
	if *localCmd {
		o.Mode = install.LocalCommandMode
	}
	var res install.Result
	if remove {
		res, err = install.Uninstall(ctx, alias, o)
	} else {
		res, err = install.Install(ctx, alias, o)
	}
	if err != nil {
		return e.ui.fail(alias, o.ConfigPath, err)
	}
	e.report(alias, res.Path, res.Changed, res.Diff, res.Backup, *dryRun, res.Notes)
	if !remove && !*dryRun {
		switch o.Mode {
		case install.LocalCommandMode:
			e.ui.say("'ssh %s' now prints the Jupyter link once logged in (riding its ControlMaster)", shellArg(alias))
		case install.ProxyCommandMode:
			if *onSlurm {
				e.ui.say("'ssh %s' now prints the link to Jupyter in your batch job (submitting one with the defaults of %s when none runs); undo with 'nbtunnel uninstall %s'", shellArg(alias), filepath.Join(stateDir(e.getenv), "slurm"), shellArg(alias))
				break
			}
			e.ui.say("'ssh %s' now prints the Jupyter link; undo with 'nbtunnel uninstall %s'", shellArg(alias), shellArg(alias))
		default:
			e.ui.say("'ssh %s' now prints the Jupyter link; undo with 'nbtunnel uninstall %s'", shellArg(alias), shellArg(alias))
		}
	}
	return 0
}

// report tells what an edit did, or would do.
func (e *env) report(what, path string, changed bool, diff, backup string, dryRun bool, notes []string) {
	for _, n := range notes {
		e.ui.say("%s", n)
	}
	switch {
	case dryRun && diff != "":
		fmt.Fprint(e.ui.out, diff)
	case dryRun:
		e.ui.say("%s: %s would not change", what, path)
	case !changed:
		e.ui.say("%s: %s already up to date", what, path)
	case backup != "":
		e.ui.say("%s: updated %s (previous version in %s)", what, path, backup)
	default:
		e.ui.say("%s: updated %s", what, path)
	}
}

// selfPath is the absolute path of this binary, for hooks to run.
func selfPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the nbtunnel binary: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return filepath.Abs(exe)
}
