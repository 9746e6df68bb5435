//go:build !windows

package hostconf

// NewPuttyStore returns the PuTTY store of this platform: on Unix the files
// NewPuttyFileStore finds from home and the environment (getenv).
func NewPuttyStore(home string, getenv func(string) string) (PuttyStore, error) {
	return NewPuttyFileStore(home, getenv), nil
}
