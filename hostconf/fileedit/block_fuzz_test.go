package fileedit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// FuzzBlockEdit checks, for any file that parses, that inserting a block
// keeps every other byte, that setting it twice is a no-op, that it reads
// back, and that removing it restores the file.
func FuzzBlockEdit(f *testing.F) {
	f.Add([]byte("Host a\n  Port 22\n"), "hook gpu", "Host gpu\n    ProxyCommand x\nHost *")
	f.Add([]byte("# c\r\nUser=me\r\n\r\nHost *\r\n\tPort 2\r\n"), "forward gpu", "LocalForward 1 h:2")
	f.Add([]byte(""), "k", "")
	f.Add([]byte("# >>> nbtunnel k >>>\nx\n# <<< nbtunnel k <<<"), "k", "y")
	f.Fuzz(func(t *testing.T, data []byte, key, body string) {
		var lines []string
		if body != "" {
			lines = strings.Split(body, "\n")
		}
		orig := bytes.Clone(data)
		_, had, err := fileedit.FindBlock("f", data, key)
		if err != nil {
			return
		}
		out, err := fileedit.SetBlock("f", data, key, lines)
		if err != nil {
			return // invalid key or lines
		}
		if !bytes.Equal(data, orig) {
			t.Fatalf("SetBlock modified its input")
		}
		b, ok, err := fileedit.FindBlock("f", out, key)
		if err != nil || !ok {
			t.Fatalf("FindBlock after SetBlock: ok=%v err=%v\n%q", ok, err, out)
		}
		if strings.Join(b.Lines, "\n") != strings.Join(lines, "\n") || len(b.Lines) != len(lines) {
			t.Fatalf("block lines = %q, want %q", b.Lines, lines)
		}
		if !had {
			// Outside bytes: out is data with the block spliced in.
			if got := append(bytes.Clone(out[:b.Start]), out[b.End:]...); !bytes.Equal(got, data) {
				t.Fatalf("bytes outside the block changed:\ngot  %q\nwant %q", got, data)
			}
			back, err := fileedit.RemoveBlock("f", out, key)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("RemoveBlock = %q, %v; want %q", back, err, data)
			}
		}
		again, err := fileedit.SetBlock("f", out, key, lines)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second SetBlock changed the file: %v\n%q\n%q", err, out, again)
		}
		removed, err := fileedit.RemoveBlock("f", out, key)
		if err != nil {
			t.Fatalf("RemoveBlock: %v", err)
		}
		if _, ok, err := fileedit.FindBlock("f", removed, key); ok || err != nil {
			t.Fatalf("block still there after RemoveBlock: ok=%v err=%v", ok, err)
		}
	})
}
