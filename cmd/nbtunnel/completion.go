package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nbtunnel/nbtunnel/hostconf"
)

// Shell completion: each script hands the words typed so far to the hidden
// `nbtunnel __complete` command, which answers from the command table, each
// command's own FlagSet, the user's ssh config (Include followed) and the
// PuTTY sessions. The word under the cursor is passed last with a leading
// "_", so that an empty word survives every shell (PowerShell drops empty
// arguments to native commands).

func cmdCompletion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("completion", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := parseFlags(fs, args); err != nil {
		return e.ui.fail("", "", err)
	}
	if fs.NArg() != 1 {
		return e.ui.fail("", "", usagef("completion: name one shell: bash, zsh, fish or powershell"))
	}
	script, ok := completionScripts[fs.Arg(0)]
	if !ok {
		return e.ui.fail("", "", usagef("completion: unknown shell %q (bash, zsh, fish or powershell)", fs.Arg(0)))
	}
	fmt.Fprint(e.ui.out, script)
	return 0
}

var completionScripts = map[string]string{
	"bash": `# bash completion for nbtunnel: source <(nbtunnel completion bash)
_nbtunnel() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local IFS=$'\n'
    COMPREPLY=($(nbtunnel __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "_${cur}" 2>/dev/null))
}
complete -o default -F _nbtunnel nbtunnel
`,
	"zsh": `#compdef nbtunnel
# zsh completion for nbtunnel: nbtunnel completion zsh > "${fpath[1]}/_nbtunnel", or source it
_nbtunnel() {
    local -a cands
    cands=("${(@f)$(nbtunnel __complete "${(@)words[2,CURRENT-1]}" "_${words[CURRENT]}" 2>/dev/null)}")
    if (( ${#cands} )) && [[ -n ${cands[1]} ]]; then
        compadd -Q -- "${cands[@]}"
    else
        _files
    fi
}
if [ "$funcstack[1]" = "_nbtunnel" ]; then
    _nbtunnel "$@"
else
    compdef _nbtunnel nbtunnel
fi
`,
	"fish": `# fish completion for nbtunnel: nbtunnel completion fish > ~/.config/fish/completions/nbtunnel.fish
function __nbtunnel_complete
    set -l words (commandline -opc)
    set -e words[1]
    nbtunnel __complete $words "_"(commandline -ct) 2>/dev/null
end
complete -c nbtunnel -f -a '(__nbtunnel_complete)'
`,
	"powershell": `# PowerShell completion for nbtunnel: nbtunnel completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName nbtunnel, nbtunnel.exe -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -ne '' -and $words.Count -gt 0) { $words = $words[0..($words.Count - 2)] }
    & nbtunnel __complete @words "_$wordToComplete" 2>$null | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`,
}

// cmdComplete prints the candidates for the last word, one a line.
func cmdComplete(_ context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return e.ui.fail("", "", usagef("__complete: want the words typed so far, the current one with a leading _"))
	}
	words, cur := args[:len(args)-1], strings.TrimPrefix(args[len(args)-1], "_")
	for _, c := range e.completions(words, cur) {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(e.ui.out, c)
		}
	}
	return 0
}

func (e *env) completions(words []string, cur string) []string {
	if len(words) == 0 {
		if strings.HasPrefix(cur, "-") {
			return []string{"--help", "--version"}
		}
		var names []string
		for _, c := range commands {
			if !c.hidden {
				names = append(names, c.name)
			}
		}
		return names
	}
	c := lookupCommand(words[0])
	if c == nil || c.hidden {
		return nil
	}
	switch c.name {
	case "help":
		if len(words) == 1 {
			return e.completions(nil, "")
		}
		return nil
	case "completion":
		if len(words) == 1 {
			return []string{"bash", "fish", "powershell", "zsh"}
		}
		return nil
	}
	fs := commandFlags(e, c)
	if fs == nil {
		return nil
	}
	// Walk the flags typed so far: a value flag's argument, -F's file.
	var config string
	positional := 0
	for i := 1; i < len(words); i++ {
		name, hasValue := flagName(words[i])
		if name == "" {
			positional++
			continue
		}
		f := fs.Lookup(name)
		if f == nil || hasValue || isBoolFlag(f) {
			continue
		}
		if i+1 < len(words) {
			if name == "F" {
				config = words[i+1]
			}
			i++
		}
	}
	if prev := words[len(words)-1]; len(words) > 1 {
		if name, hasValue := flagName(prev); name != "" && !hasValue {
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) {
				switch name {
				case "putty":
					return e.puttySessions()
				default:
					return nil // a file, a port, a path on HOST: the shell's own completion
				}
			}
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		fs.VisitAll(func(f *flag.Flag) {
			if strings.HasPrefix(f.Usage, "internal:") {
				return
			}
			if len(f.Name) == 1 {
				out = append(out, "-"+f.Name)
			} else {
				out = append(out, "--"+f.Name)
			}
		})
		return out
	}
	if positional > 0 || fs.Lookup("putty") == nil {
		return nil
	}
	return e.hostAliases(config)
}

// flagName returns the name of a flag word ("--putty", "-F", "--x=y") and
// whether the value came with it; "" for a non-flag word.
func flagName(w string) (string, bool) {
	if len(w) < 2 || w[0] != '-' || w == "--" {
		return "", false
	}
	name := strings.TrimLeft(w, "-")
	name, _, hasValue := strings.Cut(name, "=")
	return name, hasValue
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// commandFlags returns c's FlagSet: the command answers -h with it, its
// help text discarded.
func commandFlags(e *env, c *command) *flag.FlagSet {
	quiet := &env{ui: &ui{out: io.Discard, err: io.Discard}, stdin: strings.NewReader(""), getenv: e.getenv}
	c.run(context.Background(), quiet, []string{"-h"})
	return quiet.ui.helped
}

func (e *env) hostAliases(config string) []string {
	names, _ := hostconf.HostAliases(hostconf.ResolveOptions{
		ConfigFile: config,
		Home:       homeDir(e.getenv),
		Getenv:     e.getenv,
		SSHPath:    "-",
	})
	return names
}

func (e *env) puttySessions() []string {
	store, err := e.puttyStore()
	if err != nil {
		return nil
	}
	l, ok := store.(interface{ SessionNames() ([]string, error) })
	if !ok {
		return nil
	}
	names, _ := l.SessionNames()
	sort.Strings(names)
	return names
}
