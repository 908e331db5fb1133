// Package interrupt turns SIGINT and SIGTERM into a cancelled context, and
// makes sure they end the process even while it is stuck where no context
// reaches: a read from a FIFO, a hung network file system.
package interrupt

import (
	"context"
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

// Context returns a context cancelled by the first SIGINT or SIGTERM. A
// second signal, or the end of grace after the first, ends the process
// with exit status 1, after a line on stderr; a fifth of the way through
// grace, a process still running says that a second signal stops it at
// once. stop undoes it all.
func Context(parent context.Context, grace time.Duration, stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-signals:
		case <-done:
			return
		}
		cancel()
		notice, end := time.NewTimer(grace/5), time.NewTimer(grace)
		defer notice.Stop()
		defer end.Stop()
		for {
			select {
			case <-signals:
				fmt.Fprintln(stderr, "interrupted again: stopped at once")
				os.Exit(1)
			case <-notice.C:
				fmt.Fprintln(stderr, "interrupted: still stopping; interrupt again to stop at once")
			case <-end.C:
				fmt.Fprintf(stderr, "interrupted: still busy %s later, stopped\n", grace)
				os.Exit(1)
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
