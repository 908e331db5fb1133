//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package termio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// fakeTerminal is a pseudo-terminal: the code under test reads and writes the
// slave side, as it would a person's terminal; the test types into the master
// side and collects what the terminal would show.
type fakeTerminal struct {
	master, slave *os.File

	mu      sync.Mutex
	shown   bytes.Buffer  // everything written to the slave, as the master reads it
	changed chan struct{} // signalled when shown grows
}

func newFakeTerminal(t *testing.T) *fakeTerminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("could not open a pseudo-terminal: %v", err)
	}
	ft := &fakeTerminal{master: master, slave: slave, changed: make(chan struct{}, 1)}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				ft.mu.Lock()
				ft.shown.Write(buf[:n])
				ft.mu.Unlock()
				select {
				case ft.changed <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return // EIO once every slave descriptor is closed
			}
		}
	}()
	t.Cleanup(func() {
		slave.Close()
		<-readerDone
		master.Close()
	})
	return ft
}

// shownText returns what the terminal has shown so far.
func (ft *fakeTerminal) shownText() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.shown.String()
}

// waitShown waits until the terminal has shown want, or fails the test.
func (ft *fakeTerminal) waitShown(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		if got := ft.shownText(); strings.Contains(got, want) {
			return got
		}
		select {
		case <-ft.changed:
		case <-deadline:
			t.Fatalf("terminal never showed %q; it showed %q", want, ft.shownText())
		}
	}
}

// typeText writes to the master side in the background, as a person typing
// or pasting; a large paste blocks until the reader drains it.
func (ft *fakeTerminal) typeText(t *testing.T, text string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := ft.master.WriteString(text)
		errc <- err
	}()
	t.Cleanup(func() {
		// A write still blocked here means the reader stopped early, which
		// the test has reported already.
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("typing into the terminal: %v", err)
			}
		default:
		}
	})
}

// termios returns the terminal's current settings.
func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := getTermios(f)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

// onScreen is what the master reads for text written to the slave: the
// terminal's output processing (ONLCR) turns each "\n" into "\r\n".
func onScreen(text string) string { return strings.ReplaceAll(text, "\n", "\r\n") }

type readFunc func(context.Context, *os.File, io.Writer) (string, error)

type readOutcome struct {
	line string
	err  error
}

// startRead runs read on in (echoing to the slave) in the background, and
// returns once the terminal has been switched, so that the test may type.
func startRead(t *testing.T, ctx context.Context, ft *fakeTerminal, in *os.File, read readFunc) <-chan readOutcome {
	t.Helper()
	prepared := make(chan inputMode, 1)
	testHookPrepared = func(m inputMode) { prepared <- m }
	t.Cleanup(func() { testHookPrepared = nil })
	done := make(chan readOutcome, 1)
	go func() {
		line, err := read(ctx, in, ft.slave)
		done <- readOutcome{line, err}
	}()
	select {
	case m := <-prepared:
		if m != editedInput {
			t.Fatalf("input mode = %d, want editedInput (%d)", m, editedInput)
		}
	case r := <-done:
		t.Fatalf("read returned before switching the terminal: %q, %v", r.line, r.err)
	case <-time.After(testTimeout):
		t.Fatal("read never switched the terminal")
	}
	return done
}

func waitResult(t *testing.T, done <-chan readOutcome) readOutcome {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(testTimeout):
		t.Fatal("read did not return")
		return readOutcome{}
	}
}

