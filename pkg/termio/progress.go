package termio

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress draws a spinner, with the time left, on one terminal line while
// a command waits (for the browser, for a device code). It uses no escape
// sequences: only \r and spaces, which every terminal understands.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	until   time.Time
	width   int
	stop    chan struct{}
	stopped chan struct{}
}

// StartProgress starts drawing label on w, counting down to until (zero:
// no countdown). When w is not a terminal, nothing is ever drawn: a log
// file must not fill with spinner frames.
func StartProgress(w io.Writer, label string, until time.Time) *Progress {
	f, ok := w.(*os.File)
	return startProgress(w, label, until, ok && IsTerminal(f))
}

func startProgress(w io.Writer, label string, until time.Time, draw bool) *Progress {
	p := &Progress{w: w, label: label, until: until}
	if draw {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		p.frame(0) // at once, so that a message never precedes it
		go p.run(p.stop)
	}
	return p
}

func (p *Progress) run(stop <-chan struct{}) {
	defer close(p.stopped)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		p.frame(i)
		p.mu.Unlock()
	}
}

// frame draws the i-th frame of the spinner; called with mu held or
// before the spinner runs.
func (p *Progress) frame(i int) {
	line := fmt.Sprintf("%c %s", `|/-\`[i%4], p.label)
	if !p.until.IsZero() {
		line += fmt.Sprintf(" (%s left)", max(time.Until(p.until), 0).Round(time.Second))
	}
	p.draw(line)
}

// draw replaces the current line; called with mu held.
func (p *Progress) draw(line string) {
	pad := max(p.width-len(line), 0)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", pad))
	p.width = len(line)
}

// Message runs print, which writes whole lines to the same terminal, with
// the spinner's line cleared first so that the message does not land in
// the middle of it; the spinner redraws below the message.
func (p *Progress) Message(print func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		p.draw("")
		fmt.Fprint(p.w, "\r")
	}
	print()
}

// Stop erases the spinner's line. Calling it again does nothing.
func (p *Progress) Stop() {
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw("")
	fmt.Fprint(p.w, "\r")
}
