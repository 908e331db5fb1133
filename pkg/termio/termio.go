// Package termio is the terminal layer of the CLI: it reads the lines a person
// types or pastes at a prompt, decides whether output may be coloured, and
// draws a progress spinner while a command waits.
//
// It exists because a terminal in canonical ("cooked") mode silently cuts a
// line short: Linux keeps at most 4,095 bytes of a line and macOS 1,024, while
// the sign-in URLs people paste here run to 1,500–4,000 characters and more.
// On unix terminals ReadLine therefore takes the line editing over from the
// kernel. Nothing else in the CLI should know about terminals; this package in
// turn knows nothing about commands, flags or sign-in.
package termio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ReadLine reads one line that a person types or pastes into in, and returns
// it without the line ending.
//
// The decision rules:
//   - If in is a unix terminal, ReadLine switches it to non-canonical mode with
//     kernel echo off (signals stay on, so Ctrl-C still raises SIGINT) and edits
//     the line itself, with no length limit: printable input is echoed to echo,
//     Backspace erases a character, Ctrl-U the whole line, Enter ends the line,
//     and Ctrl-D on an empty line returns io.EOF. Escape sequences (arrow keys,
//     and the bracketed-paste markers ESC[200~ and ESC[201~) are dropped. The
//     terminal's previous mode is always restored before ReadLine returns.
//   - If in is a terminal elsewhere (Windows), the terminal edits and echoes the
//     line itself and ReadLine just reads it.
//   - If in is not a terminal, ReadLine reads up to and including the next '\n',
//     strips a trailing '\r', echoes nothing, and returns io.EOF if the input
//     ended before any byte. A last line without '\n' is returned as a line.
//
// In every case ReadLine reads one byte at a time, so nothing after the line
// is consumed: the rest of the input stays for the next reader.
//
// When ctx is done ReadLine restores the terminal and returns ctx.Err()
// at once. The read it was waiting on is abandoned: if in supports read
// deadlines (pipes, and terminals opened non-blocking) it is interrupted;
// otherwise (os.Stdin usually) it lingers in a goroutine until input arrives,
// and that one byte is lost. Callers cancel on SIGINT anyway, so a lingering
// read matters only to a program that keeps reading after cancelling.
//
// echo may be nil, meaning io.Discard; errors writing to it are ignored,
// because the line still arrives without its echo.
func ReadLine(ctx context.Context, in *os.File, echo io.Writer) (string, error) {
	return readLine(ctx, in, echo, false)
}

// ReadSecret is ReadLine for secrets (a client secret): it follows the same
// rules but never echoes what is typed, and writes "\r\n" to echo when the
// line ends, because the Enter key was not echoed either. Unlike
// golang.org/x/term.ReadPassword it has no line-length limit and honours ctx.
// On systems where this package cannot turn terminal echo off (neither unix
// nor Windows) the terminal may echo the secret.
func ReadSecret(ctx context.Context, in *os.File, echo io.Writer) (string, error) {
	return readLine(ctx, in, echo, true)
}

// IsTerminal reports whether f is a terminal. Unlike term.IsTerminal(int(f.Fd()))
// it leaves f's blocking mode alone, so f keeps supporting read deadlines.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	isTerm := false
	err := withFd(f, func(fd uintptr) { isTerm = term.IsTerminal(int(fd)) })
	return err == nil && isTerm
}

// inputMode is how a line is read from a particular input.
type inputMode int

const (
	// plainInput is not a terminal: read the bytes as they come, echo nothing.
	plainInput inputMode = iota
	// cookedInput is a terminal that edits and echoes the line itself
	// (Windows and other systems without termios).
	cookedInput //lint:ignore U1000 used on non-unix systems
	// silentInput is a cooked terminal whose echo was turned off for a secret.
	silentInput
	// editedInput is a terminal in non-canonical mode: this package edits and echoes.
	editedInput
)

// testHookPrepared, when set by a test, runs once the input mode is chosen
// and the terminal switched, so that a test knows when it may type.
var testHookPrepared func(inputMode)

func readLine(ctx context.Context, in *os.File, echo io.Writer, secret bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if echo == nil {
		echo = io.Discard
	}
	mode, restore, err := prepare(in, secret)
	if err != nil {
		return "", fmt.Errorf("could not prepare the terminal for input: %w", err)
	}
	src := newByteSource(in)
	// Restore first: the terminal must come back even if abandoning the read
	// were to take a while.
	defer func() {
		restore()
		src.close()
	}()
	if testHookPrepared != nil {
		testHookPrepared(mode)
	}

	if mode == editedInput {
		return edit(ctx, src, echo, secret)
	}
	line, err := readPlain(ctx, src)
	switch {
	case ctx.Err() != nil && mode != plainInput:
		// Leave the cursor at the start of a fresh line for whatever the
		// caller prints about the interruption.
		io.WriteString(echo, "\r\n")
	case err == nil && mode == silentInput:
		io.WriteString(echo, "\r\n")
	}
	return line, err
}

// readPlain reads bytes up to '\n' without interpreting them.
func readPlain(ctx context.Context, src *byteSource) (string, error) {
	var line []byte
	for {
		b, err := src.next(ctx)
		switch {
		case errors.Is(err, io.EOF):
			if len(line) == 0 {
				return "", io.EOF
			}
			return string(trimCR(line)), nil
		case err != nil:
			if ctxErr := ctx.Err(); ctxErr != nil {
				return "", ctxErr
			}
			return "", fmt.Errorf("could not read input: %w", err)
		case b == '\n':
			return string(trimCR(line)), nil
		}
		line = append(line, b)
	}
}

func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// withFd runs fn with f's descriptor without f.Fd's side effect of putting f
// into blocking mode (which would cost f its read deadlines).
func withFd(f *os.File, fn func(fd uintptr)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}
