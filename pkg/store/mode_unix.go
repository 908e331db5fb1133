//go:build unix

package store

import (
	"io/fs"
	"os"
	"syscall"
)

// access reports whether fi's permission bits let users other than its
// owner in, and whether it belongs to this process's user.
func access(fi fs.FileInfo) (open, mine bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().Perm()&0o077 != 0, ok && int(st.Uid) == os.Getuid()
}

// foreignOwner returns the owner of fi when it is neither this process's
// user nor root.
func foreignOwner(fi fs.FileInfo) (uid int, foreign bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Getuid() || st.Uid == 0 {
		return 0, false
	}
	return int(st.Uid), true
}
