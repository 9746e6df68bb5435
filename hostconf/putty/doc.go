// Package putty reads and writes PuTTY's saved sessions where PuTTY keeps
// them: files under ~/.putty (or $XDG_CONFIG_HOME/putty) on Unix, the
// registry under HKEY_CURRENT_USER on Windows, keeping every line of a
// session it does not change.
//
// putty imports nothing of this module outside hostconf/.
package putty
