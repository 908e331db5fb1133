package termio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keys the editor gives a meaning to.
const (
	keyCtrlD     = 0x04
	keyBackspace = 0x08
	keyCtrlU     = 0x15
	keyEscape    = 0x1b
	keyDelete    = 0x7f // what most terminals send for Backspace
)

// escState tracks where the editor is inside an escape sequence.
type escState int

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [ : parameters until a final byte
	escSS3            // after ESC O : one more byte
)

// editor builds one line from the keys of a terminal in non-canonical mode,
// doing the little a cooked terminal does, minus its length limit. It assumes
// each character takes one column, which holds for the URLs and codes typed
// here; erasing a wide character leaves half of it on screen.
type editor struct {
	line   []byte
	out    io.Writer
	secret bool // echo nothing but the final "\r\n"
	esc    escState
	char   []byte // bytes of a UTF-8 character not yet echoed
}

// feed takes one byte of input. It reports done when the line is complete,
// with io.EOF when Ctrl-D ended an empty line.
func (e *editor) feed(b byte) (done bool, err error) {
	switch e.esc {
	case escStart:
		switch {
		case b == '[':
			e.esc = escCSI
			return false, nil
		case b == 'O':
			e.esc = escSS3
			return false, nil
		case b >= 0x20:
			e.esc = escNone // Alt+key: drop it
			return false, nil
		}
		e.esc = escNone // a lone Escape; b is a key of its own
	case escCSI:
		if b >= 0x20 && b <= 0x3f {
			return false, nil // parameter or intermediate byte
		}
		e.esc = escNone
		if b >= 0x40 && b <= 0x7e {
			// The final byte. The whole sequence is dropped: arrow keys
			// (ESC[D) as well as the bracketed-paste markers ESC[200~ and
			// ESC[201~, whose content is kept as if it were typed.
			return false, nil
		}
		// A control byte cuts the sequence short and counts as a key.
	case escSS3:
		e.esc = escNone
		if b >= 0x20 {
			return false, nil // application-mode arrow or function key
		}
	}

	switch {
	case b == '\r' || b == '\n':
		io.WriteString(e.out, "\r\n")
		return true, nil
	case b == keyDelete || b == keyBackspace:
		e.erase(1)
	case b == keyCtrlU:
		e.erase(len(e.line))
	case b == keyCtrlD:
		if len(e.line) == 0 {
			return true, io.EOF
		}
	case b == keyEscape:
		e.esc = escStart
	case b < 0x20:
		// Other control keys (Tab, Ctrl-W, …) have no meaning here.
	default:
		e.line = append(e.line, b)
		if !e.secret {
			e.echo(b)
		}
	}
	return false, nil
}

// echo shows printable ASCII as it comes, and a UTF-8 character once it
// is whole. A byte that starts no character (a raw 0x9B is an 8-bit CSI),
// a C1 control or a bidi control is shown as U+FFFD, one column, as the
// terminal must not act on it.
func (e *editor) echo(b byte) {
	if b < utf8.RuneSelf && len(e.char) == 0 {
		e.out.Write([]byte{b})
		return
	}
	e.char = append(e.char, b)
	if !utf8.FullRune(e.char) {
		return
	}
	r, size := utf8.DecodeRune(e.char)
	switch {
	case r == utf8.RuneError && size <= 1, unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
		io.WriteString(e.out, "\ufffd")
	default:
		e.out.Write(e.char[:size])
	}
	rest := e.char[size:]
	e.char = nil
	for _, c := range rest { // bytes that did not belong to the character
		e.echo(c)
	}
}

// erase removes up to n characters from the end of the line, and from the screen.
func (e *editor) erase(n int) {
	e.char = nil // a character cut short is erased with the rest
	erased := 0
	for ; erased < n && len(e.line) > 0; erased++ {
		_, size := utf8.DecodeLastRune(e.line)
		e.line = e.line[:len(e.line)-size]
	}
	if erased > 0 && !e.secret {
		io.WriteString(e.out, strings.Repeat("\b \b", erased))
	}
}

// edit reads keys from src into an editor until the line is complete.
func edit(ctx context.Context, src *byteSource, out io.Writer, secret bool) (string, error) {
	e := &editor{out: out, secret: secret}
	for {
		b, err := src.next(ctx)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			io.WriteString(out, "\r\n") // a fresh line for the caller's message
			return "", ctx.Err()
		case errors.Is(err, io.EOF):
			// The terminal hung up. A line that was never entered is not
			// returned: it may be cut short.
			return "", io.EOF
		default:
			return "", fmt.Errorf("could not read from the terminal: %w", err)
		}
		done, err := e.feed(b)
		if done {
			if err != nil {
				return "", err
			}
			return string(e.line), nil
		}
	}
}
