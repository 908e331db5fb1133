// Package interrupt turns SIGINT and SIGTERM into a cancelled context, and
// makes sure they end the process even while it is stuck where no context
// reaches: a read from a FIFO, a hung network file system.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Grace is how long a command has, after the first signal, to stop by
// itself (closing listeners, releasing locks) before the process ends.
const Grace = 5 * time.Second

// Signaled is why a context of Context was cancelled: a signal arrived.
type Signaled struct{ Signal os.Signal }

func (s Signaled) Error() string { return "interrupted by " + s.Signal.String() }

// SignalOf is the signal that cancelled ctx (a context of Context), nil
// when none did.
func SignalOf(ctx context.Context) os.Signal {
	var s Signaled
	if errors.As(context.Cause(ctx), &s) {
		return s.Signal
	}
	return nil
}

// ExitStatus is the status of a process that a signal ended, as shells
// report one: 128 plus the signal's number, so 130 for SIGINT (Ctrl-C)
// and 143 for SIGTERM; 1 for a signal without a number.
func ExitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// Context returns a context cancelled by the first SIGINT or SIGTERM, with
// Signaled as its cause. A second signal, or the end of grace after the
// first, ends the process with the first signal's ExitStatus, after a line
// on stderr; a fifth of the way through grace, a process still running
// says that a second signal stops it at once. stop undoes it all.
func Context(parent context.Context, grace time.Duration, stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancelCause := context.WithCancelCause(parent)
	cancel := func() { cancelCause(context.Canceled) }
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-signals:
		case <-done:
			return
		}
		cancelCause(Signaled{Signal: first})
		notice, end := time.NewTimer(grace/5), time.NewTimer(grace)
		defer notice.Stop()
		defer end.Stop()
		for {
			select {
			case <-signals:
				fmt.Fprintln(stderr, "interrupted again: stopped at once")
				os.Exit(ExitStatus(first))
			case <-notice.C:
				fmt.Fprintln(stderr, "interrupted: still stopping; interrupt again to stop at once")
			case <-end.C:
				fmt.Fprintf(stderr, "interrupted: still busy %s later, stopped\n", grace)
				os.Exit(ExitStatus(first))
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}

// Sleep waits for d, or less when ctx ends first (a signal, a deadline),
// and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
