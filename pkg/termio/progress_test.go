package termio

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressOffTerminalDrawsNothing(t *testing.T) {
	var out bytes.Buffer
	p := StartProgress(&out, "waiting for the browser", time.Now().Add(time.Minute))
	p.Message(func() { fmt.Fprintln(&out, "a message") })
	p.Stop()
	p.Stop()
	if got, want := out.String(), "a message\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestProgressDrawsAndErases(t *testing.T) {
	var out lockedBuffer
	p := startProgress(&out, "waiting", time.Time{}, true)
	p.Stop()
	got := out.String()
	// The first frame is drawn at once; more may follow on a slow machine,
	// each as wide as the first. Stop blanks that width and returns to the
	// start of the line.
	if !strings.HasPrefix(got, "\r| waiting") {
		t.Errorf("output %q does not start with the first frame", got)
	}
	if want := "\r" + strings.Repeat(" ", len("| waiting")) + "\r"; !strings.HasSuffix(got, want) {
		t.Errorf("output %q does not end erasing the line (%q)", got, want)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("output %q holds an escape sequence", got)
	}
}

func TestProgressCountsDown(t *testing.T) {
	var out lockedBuffer
	p := startProgress(&out, "waiting", time.Now().Add(time.Hour), true)
	p.Stop()
	if got := out.String(); !strings.Contains(got, " left)") {
		t.Errorf("output %q shows no time left", got)
	}
}

func TestProgressMessageClearsTheLine(t *testing.T) {
	var out lockedBuffer
	p := startProgress(&out, "waiting", time.Time{}, true)
	p.Message(func() { out.WriteString("nothing has arrived\n") })
	p.Stop()
	got := out.String()
	blank := "\r" + strings.Repeat(" ", len("| waiting")) + "\r"
	if !strings.Contains(got, blank+"nothing has arrived\n") {
		t.Errorf("output %q does not clear the spinner before the message", got)
	}
	// After Stop, a message is printed as is.
	out.Reset()
	p.Message(func() { out.WriteString("done\n") })
	if got := out.String(); got != "done\n" {
		t.Errorf("after Stop, output = %q, want the message alone", got)
	}
}

// lockedBuffer is a bytes.Buffer that the test may read while the spinner
// may still write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
