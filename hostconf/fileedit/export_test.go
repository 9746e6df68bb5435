package fileedit

import (
	"context"
	"os"
)

// EditFileCrashing is EditFile with a hook that runs between the
// temporary file's sync and its rename; a hook error stands for a crash
// at that point.
func EditFileCrashing(ctx context.Context, path string, o EditOptions, edit func([]byte) ([]byte, error), hook func(tmp string) error) (EditResult, error) {
	return fileWriter{beforeRename: hook}.edit(ctx, path, o, edit)
}

// WriteFileAtomicCrashing is WriteFileAtomic with the same hook.
func WriteFileAtomicCrashing(path string, data []byte, perm os.FileMode, hook func(tmp string) error) error {
	target, err := resolveLink(path)
	if err != nil {
		return err
	}
	_, err = fileWriter{beforeRename: hook}.replace(target, data, perm)
	return err
}
