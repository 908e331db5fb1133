package termio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testTimeout bounds every wait in these tests, so that a bug fails a test
// instead of hanging it. Nothing is timed against it.
const testTimeout = 10 * time.Second

// pipe returns an os.Pipe whose ends are closed when the test ends.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

func TestReadLineNotTerminal(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		read     func(context.Context, *os.File, io.Writer) (string, error)
		wantLine string
		wantErr  error
		wantRest string
	}{
		{name: "one line of several", input: "first\nsecond\n", read: ReadLine, wantLine: "first", wantRest: "second\n"},
		{name: "CRLF", input: "first\r\nsecond", read: ReadLine, wantLine: "first", wantRest: "second"},
		{name: "CR kept inside the line", input: "a\rb\n", read: ReadLine, wantLine: "a\rb"},
		{name: "empty line", input: "\nnext\n", read: ReadLine, wantLine: "", wantRest: "next\n"},
		{name: "last line without newline", input: "partial", read: ReadLine, wantLine: "partial"},
		{name: "nothing at all", input: "", read: ReadLine, wantErr: io.EOF},
		{name: "long line", input: string(bytes.Repeat([]byte("u"), 10000)) + "\nrest", read: ReadLine, wantLine: string(bytes.Repeat([]byte("u"), 10000)), wantRest: "rest"},
		{name: "secret", input: "s3cret\nrest", read: ReadSecret, wantLine: "s3cret", wantRest: "rest"},
		{name: "escape sequences are data", input: "\x1b[200~x\x7f\n", read: ReadLine, wantLine: "\x1b[200~x\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := pipe(t)
			go func() {
				w.WriteString(tt.input)
				w.Close()
			}()
			var echo bytes.Buffer
			line, err := tt.read(context.Background(), r, &echo)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLine, line); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
			if echo.Len() != 0 {
				t.Errorf("echoed %q to a non-terminal, want nothing", echo.String())
			}
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRest, string(rest)); diff != "" {
				t.Errorf("input left unread mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadLineNotTerminalEOFAfterLastLine(t *testing.T) {
	r, w := pipe(t)
	w.WriteString("only")
	w.Close()
	if line, err := ReadLine(context.Background(), r, nil); line != "only" || err != nil {
		t.Fatalf("first ReadLine = %q, %v; want \"only\", nil", line, err)
	}
	if line, err := ReadLine(context.Background(), r, nil); line != "" || err != io.EOF {
		t.Fatalf("second ReadLine = %q, %v; want \"\", io.EOF", line, err)
	}
}

// A pipe supports read deadlines, so cancelling interrupts the pending read
// and no input is lost to it.
func TestReadLineNotTerminalCancel(t *testing.T) {
	r, w := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ReadLine(ctx, r, nil)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadLine error = %v, want context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("ReadLine did not return after its context was cancelled")
	}

	w.WriteString("next\n")
	line, err := ReadLine(context.Background(), r, nil)
	if line != "next" || err != nil {
		t.Fatalf("ReadLine after cancel = %q, %v; want \"next\", nil", line, err)
	}
}

func TestReadLineAlreadyCancelledReadsNothing(t *testing.T) {
	r, w := pipe(t)
	w.WriteString("kept\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadLine(ctx, r, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadLine error = %v, want context.Canceled", err)
	}
	if line, err := ReadLine(context.Background(), r, nil); line != "kept" || err != nil {
		t.Fatalf("ReadLine = %q, %v; want \"kept\", nil", line, err)
	}
}

func TestStyler(t *testing.T) {
	on, off := ColorStyler(), Styler{}
	tests := []struct {
		name      string
		style     func(Styler, string) string
		wantColor string
	}{
		{"bold", Styler.Bold, "\x1b[1mok\x1b[0m"},
		{"dim", Styler.Dim, "\x1b[2mok\x1b[0m"},
		{"red", Styler.Red, "\x1b[31mok\x1b[0m"},
		{"green", Styler.Green, "\x1b[32mok\x1b[0m"},
		{"yellow", Styler.Yellow, "\x1b[33mok\x1b[0m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.wantColor, tt.style(on, "ok")); diff != "" {
				t.Errorf("enabled mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("ok", tt.style(off, "ok")); diff != "" {
				t.Errorf("disabled mismatch (-want +got):\n%s", diff)
			}
			if got := tt.style(on, ""); got != "" {
				t.Errorf("styling the empty string = %q, want it empty", got)
			}
		})
	}
}

func TestColorEnabledPipe(t *testing.T) {
	_, w := pipe(t)
	getenv := envOf(map[string]string{"TERM": "xterm-256color"})
	if ColorEnabled(w, getenv) {
		t.Error("ColorEnabled(pipe) = true, want false")
	}
	if NewStyler(w, getenv).Enabled() {
		t.Error("NewStyler(pipe).Enabled() = true, want false")
	}
	if IsTerminal(w) {
		t.Error("IsTerminal(pipe) = true, want false")
	}
}

// BenchmarkReadLinePipe measures reading a pasted sign-in URL one byte at a
// time through the helper goroutine.
func BenchmarkReadLinePipe(b *testing.B) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	line := bytes.Repeat([]byte("u"), 4000)
	line = append(line, '\n')
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := w.Write(line); err != nil { // fits the pipe's buffer
			b.Fatal(err)
		}
		if _, err := ReadLine(context.Background(), r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// envOf is a getenv reading vars, for tests that must not depend on the
// environment the tests run in.
func envOf(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}
