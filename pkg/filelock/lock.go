// Package filelock takes cross-process lock files (flock), created 0600
// and never through a symbolic link. It is for serialising writers of
// the settings and of a profile's tokens; it holds no data.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// ErrSymlink is a lock file that is a symbolic link.
var ErrSymlink = errors.New("a symbolic link, which ms365auth does not follow: remove it")

// Lock takes an exclusive advisory lock (flock) on the file at path,
// created 0600 when missing, trying until ctx is done; then it returns
// ctx's error. A symbolic link at path is refused (ErrSymlink), never
// followed: whoever planted it would choose which file is created or
// opened. The kernel releases the lock if the holder dies.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	fl := flock.New(path, flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow))
	if ok, err := fl.TryLockContext(ctx, 5*time.Millisecond); !ok {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr // err is ctxErr again: said once
		}
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is %w", path, ErrSymlink)
		}
		return nil, err
	}
	return func() { fl.Unlock() }, nil
}
