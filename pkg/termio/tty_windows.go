//go:build windows

package termio

import (
	"os"

	"golang.org/x/sys/windows"
)

// prepare decides how to read from f. A Windows console edits and echoes a
// line itself, without the limit that unix terminals have, so it is left in
// charge; for a secret only its echo is turned off, until restore.
func prepare(f *os.File, secret bool) (inputMode, func(), error) {
	old, err := consoleMode(f)
	if err != nil {
		return plainInput, func() {}, nil // not a console
	}
	if !secret {
		return cookedInput, func() {}, nil
	}
	silent := old&^windows.ENABLE_ECHO_INPUT | windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT
	if err := setConsoleMode(f, silent); err != nil {
		return plainInput, nil, err
	}
	return silentInput, func() { setConsoleMode(f, old) }, nil
}

// colorCapable reports whether the console f interprets ANSI escape
// sequences, turning that on if it can (Windows 10 and later). The setting
// is left on: it is what Windows Terminal uses anyway.
func colorCapable(f *os.File) bool {
	mode, err := consoleMode(f)
	if err != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return setConsoleMode(f, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}

func consoleMode(f *os.File) (uint32, error) {
	var mode uint32
	var err error
	if cerr := withFd(f, func(fd uintptr) { err = windows.GetConsoleMode(windows.Handle(fd), &mode) }); cerr != nil {
		return 0, cerr
	}
	return mode, err
}

func setConsoleMode(f *os.File, mode uint32) error {
	var err error
	if cerr := withFd(f, func(fd uintptr) { err = windows.SetConsoleMode(windows.Handle(fd), mode) }); cerr != nil {
		return cerr
	}
	return err
}
