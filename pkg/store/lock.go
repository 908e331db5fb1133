package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ms365auth/ms365auth/pkg/filelock"
)

// Lock takes the cross-process lock of a profile, waiting until ctx is
// done. Whoever refreshes a profile's tokens holds it, and re-reads the
// store after taking it: N processes asking at once cause one refresh.
// The lock is advisory (flock) and released by the kernel if the holder dies.
// The lock files live in dir (statedir.LockDir).
func Lock(ctx context.Context, dir, profile string) (unlock func(), err error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the lock directory: %w", err)
	}
	unlock, err = filelock.Lock(ctx, filepath.Join(dir, profile+".lock"))
	switch {
	case err == nil:
		return unlock, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("another ms365auth process holds the lock of profile %q: %w", profile, err)
	}
	return nil, fmt.Errorf("cannot lock profile %q: %w", profile, err)
}
