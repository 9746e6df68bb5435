package install

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf"
	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// Mode is the kind of hook Install writes.
type Mode int

const (
	// ProxyCommandMode makes nbtunnel ssh's transport for the host:
	//
	//	ProxyCommand "BIN" proxy [-F "CFG"] %n %p
	//
	// ssh runs it through the user's shell as "exec COMMAND" after
	// expanding %-tokens (%n is the alias as typed, %p the port). Our
	// ProxyCommand is the first obtained, so it also wins over a ProxyJump
	// the user set for the host; "nbtunnel proxy" re-reads the config,
	// ignores its own hook and follows the user's jump chain itself.
	ProxyCommandMode Mode = iota
	// LocalCommandMode makes ssh start nbtunnel once connected, riding the
	// connection's ControlMaster:
	//
	//	ControlMaster auto
	//	ControlPath ~/.ssh/nbtunnel-%C     (only if the user sets none)
	//	PermitLocalCommand yes
	//	LocalCommand "BIN" attach [-F "CFG"] %n
	//
	// ControlPersist is left to the user.
	LocalCommandMode
)

func (m Mode) String() string {
	switch m {
	case ProxyCommandMode:
		return "ProxyCommand"
	case LocalCommandMode:
		return "LocalCommand"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Options says where and how to install.
type Options struct {
	// ConfigPath is the file to edit; "" means Home/.ssh/config.
	ConfigPath string
	// ExplicitConfig is set when the user gave ssh -F ConfigPath: the hook
	// then passes -F with ConfigPath's absolute path to nbtunnel.
	ExplicitConfig bool
	// BinPath is the absolute path of the nbtunnel binary the hook runs.
	BinPath string
	// Mode is the kind of hook.
	Mode Mode
	// Open makes the hook also open the link in the user's browser
	// (nbtunnel's --open).
	Open bool
	// DryRun computes the change and its diff without writing anything.
	DryRun bool
	// Home is the user's home directory (for the default ConfigPath and
	// relative Include paths).
	Home string
	// Slurm makes the ProxyCommand hook treat the host as a SLURM login host (proxy --slurm): the link
	// is to Jupyter in the user's batch job on a compute node. ProxyCommandMode only.
	Slurm bool
	// LockTimeout bounds the wait for another nbtunnel editing the same
	// file; 0 means fileedit.DefaultLockTimeout.
	LockTimeout time.Duration
}

// Result says what Install or Uninstall did (or would do, for a dry run).
type Result struct {
	// Changed is false when the file already was as wanted.
	Changed bool
	// Diff is a unified diff of the change, "" when none.
	Diff string
	// Path is the file actually written (a symlink resolved).
	Path string
	// Backup is where the previous version was saved, "" if none.
	Backup string
	// Notes are facts the user should know, one sentence each, e.g. that
	// the host's own ControlPath is used.
	Notes []string
}

// ErrNoControlMaster refuses the LocalCommand hook on Windows: it rides a
// ControlMaster, and OpenSSH for Windows has no connection sharing.
var ErrNoControlMaster = errors.New("OpenSSH for Windows has no ControlMaster, which the LocalCommand hook rides; use the ProxyCommand hook (nbtunnel install HOST)")

// Install writes nbtunnel's hook for alias into the OpenSSH config (see
// Mode for the lines), in the block hostconf.HookBlockKey(alias), replacing
// a hook an earlier run wrote (also of the other mode). Running it twice
// changes nothing the second time. A missing config is created with mode
// 0600 (its directory 0700). The edit is locked, atomic and backed up (see
// fileedit.EditFile).
func Install(ctx context.Context, alias string, o Options) (Result, error) {
	cfg, err := o.configPath()
	if err != nil {
		return Result{}, fmt.Errorf("installing hook for host %q: %w", alias, err)
	}
	if err := CheckAlias(alias); err != nil {
		return Result{}, fmt.Errorf("installing hook for host %q in %s: %w", alias, cfg, err)
	}
	if o.Mode == LocalCommandMode && runtime.GOOS == "windows" {
		return Result{}, fmt.Errorf("installing hook for host %q in %s: %w", alias, cfg, ErrNoControlMaster)
	}
	if !filepath.IsAbs(o.BinPath) {
		return Result{}, fmt.Errorf("installing hook for host %q in %s: nbtunnel path %q is not absolute", alias, cfg, o.BinPath)
	}
	bin, err := quoteArg(o.BinPath)
	if err != nil {
		return Result{}, fmt.Errorf("installing hook for host %q in %s: nbtunnel path: %w", alias, cfg, err)
	}
	flagF := ""
	if o.ExplicitConfig {
		abs, err := filepath.Abs(cfg)
		if err != nil {
			return Result{}, fmt.Errorf("installing hook for host %q in %s: %w", alias, cfg, err)
		}
		q, err := quoteArg(abs)
		if err != nil {
			return Result{}, fmt.Errorf("installing hook for host %q in %s: config path: %w", alias, cfg, err)
		}
		flagF = " -F " + q
	}
	if o.Slurm && o.Mode != ProxyCommandMode {
		return Result{}, fmt.Errorf("installing hook for host %q in %s: the cluster option works with the ProxyCommand hook only", alias, cfg)
	}
	proxyArgs := " proxy"
	if o.Slurm {
		proxyArgs += " --slurm"
	}
	openArg := ""
	if o.Open {
		openArg = " --open"
	}
	proxyArgs += openArg
	var notes []string
	res, err := fileedit.EditFile(ctx, cfg, o.editOptions(), func(old []byte) ([]byte, error) {
		var settings []string
		switch o.Mode {
		case ProxyCommandMode:
			settings = []string{"ProxyCommand " + bin + proxyArgs + flagF + " %n %p"}
		case LocalCommandMode:
			settings = []string{"ControlMaster auto"}
			if where := controlPathSource(ctx, cfg, alias, o.Home); where != "" {
				notes = append(notes, fmt.Sprintf("host %q keeps its own ControlPath (%s)", alias, where))
			} else {
				settings = append(settings, "ControlPath ~/.ssh/nbtunnel-%C")
			}
			settings = append(settings, "PermitLocalCommand yes", "LocalCommand "+bin+" attach"+openArg+flagF+" %n")
		default:
			return nil, fmt.Errorf("installing hook for host %q in %s: unknown mode %v", alias, cfg, o.Mode)
		}
		return fileedit.SetBlock(cfg, old, hostconf.HookBlockKey(alias), HostBlockLines(alias, settings))
	})
	if err != nil {
		return Result{}, fmt.Errorf("installing hook for host %q: %w", alias, err)
	}
	return Result{Changed: res.Changed, Diff: res.Diff, Path: res.Path, Backup: res.Backup, Notes: notes}, nil
}

// Uninstall takes nbtunnel's hook for alias out of the OpenSSH config:
// the block Install wrote, exactly, so after Install then Uninstall the
// file has its original bytes (a file Install created stays, empty).
// Blocks of other kinds (WriteLocalForward's) are left alone.
// Without a hook it changes nothing. Mode, BinPath and ExplicitConfig are
// not used.
func Uninstall(ctx context.Context, alias string, o Options) (Result, error) {
	cfg, err := o.configPath()
	if err != nil {
		return Result{}, fmt.Errorf("removing hook for host %q: %w", alias, err)
	}
	if err := CheckAlias(alias); err != nil {
		return Result{}, fmt.Errorf("removing hook for host %q from %s: %w", alias, cfg, err)
	}
	res, err := fileedit.EditFile(ctx, cfg, o.editOptions(), func(old []byte) ([]byte, error) {
		return fileedit.RemoveBlock(cfg, old, hostconf.HookBlockKey(alias))
	})
	if err != nil {
		return Result{}, fmt.Errorf("removing hook for host %q: %w", alias, err)
	}
	return Result{Changed: res.Changed, Diff: res.Diff, Path: res.Path, Backup: res.Backup}, nil
}

func (o Options) configPath() (string, error) {
	if o.ConfigPath != "" {
		return o.ConfigPath, nil
	}
	if o.Home == "" {
		return "", fmt.Errorf("locating the OpenSSH config: neither a config path nor a home directory given")
	}
	return filepath.Join(o.Home, ".ssh", "config"), nil
}

func (o Options) editOptions() fileedit.EditOptions {
	return fileedit.EditOptions{DryRun: o.DryRun, LockTimeout: o.LockTimeout, Perm: 0o600}
}

// quoteArg quotes one word of a ProxyCommand or LocalCommand. ssh first
// expands %-tokens in the whole value (so '%' is doubled). OpenSSH on Unix
// then runs it with the user's shell as "exec VALUE"; double quotes protect
// spaces and the like in sh, bash, zsh, fish and csh alike, and characters
// still special inside double quotes in one of those shells are refused.
// Win32-OpenSSH runs the value directly with CreateProcess (no shell),
// whose command-line rules take a double-quoted word as it is, backslashes
// included; Windows file names cannot hold '"'.
func quoteArg(s string) (string, error) { return quoteArgFor(runtime.GOOS, s) }

func quoteArgFor(goos, s string) (string, error) {
	special := "\"$`!\\"
	if goos == "windows" {
		special = `"`
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || strings.ContainsRune(special, r) {
			return "", fmt.Errorf("%q has %q, which cannot be quoted safely for ssh's shell; use a path without it", s, r)
		}
	}
	return `"` + strings.ReplaceAll(s, "%", "%%") + `"`, nil
}
