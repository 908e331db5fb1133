//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package termio

import "golang.org/x/sys/unix"

// The BSDs, macOS included, read and write termios with the TIOC requests.
const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)
