package putty

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
	"github.com/nbtunnel/nbtunnel/hostconf/hostkeys"
)

// FileStore is Unix PuTTY's store: one file per session under
// SessionDir, host keys in HostKeysFile. It is also usable on Windows for
// a PuTTY built with file storage, and in tests.
type FileStore struct {
	// Dir is PuTTY's configuration directory (~/.putty).
	Dir string
	// SessionDir holds one Key=Value file per session.
	SessionDir string
	// HostKeysFile is the host-key cache (Dir/sshhostkeys).
	HostKeysFile string
}

// NewFileStore finds PuTTY's files the way Unix PuTTY (0.78) does:
// $PUTTYDIR if set; else $XDG_CONFIG_HOME/putty (or home/.config/putty)
// if that exists; else home/.putty. $PUTTYSESSIONS and $PUTTYSSHHOSTKEYS
// override the sessions directory and the host-key file. Nothing is
// created.
func NewFileStore(home string, getenv func(string) string) *FileStore {
	dir := getenv("PUTTYDIR")
	if dir == "" {
		xdg := getenv("XDG_CONFIG_HOME")
		if xdg != "" {
			xdg = filepath.Join(xdg, "putty")
		} else {
			xdg = filepath.Join(home, ".config", "putty")
		}
		if _, err := os.Stat(xdg); err == nil {
			dir = xdg
		} else {
			dir = filepath.Join(home, ".putty")
		}
	}
	s := &FileStore{
		Dir:          dir,
		SessionDir:   getenv("PUTTYSESSIONS"),
		HostKeysFile: getenv("PUTTYSSHHOSTKEYS"),
	}
	if s.SessionDir == "" {
		s.SessionDir = filepath.Join(dir, "sessions")
	}
	if s.HostKeysFile == "" {
		s.HostKeysFile = filepath.Join(dir, "sshhostkeys")
	}
	return s
}

// Where returns the session's file path.
func (s *FileStore) Where(name string) string {
	return filepath.Join(s.SessionDir, puttyFileName(name))
}

// Load reads the session's file.
func (s *FileStore) Load(name string) (*Session, error) {
	path := s.Where(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: %s does not exist (list sessions with: ls %s)", ErrNoSession, name, path, s.SessionDir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading PuTTY session %q: %w", name, err)
	}
	return ParseSessionFile(name, data), nil
}

// Save writes the session's file atomically (WriteFileAtomic), creating
// the sessions directory (mode 0700) if needed. The backup of the previous
// version is moved to Dir/nbtunnel-backup/, since PuTTY would list a
// backup left in SessionDir as a session.
func (s *FileStore) Save(sess *Session) error {
	path := s.Where(sess.Name)
	if err := os.MkdirAll(s.SessionDir, 0o700); err != nil {
		return fmt.Errorf("saving PuTTY session %q: %w", sess.Name, err)
	}
	data := sess.MarshalFile()
	if err := fileedit.WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("saving PuTTY session %q: %w", sess.Name, err)
	}
	// PuTTY lists every file in SessionDir as a session: keep the backup
	// WriteFileAtomic made out of there.
	backupDir := filepath.Join(s.Dir, "nbtunnel-backup")
	if _, err := os.Stat(path + fileedit.BackupSuffix); err == nil {
		if err := os.MkdirAll(backupDir, 0o700); err == nil {
			os.Rename(path+fileedit.BackupSuffix, filepath.Join(backupDir, filepath.Base(path)))
		}
	}
	*sess = *ParseSessionFile(sess.Name, data)
	return nil
}

// HostKeys reads HostKeysFile; a missing file is an empty cache.
func (s *FileStore) HostKeys() (hostkeys.Checker, error) {
	data, err := os.ReadFile(s.HostKeysFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading PuTTY host keys: %w", err)
	}
	return hostkeys.ParsePuttyHostKeys(data, s.HostKeysFile), nil
}
