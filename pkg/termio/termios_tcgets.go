//go:build aix || linux || solaris

package termio

import "golang.org/x/sys/unix"

// These systems read and write termios with the SysV requests.
const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)
