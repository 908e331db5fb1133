//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package termio

import "os"

// prepare decides how to read from f. On these systems (Plan 9, WebAssembly)
// this package cannot change a terminal's mode, so a terminal edits and
// echoes by itself, secrets included.
func prepare(f *os.File, secret bool) (inputMode, func(), error) {
	if IsTerminal(f) {
		return cookedInput, func() {}, nil
	}
	return plainInput, func() {}, nil
}

// colorCapable assumes a terminal here understands ANSI escape sequences.
func colorCapable(*os.File) bool { return true }
