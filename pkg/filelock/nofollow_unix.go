//go:build unix

package filelock

import "syscall"

// noFollow, added to an open's flags, makes it fail on a symbolic link:
// whoever planted the link would choose which file is created or opened.
const noFollow = syscall.O_NOFOLLOW
