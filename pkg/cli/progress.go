package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a spinner with the time left on one terminal line while a
// command waits (for the browser, for a device code). It draws nothing when
// stderr is not a terminal, and uses no escape sequences: only \r and spaces.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	until   time.Time
	width   int
	stop    chan struct{}
	stopped chan struct{}
}

func startProgress(env *Env, label string, until time.Time) *progress {
	p := &progress{w: env.Err, label: label, until: until}
	f, ok := env.Err.(*os.File)
	if !ok || !isTerminal(f) {
		return p
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go p.run(p.stop)
	return p
}

func (p *progress) run(stop <-chan struct{}) {
	defer close(p.stopped)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		p.mu.Lock()
		line := fmt.Sprintf("%c %s", `|/-\`[i%4], p.label)
		if !p.until.IsZero() {
			line += fmt.Sprintf(" (%s left)", max(time.Until(p.until), 0).Round(time.Second))
		}
		p.draw(line)
		p.mu.Unlock()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// draw replaces the current line; called with mu held.
func (p *progress) draw(line string) {
	pad := max(p.width-len(line), 0)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", pad))
	p.width = len(line)
}

// say prints a message on its own line; the spinner redraws below it.
func (p *progress) say(u ui, format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		p.draw("")
		fmt.Fprint(p.w, "\r")
	}
	u.say(format, a...)
}

// Stop erases the spinner line.
func (p *progress) Stop() {
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
