package install

import "testing"

// TestQuoteArgWindows: Win32-OpenSSH runs ProxyCommand and LocalCommand
// with CreateProcess, no shell, so backslashes and '$' are plain; '%' is
// still doubled for ssh's own token expansion.
func TestQuoteArgWindows(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{`C:\Users\me\bin\nbtunnel.exe`, `"C:\Users\me\bin\nbtunnel.exe"`, ""},
		{`C:\Program Files\nb$x\nbtunnel.exe`, `"C:\Program Files\nb$x\nbtunnel.exe"`, ""},
		{`C:\100%\nbtunnel.exe`, `"C:\100%%\nbtunnel.exe"`, ""},
		{`C:\a"b.exe`, "", "cannot be quoted"},
		{"C:\\a\nb.exe", "", "cannot be quoted"},
	} {
		got, err := quoteArgFor("windows", tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") {
			t.Errorf("quoteArgFor(windows, %q) = %q, %v; want %q, error %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	if _, err := quoteArgFor("linux", `C:\Users\me\nbtunnel.exe`); err == nil {
		t.Errorf("a backslash is accepted for a Unix shell")
	}
}
