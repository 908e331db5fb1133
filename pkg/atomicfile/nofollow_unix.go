//go:build unix

package atomicfile

import "syscall"

// NoFollow, added to an open's flags, makes it fail on a symbolic link:
// whoever planted the link would choose which file is created or opened.
const NoFollow = syscall.O_NOFOLLOW
