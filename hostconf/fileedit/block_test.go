package fileedit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

func TestSetBlockPlacement(t *testing.T) {
	lines := []string{"Host gpu", "    ProxyCommand x", "Host *"}
	block := func(eol string) string {
		return fileedit.BeginMarker("hook gpu") + eol + strings.Join(lines, eol) + eol + fileedit.EndMarker("hook gpu") + eol
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", block("\n")},
		{"comment only, no newline", "# hi", block("\n") + "# hi"},
		{"globals first", "User me\nHost a\n  Port 1\n", block("\n") + "User me\nHost a\n  Port 1\n"},
		{"header comment kept on top", "# my config\n\n# about a\nHost a\n", "# my config\n\n" + block("\n") + "# about a\nHost a\n"},
		{"crlf", "Host a\r\n\tPort=1\r\n", block("\r\n") + "Host a\r\n\tPort=1\r\n"},
		{"indented first directive", "\n  Host a\n", "\n" + block("\n") + "  Host a\n"},
		{"before other block", "Host a\n" + strings.Replace(block("\n"), "hook gpu", "hook zz", 2),
			block("\n") + "Host a\n" + strings.Replace(block("\n"), "hook gpu", "hook zz", 2)},
		{"other block first", strings.Replace(block("\n"), "hook gpu", "forward gpu", 2) + "Host a\n",
			block("\n") + strings.Replace(block("\n"), "hook gpu", "forward gpu", 2) + "Host a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileedit.SetBlock("cfg", []byte(tt.in), "hook gpu", lines)
			if err != nil {
				t.Fatalf("SetBlock: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("SetBlock:\ngot  %q\nwant %q", got, tt.want)
			}
			again, err := fileedit.SetBlock("cfg", got, "hook gpu", lines)
			if err != nil || string(again) != string(got) {
				t.Fatalf("second SetBlock: got %q, %v; want unchanged", again, err)
			}
			back, err := fileedit.RemoveBlock("cfg", got, "hook gpu")
			if err != nil || string(back) != tt.in {
				t.Fatalf("RemoveBlock: got %q, %v; want %q", back, err, tt.in)
			}
		})
	}
}

func TestSetBlockReplaces(t *testing.T) {
	in := "Host a\n" + fileedit.BeginMarker("forward gpu") + "\nold\n" + fileedit.EndMarker("forward gpu") + "\nHost b\n"
	got, err := fileedit.SetBlock("cfg", []byte(in), "forward gpu", []string{"new1", "new2"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Host a\n" + fileedit.BeginMarker("forward gpu") + "\nnew1\nnew2\n" + fileedit.EndMarker("forward gpu") + "\nHost b\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	b, ok, err := fileedit.FindBlock("cfg", got, "forward gpu")
	if err != nil || !ok || strings.Join(b.Lines, "|") != "new1|new2" || b.BeginLine != 2 || b.EndLine != 5 {
		t.Fatalf("FindBlock = %+v, %v, %v; want lines new1|new2 at 2-5", b, ok, err)
	}
	// An end marker on the last line without a line ending stays so.
	in2 := fileedit.BeginMarker("k") + "\nx\n" + fileedit.EndMarker("k")
	got2, err := fileedit.SetBlock("cfg", []byte(in2), "k", []string{"y"})
	if want := fileedit.BeginMarker("k") + "\ny\n" + fileedit.EndMarker("k"); err != nil || string(got2) != want {
		t.Fatalf("got %q, %v; want %q", got2, err, want)
	}
}

func TestDamagedBlocks(t *testing.T) {
	b, e := fileedit.BeginMarker("hook gpu"), fileedit.EndMarker("hook gpu")
	tests := []struct {
		name, in string
		line     int
		problem  string
	}{
		{"no end", "Host a\n" + b + "\nHost gpu\n", 2, "has no end marker"},
		{"no begin", "Host a\n" + e + "\n", 2, "without its begin marker"},
		{"nested", b + "\n" + fileedit.BeginMarker("hook x") + "\n", 1, "has no end marker"},
		{"wrong end", b + "\n" + fileedit.EndMarker("hook x") + "\n", 2, "without its begin marker"},
		{"twice", b + "\n" + e + "\n" + b + "\n" + e + "\n", 3, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fileedit.SetBlock("/home/u/.ssh/config", []byte(tt.in), "hook other", []string{"x"})
			var be *fileedit.BlockError
			if !errors.As(err, &be) {
				t.Fatalf("got %v, want *BlockError", err)
			}
			if be.Line != tt.line || !strings.Contains(be.Problem, tt.problem) || be.Hint == "" {
				t.Errorf("got line %d problem %q hint %q; want line %d problem %q and a hint", be.Line, be.Problem, be.Hint, tt.line, tt.problem)
			}
			if want := "/home/u/.ssh/config:"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestSetBlockRejects(t *testing.T) {
	for _, tt := range []struct {
		key   string
		lines []string
	}{
		{"", nil}, {"a >>> b", nil}, {"k", []string{"a\nb"}}, {"k", []string{fileedit.EndMarker("k")}},
	} {
		if _, err := fileedit.SetBlock("cfg", nil, tt.key, tt.lines); err == nil {
			t.Errorf("SetBlock(%q, %q): got nil error, want one", tt.key, tt.lines)
		}
	}
}
