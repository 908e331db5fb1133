package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// DefaultAltRedirectURI is the alternate method's redirect URI (see
// profile.DefaultAltRedirectURI), as the flags' help names it.
const DefaultAltRedirectURI = profile.DefaultAltRedirectURI

// signInAlt runs the alternate method: a callback listener receives
// the browser's redirect, and the sign-in finishes by itself. Enter pressed
// early explains what has (not) arrived; Ctrl-C or the timeout cancel with
// the listener closed and nothing stored.
func signInAlt(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	lb, err := client.StartLoopback(callback.Config{
		RedirectURI: p.RedirectURI, Listen: p.Listen, TLSCert: p.TLSCert, TLSKey: p.TLSKey,
		Hint: env.account().HintContext(p),
	}, flow.Options{LoginHint: o.LoginHint, Claims: o.Claims})
	if err != nil {
		return nil, err
	}
	l := lb.Listener
	defer l.Close()
	if l.EveryNetwork() {
		fmt.Fprintf(env.Err, "warning: the listener takes connections from every network (--listen %s); behind a reverse proxy on this machine, --listen 127.0.0.1:PORT keeps it private\n", p.Listen)
	}
	// A loopback redirect reaches only a browser on this machine; a public
	// one (behind a reverse proxy) reaches this listener from anywhere.
	thisMachine := true
	if ru, err := url.Parse(p.RedirectURI); err == nil {
		thisMachine = entra.IsLoopbackHost(ru.Hostname())
	}
	where := "in a browser on this machine"
	if !thisMachine {
		where = "on any device"
	}
	showLink(env, u, lb.URL, thisMachine, o.NoBrowser, "open the link above "+where+", or "+withoutPasting(env, p))
	u.say("Waiting for the browser at %s (up to %s; Ctrl-C cancels).", l.RedirectURI(), o.Timeout)

	res, err := waitForCallback(ctx, env, u, l, o.Timeout)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("no sign-in reached %s within %s: %s", l.RedirectURI(), o.Timeout, l.NothingArrived(true))
	case err != nil:
		return nil, err
	}
	u.say("The browser came back; redeeming the code.")
	return lb.Redeem(ctx, res.Code)
}

// waitForCallback waits for the listener's one callback, with a countdown,
// and on a terminal answers Enter pressed early ("I signed in") with what
// has (not) arrived. The terminal reader is stopped and has restored the
// terminal before this returns.
func waitForCallback(ctx context.Context, env *Env, u ui, l *callback.Listener, timeout time.Duration) (callback.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	spin := termio.StartProgress(env.Err, "waiting for the browser", deadline)
	defer spin.Stop()
	var enter func(context.Context) error
	if isTerminal(env.In) {
		u.say("After signing in, the page says \"This window can be closed\" and this finishes by itself.")
		enter = func(ctx context.Context) error {
			_, err := termio.ReadLine(ctx, env.In, io.Discard)
			return err
		}
	}
	return l.WaitAnswering(ctx, enter, func(why string) {
		spin.Message(func() { u.say("%s; still waiting.", why) })
	})
}
