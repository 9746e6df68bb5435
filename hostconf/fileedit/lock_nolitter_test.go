package fileedit_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/nbtunnel/nbtunnel/hostconf/fileedit"
)

// TestLockExclusiveNoLitter: lockers that race with the removal of the lock
// file still exclude each other, and no lock file is left at the end.
func TestLockExclusiveNoLitter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	counter := filepath.Join(dir, "counter")
	os.WriteFile(counter, []byte("0"), 0o600)
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := fileedit.LockFile(context.Background(), path, 0)
				if err != nil {
					errs <- err
					return
				}
				data, _ := os.ReadFile(counter)
				n, _ := strconv.Atoi(string(data))
				os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600)
				if err := l.Unlock(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(counter)
	if got, want := string(data), strconv.Itoa(workers*rounds); got != want {
		t.Errorf("counter = %s, want %s: two lockers held the lock at once", got, want)
	}
	if _, err := os.Lstat(path + fileedit.LockSuffix); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
}
