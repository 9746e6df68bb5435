//go:build !windows

package putty

// NewStore returns the PuTTY store of this platform: on Unix the files
// NewFileStore finds from home and the environment (getenv).
func NewStore(home string, getenv func(string) string) (Store, error) {
	return NewFileStore(home, getenv), nil
}