func TestReadLineTerminal(t *testing.T) {
	// A sign-in URL as long as the longest seen, and then some.
	longURL := "https://login.microsoftonline.com/common/oauth2/nativeclient?code=" + strings.Repeat("0.AXoA", 1655) + "&state=s"
	if len(longURL) < 10000 {
		t.Fatalf("test URL is only %d bytes", len(longURL))
	}
	tests := []struct {
		name     string
		typed    string
		read     readFunc
		wantLine string
		wantErr  error
		wantShow string // what the terminal shows, before output processing
	}{
		{name: "10,000-character paste", typed: longURL + "\r", read: ReadLine, wantLine: longURL, wantShow: longURL + "\r\n"},
		{name: "backspace editing", typed: "abcX\x7f\x08d\r", read: ReadLine, wantLine: "abd", wantShow: "abcX\b \b\b \bd\r\n"},
		{name: "ctrl-u", typed: "oops\x15code\r", read: ReadLine, wantLine: "code", wantShow: "oops\b \b\b \b\b \b\b \bcode\r\n"},
		{name: "bracketed paste", typed: "\x1b[200~" + longURL + "\x1b[201~\r", read: ReadLine, wantLine: longURL, wantShow: longURL + "\r\n"},
		{name: "arrow keys ignored", typed: "ab\x1b[D\x1b[Cc\n", read: ReadLine, wantLine: "abc", wantShow: "abc\r\n"},
		{name: "ctrl-d on empty line", typed: "\x04", read: ReadLine, wantErr: io.EOF, wantShow: ""},
		{name: "secret", typed: "s3cr\x7fret\r", read: ReadSecret, wantLine: "s3cret", wantShow: "\r\n"},
		{name: "long secret", typed: longURL + "\r", read: ReadSecret, wantLine: longURL, wantShow: "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTerminal(t)
			before := termios(t, ft.slave)

			done := startRead(t, context.Background(), ft, ft.slave, tt.read)
			ft.typeText(t, tt.typed)
			r := waitResult(t, done)

			if r.err != tt.wantErr {
				t.Fatalf("error = %v, want %v", r.err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLine, r.line); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, termios(t, ft.slave)); diff != "" {
				t.Errorf("terminal settings not restored (-before +after):\n%s", diff)
			}
			// Everything was written before the read returned; wait for the
			// master to have read it all, then compare the whole.
			want := onScreen(tt.wantShow)
			ft.waitShown(t, want)
			if diff := cmp.Diff(want, ft.shownText()); diff != "" {
				t.Errorf("terminal showed mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// What follows the line stays in the terminal for the next read.
func TestReadLineTerminalLeavesTheRest(t *testing.T) {
	ft := newFakeTerminal(t)
	done := startRead(t, context.Background(), ft, ft.slave, ReadLine)
	ft.typeText(t, "one\rtwo\r")
	if r := waitResult(t, done); r.line != "one" || r.err != nil {
		t.Fatalf("first ReadLine = %q, %v; want \"one\", nil", r.line, r.err)
	}
	done = startRead(t, context.Background(), ft, ft.slave, ReadLine)
	if r := waitResult(t, done); r.line != "two" || r.err != nil {
		t.Fatalf("second ReadLine = %q, %v; want \"two\", nil", r.line, r.err)
	}
}

func TestReadLineTerminalCancel(t *testing.T) {
	ft := newFakeTerminal(t)
	before := termios(t, ft.slave)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := startRead(t, ctx, ft, ft.slave, ReadLine)
	ft.typeText(t, "abc")
	ft.waitShown(t, "abc") // the editor is mid-line, waiting for more
	cancel()
	r := waitResult(t, done)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", r.err)
	}
	if diff := cmp.Diff(before, termios(t, ft.slave)); diff != "" {
		t.Errorf("terminal settings not restored (-before +after):\n%s", diff)
	}
	want := onScreen("abc\r\n")
	ft.waitShown(t, want)
	if diff := cmp.Diff(want, ft.shownText()); diff != "" {
		t.Errorf("terminal showed mismatch (-want +got):\n%s", diff)
	}

	// The slave was opened non-blocking, so the abandoned read was
	// interrupted and took nothing: the next line arrives whole.
	if ft.slave.SetReadDeadline(time.Time{}) != nil {
		t.Skip("this system's pseudo-terminal has no read deadlines, so the abandoned read lingers")
	}
	done = startRead(t, context.Background(), ft, ft.slave, ReadLine)
	ft.typeText(t, "next\r")
	if r := waitResult(t, done); r.line != "next" || r.err != nil {
		t.Fatalf("ReadLine after cancel = %q, %v; want \"next\", nil", r.line, r.err)
	}
}

// A terminal inherited as a blocking descriptor, as os.Stdin usually is,
// has no read deadlines: the abandoned read lingers, but ReadLine still
// returns at once and restores the terminal.
func TestReadLineTerminalCancelBlockingDescriptor(t *testing.T) {
	ft := newFakeTerminal(t)
	fd, err := unix.Dup(int(ft.slave.Fd())) // Fd makes the shared description blocking
	if err != nil {
		t.Fatal(err)
	}
	stdin := os.NewFile(uintptr(fd), "stdin")
	t.Cleanup(func() {
		// Give a lingering read its line so that it, and the descriptor,
		// can end; otherwise the terminal never hangs up.
		ft.master.WriteString("x\n")
		stdin.Close()
	})
	if err := stdin.SetReadDeadline(time.Time{}); err == nil {
		t.Fatal("the duplicate descriptor supports deadlines; the test needs one that does not")
	}
	before := termios(t, stdin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := startRead(t, ctx, ft, stdin, ReadLine)
	cancel()
	r := waitResult(t, done)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", r.err)
	}
	if diff := cmp.Diff(before, termios(t, stdin)); diff != "" {
		t.Errorf("terminal settings not restored (-before +after):\n%s", diff)
	}
}

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name    string
		noColor string
		term    string
		pipe    bool
		want    bool
	}{
		{name: "terminal", term: "xterm-256color", want: true},
		{name: "NO_COLOR set", noColor: "1", term: "xterm-256color", want: false},
		{name: "NO_COLOR any value", noColor: "false", term: "xterm-256color", want: false},
		{name: "TERM=dumb", term: "dumb", want: false},
		{name: "pipe", term: "xterm-256color", pipe: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := envOf(map[string]string{"NO_COLOR": tt.noColor, "TERM": tt.term})
			f := newFakeTerminal(t).slave
			if tt.pipe {
				_, f = pipe(t)
			}
			if got := ColorEnabled(f, getenv); got != tt.want {
				t.Errorf("ColorEnabled = %v, want %v", got, tt.want)
			}
			if got := NewStyler(f, getenv).Green("ok") != "ok"; got != tt.want {
				t.Errorf("NewStyler styles = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	r, _ := pipe(t)
	tests := []struct {
		name string
		f    *os.File
		want bool
	}{
		{"pseudo-terminal", newFakeTerminal(t).slave, true},
		{"pipe", r, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsTerminal(tt.f); got != tt.want {
			t.Errorf("IsTerminal(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
