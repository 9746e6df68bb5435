package putty

import "testing"

func TestPuttyNameEscaping(t *testing.T) {
	tests := []struct{ name, file, reg string }{
		{"", "Default%20Settings", "Default%20Settings"},
		{"gpu-box_1.x@y+z", "gpu-box_1.x@y+z", "gpu-box_1.x@y+z"},
		{"my box", "my%20box", "my%20box"},
		{".hidden", ".hidden", "%2Ehidden"},
		{"a/b\\c", "a%2Fb%5Cc", "a/b%5Cc"},
		{"50%*?", "50%25%2A%3F", "50%25%2A%3F"},
		{"ü\n", "%C3%BC%0A", "%C3%BC%0A"},
		{"../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2E./../etc/passwd"},
	}
	for _, tt := range tests {
		if got := puttyFileName(tt.name); got != tt.file {
			t.Errorf("puttyFileName(%q) = %q, want %q", tt.name, got, tt.file)
		}
		if got := puttyRegistryKey(tt.name); got != tt.reg {
			t.Errorf("puttyRegistryKey(%q) = %q, want %q", tt.name, got, tt.reg)
		}
	}
}
