//go:build unix

package account

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
