// Package sshconfig reads OpenSSH client configuration the way OpenSSH's
// ssh (9.2, readconf.c and match.c) does, for one destination: it owns the
// lexing, Include, Host and Match evaluation, first-obtained-value-wins,
// and the %-token and ${VAR} expansion of ssh_config files. Of this
// module it imports only hostconf/pattern, the wildcard matcher it shares
// with the host-key databases.
//
// # What it does as OpenSSH does
//
//   - Lines: the keyword ends at whitespace, a double quote or one '='
//     (strdelim); the arguments are split as argv_split splits them
//     (single and double quotes, backslash escapes, a '#' where an argument
//     would start ends the line); ProxyCommand, LocalCommand, RemoteCommand
//     and KnownHostsCommand take the rest of the line as written, and
//     ProxyJump the rest up to a '#'. Every line is split and its
//     argument count checked whether or not its block applies, so a broken
//     line anywhere is refused, as ssh refuses it (with file and line: see
//     Error).
//   - Host: each argument is one pattern (no comma lists), matched
//     case-sensitively against the host as typed (in the final pass:
//     against the final host name); a matching "!pattern" vetoes the line.
//     Patterns: '*' any run, '?' exactly one character (MatchPattern).
//   - Match: all, canonical, final, exec (run with $SHELL -c, its tokens
//     expanded, skipped once an earlier criterion failed), host,
//     originalhost, user, localuser; '!' negation; comma-separated pattern
//     lists in which a matching negated pattern vetoes (MatchPatternList);
//     host names folded to lower case; "all" only alone or after one
//     criterion. Arguments are read with strdelim, as match_cfg_line does.
//   - Match final and canonical: when a Match final line was seen, or
//     CanonicalizeHostname is on, the files are read a second time, with
//     Host lines and Match host matching the final host name, Match final
//     and canonical true, and the values of the first pass kept (HostName
//     among them, so a HostName in the second pass changes nothing).
//   - Include: several arguments, glob(3) patterns (sorted, wildcards never
//     matching a leading dot), ~ and relative paths (to ~/.ssh in user
//     files, to /etc/ssh in the system file, where ~ is refused), inside
//     Host and Match blocks (an included file starts in the including
//     block's state, and that state is restored after it; the files
//     included from a block that does not apply are read but never
//     apply), nesting limited to 16, and OpenSSH's owner and permission
//     check on included files and ~/.ssh/config.
//   - Values: the first obtained wins (a time of "none" counts as not
//     obtained, as in readconf.c); IdentityFile, CertificateFile,
//     LocalForward, RemoteForward and DynamicForward add up, an entry
//     already there skipped; ${VAR} in a forward is expanded as the line is
//     read, and an unset one refused even where the block does not apply
//     (so is IdentityAgent's); SendEnv adds
//     names and removes them with "-pattern"; list keywords
//     (UserKnownHostsFile, GlobalKnownHostsFile, SetEnv, CanonicalDomains,
//     ...) are taken whole from their first line; a ProxyJump other than
//     none keeps a later ProxyCommand out, and any ProxyCommand keeps a
//     later ProxyJump out; aliases (ChallengeResponseAuthentication, ...)
//     share their keyword's value; User and Port from the command line
//     (user@host, Options.User and Port) come first; IgnoreUnknown skips
//     the unknown keywords it lists.
//   - Tokens (Tokens.Expand): %% %C %L %d %h %i %k %l %n %p %r %u, with the
//     set each keyword accepts, and ${VAR} in the same single pass, as
//     percent_dollar_expand does; HostName takes %h and %% only.
//
// # Where OpenSSH itself is needed
//
// Evaluate returns an *UnsupportedError (errors.Is ErrUnsupported) where
// only the user's own ssh gives the exact answer; package hostconf then
// asks `ssh -G`:
//
//   - CanonicalizeHostname when it would ask the DNS: a host name ending
//     in '.', CanonicalDomains for a name with few enough dots, or
//     CanonicalizePermittedCNAMEs (the resolver's search rules and CNAME
//     following are the system's). CanonicalizeHostname without any of
//     these needs no lookup and is evaluated here.
//   - A keyword OpenSSH 9.2 does not know (a newer one such as
//     ChannelTimeout, or a vendor one such as macOS's UseKeychain) and no
//     IgnoreUnknown lists: the user's ssh may know it.
//   - A Match criterion newer than 9.2 (tagged, version, sessiontype,
//     command, ...).
//
// # Deliberate differences from OpenSSH 9.2
//
//   - Match localnetwork (OpenSSH 9.4) is evaluated against this
//     machine's interface addresses; 9.2 refuses it. The %j token
//     (ProxyJump, 9.3) is accepted; %C is 9.2's hash (without %j).
//   - Values are checked for the keywords nbtunnel uses (Port, times,
//     counts, yes/no flags, StrictHostKeyChecking, ControlMaster,
//     ProxyJump, ...) and the argument count of every keyword; a bad value
//     of another keyword (Compression maybe, a malformed forward spec) is
//     accepted where ssh refuses the file.
//   - "ProxyJump none # comment" means no jump; ssh 9.2 compares the
//     text with its comment to "none" and so jumps through a host named
//     "none".
//   - A variable set to the empty string counts as unset in ${VAR}
//     (Options.Getenv cannot tell them apart); ssh expands it to "".
//   - Errors stop at the first bad line; ssh reports every bad line of
//     the file, then stops.
//   - Match exec commands run with stdin, stdout and stderr on /dev/null
//     (ssh leaves stderr on the terminal), under Options.Exec if set.
//   - An IPv6 address as HostName is printed in Go's canonical form;
//     getnameinfo's can differ for rare spellings.
//   - On Windows the owner and permission check is not made.
//
// Package hostconf adds its own (documented there and in nbtunnel config):
// it refuses -F naming a directory (ssh reads it as empty), reads
// ServerAliveCountMax 0 as 3 (nbtunnel always keeps its link alive),
// prints IdentityFile and ProxyCommand expanded, and refuses a ProxyJump
// loop when it reads the config (it resolves every hop; ssh -G prints the
// loop and ssh refuses it when it connects).
//
// The differential test in package hostconf (testdata/sshg) holds these
// differences to account against the real ssh -G.
//
// # github.com/kevinburke/ssh_config
//
// nbtunnel no longer uses it. Nothing it does is done exactly as OpenSSH
// does without rewriting the user's text: its lexer knows neither single
// quotes nor argv_split's escapes and comment rule and keeps the quotes of
// a quoted Host pattern (so Host "lab" matched nothing), its matcher lets
// '?' match no character (so Host gpu? matched gpu), it splits Host
// arguments at commas, it cannot parse Match final, Match user or Match
// exec, it resolves Include against $HOME for every file and without the
// depth, state and permission rules, and re-encoding a file changes its
// tabs, '=' and line ends. Each of these had to be worked around by
// rewriting lines before it saw them; a second implementation that only
// approximates the first is what issue 10 set out to remove.
package sshconfig
