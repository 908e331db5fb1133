// Package notify runs a person's notification command (reauth
// --notify-cmd) in the platform's shell: bounded in time, and, when it
// runs past its limit, ended together with everything it started, so that
// a hung notifier leaves nothing behind in a cron job.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Timeout bounds a notification command: a notifier that hangs must not
// keep a cron job waiting.
const Timeout = 30 * time.Second

// waitDelay is how long Run waits, after ending the command, for the
// output pipes its children may still hold.
const waitDelay = 2 * time.Second

// Run runs script in the platform's shell (/bin/sh -c, or cmd.exe /C on
// Windows) with env as its whole environment and its output on out. It
// runs in a process group of its own; when timeout passes or ctx ends, the
// whole group is killed, not only the shell.
func Run(ctx context.Context, script string, env []string, out io.Writer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := shellCommand(ctx, script)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.Canceled) {
		return fmt.Errorf("it ran longer than %s and was ended", timeout)
	}
	return err
}
