package install

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/sshconfig"
)

// controlPathSource returns "FILE:LINE" of the ControlPath (other than
// "none") OpenSSH would obtain for alias from file (and the files it
// includes), with nbtunnel's own blocks left out; "" if there is none.
// The config engine reads the file as ssh -F would. A config it cannot
// read counts as none: that direction is harmless, since our own
// ControlPath, being first, then simply wins. It runs while the file is
// locked, so the user's Match exec commands get scanTimeout in all.
func controlPathSource(ctx context.Context, file, alias, home string) string {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	c, err := sshconfig.Evaluate(ctx, alias, sshconfig.Options{
		ConfigFile: file,
		Home:       home,
		SkipLines:  ourLines,
	})
	if err != nil {
		return ""
	}
	v, ok := c.Get("controlpath")
	if !ok || strings.EqualFold(v.Arg(), "none") || v.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", v.File, v.Line)
}

// scanTimeout bounds controlPathSource's reading of the config, Match exec
// commands included.
const scanTimeout = 10 * time.Second

// ourLines names the lines of every block nbtunnel wrote in a file.
func ourLines(path string, data []byte) map[int]bool {
	blocks, err := fileedit.Blocks(path, data)
	if err != nil {
		return nil
	}
	skip := map[int]bool{}
	for _, b := range blocks {
		for n := b.BeginLine; n <= b.EndLine; n++ {
			skip[n] = true
		}
	}
	return skip
}
