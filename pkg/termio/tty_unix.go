//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package termio

import (
	"os"

	"golang.org/x/sys/unix"
)

// prepare decides how to read from f. A terminal is switched to
// non-canonical mode, so that the kernel's line length limit no longer
// applies, with its echo off, because the editor echoes instead. ISIG stays
// on so that Ctrl-C still raises SIGINT, and VMIN=1, VTIME=0 makes each read
// return as soon as one key arrives. restore puts the previous mode back.
func prepare(f *os.File, secret bool) (inputMode, func(), error) {
	old, err := getTermios(f)
	if err != nil {
		return plainInput, func() {}, nil // not a terminal
	}
	edited := *old
	edited.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL
	edited.Lflag |= unix.ISIG
	edited.Cc[unix.VMIN] = 1
	edited.Cc[unix.VTIME] = 0
	if err := setTermios(f, &edited); err != nil {
		return plainInput, nil, err
	}
	// A failed restore cannot be helped from here: it means the terminal
	// went away.
	return editedInput, func() { setTermios(f, old) }, nil
}

func getTermios(f *os.File) (*unix.Termios, error) {
	var t *unix.Termios
	var err error
	if cerr := withFd(f, func(fd uintptr) { t, err = unix.IoctlGetTermios(int(fd), ioctlGetTermios) }); cerr != nil {
		return nil, cerr
	}
	return t, err
}

func setTermios(f *os.File, t *unix.Termios) error {
	var err error
	if cerr := withFd(f, func(fd uintptr) { err = unix.IoctlSetTermios(int(fd), ioctlSetTermios, t) }); cerr != nil {
		return cerr
	}
	return err
}

// colorCapable reports whether the terminal f understands ANSI escape
// sequences; every unix terminal but TERM=dumb (checked by the caller) does.
func colorCapable(*os.File) bool { return true }
