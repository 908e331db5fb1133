package termio

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// feedAll feeds input to an editor until it finishes, and reports the line,
// what was echoed, how many bytes of input were left over, and the error.
func feedAll(input string, secret bool) (line, echo string, rest int, err error) {
	var out strings.Builder
	e := &editor{out: &out, secret: secret}
	for i := 0; i < len(input); i++ {
		done, ferr := e.feed(input[i])
		if done {
			if ferr != nil {
				return "", out.String(), len(input) - i - 1, ferr
			}
			return string(e.line), out.String(), len(input) - i - 1, nil
		}
	}
	return string(e.line), out.String(), 0, io.ErrUnexpectedEOF
}

func TestEditor(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name     string
		input    string
		secret   bool
		wantLine string
		wantErr  error
		wantEcho string
		wantRest int
	}{
		{name: "enter as CR", input: "abc\r", wantLine: "abc", wantEcho: "abc\r\n"},
		{name: "enter as LF", input: "abc\n", wantLine: "abc", wantEcho: "abc\r\n"},
		{name: "empty line", input: "\r", wantLine: "", wantEcho: "\r\n"},
		{name: "long line", input: long + "\r", wantLine: long, wantEcho: long + "\r\n"},
		{name: "input after the line is left", input: "one\rtwo\r", wantLine: "one", wantEcho: "one\r\n", wantRest: 4},
		{name: "delete and backspace", input: "abcX\x7f\x08d\r", wantLine: "abd", wantEcho: "abcX\b \b\b \bd\r\n"},
		{name: "backspace on empty line", input: "\x7fa\r", wantLine: "a", wantEcho: "a\r\n"},
		{name: "backspace erases a whole UTF-8 character", input: "né\x7f\r", wantLine: "n", wantEcho: "né\b \b\r\n"},
		{name: "ctrl-u erases the line", input: "garbage\x15good\r", wantLine: "good", wantEcho: "garbage" + strings.Repeat("\b \b", 7) + "good\r\n"},
		{name: "ctrl-d on empty line", input: "\x04", wantErr: io.EOF, wantEcho: ""},
		{name: "ctrl-d mid-line is ignored", input: "a\x04b\r", wantLine: "ab", wantEcho: "ab\r\n"},
		{name: "ctrl-d after erasing everything", input: "a\x7f\x04", wantErr: io.EOF, wantEcho: "a\b \b"},
		{name: "bracketed paste markers", input: "\x1b[200~https://e.test/?code=1\x1b[201~\r", wantLine: "https://e.test/?code=1", wantEcho: "https://e.test/?code=1\r\n"},
		{name: "newline inside a paste ends the line", input: "\x1b[200~abc\ndef\x1b[201~", wantLine: "abc", wantEcho: "abc\r\n", wantRest: 9},
		{name: "arrow keys", input: "ab\x1b[D\x1b[1;5C\x1bOAc\r", wantLine: "abc", wantEcho: "abc\r\n"},
		{name: "alt+key", input: "a\x1bbc\r", wantLine: "ac", wantEcho: "ac\r\n"},
		{name: "lone escape then enter", input: "a\x1b\r", wantLine: "a", wantEcho: "a\r\n"},
		{name: "control byte cuts a sequence short", input: "ab\x1b[2\x7fc\r", wantLine: "ac", wantEcho: "ab\b \bc\r\n"},
		{name: "raw 8-bit CSI is not echoed", input: "a\x9b2Jb\r", wantLine: "a\x9b2Jb", wantEcho: "a\ufffd2Jb\r\n"},
		{name: "C1 control in UTF-8 is not echoed", input: "a\u009b2J\r", wantLine: "a\u009b2J", wantEcho: "a\ufffd2J\r\n"},
		{name: "bidi override is not echoed", input: "a\u202eb\r", wantLine: "a\u202eb", wantEcho: "a\ufffdb\r\n"},
		{name: "UTF-8 is echoed whole", input: "né€\r", wantLine: "né€", wantEcho: "né€\r\n"},
		{name: "erasing an invalid byte", input: "a\x9b\x7fb\r", wantLine: "ab", wantEcho: "a\ufffd\b \bb\r\n"},
		{name: "other control keys ignored", input: "a\tb\x17\x01c\r", wantLine: "abc", wantEcho: "abc\r\n"},
		{name: "secret echoes only the line end", input: "s3\x7fcret\r", secret: true, wantLine: "scret", wantEcho: "\r\n"},
		{name: "secret ctrl-u", input: "wrong\x15right\r", secret: true, wantLine: "right", wantEcho: "\r\n"},
		{name: "long secret", input: long + "\r", secret: true, wantLine: long, wantEcho: "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, echo, rest, err := feedAll(tt.input, tt.secret)
			if err != tt.wantErr {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLine, line); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEcho, echo); diff != "" {
				t.Errorf("echo mismatch (-want +got):\n%s", diff)
			}
			if rest != tt.wantRest {
				t.Errorf("%d bytes of input left over, want %d", rest, tt.wantRest)
			}
		})
	}
}
