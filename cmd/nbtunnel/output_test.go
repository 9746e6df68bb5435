package main

import "testing"

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode", "plain text, ünïcode"},
		{"two\nlines\tand tab", "two\nlines\tand tab"},
		{"clear\x1b[2Jscreen", `clear\x1b[2Jscreen`},
		{"cr\rover", `cr\x0dover`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"c1 \u009b", `c1 \x9b`},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/home/u/nb", "/home/u/nb"},
		{"a\nb", `"a\nb"`},
		{"tab\there", `"tab\there"`},
	} {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
