package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// DefaultAltRedirectURI is the alternate method's redirect URI; the port is
// chosen at run time (Entra ignores the port of loopback redirect URIs).
const DefaultAltRedirectURI = "http://localhost/api/ms365auth"

// signInAlt runs the seed's alternate method: a callback listener receives
// the browser's redirect, and the sign-in finishes by itself. Enter pressed
// early explains what has (not) arrived; Ctrl-C or the timeout cancel with
// the listener closed and nothing stored.
func signInAlt(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, o signInOptions) (*flow.Result, error) {
	lb, err := client.StartLoopback(callback.Config{
		RedirectURI: p.RedirectURI, Listen: p.Listen, TLSCert: p.TLSCert, TLSKey: p.TLSKey,
		Hint: hintContext(p),
	}, flow.Options{LoginHint: o.LoginHint, Claims: o.Claims})
	if err != nil {
		return nil, err
	}
	l := lb.Listener
	defer l.Close()
	if everyNetwork(l.Addrs()) {
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
	showLink(env, u, lb.URL, thisMachine, o.NoBrowser, "open the link above "+where+", or "+u.withoutPasting(p.Name))
	u.say("Waiting for the browser at %s (up to %s; Ctrl-C cancels).", l.RedirectURI(), o.Timeout)

	res, err := waitForCallback(ctx, env, u, l, p.RedirectURI, o.Timeout)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("no sign-in reached %s within %s: %s", l.RedirectURI(), o.Timeout, nothingArrived(l.Stats(), l.RedirectURI(), p.RedirectURI, true))
	case err != nil:
		return nil, err
	}
	u.say("The browser came back; redeeming the code.")
	return lb.Redeem(ctx, res.Code)
}

// waitForCallback waits for the listener's one callback, with a countdown,
// and on a terminal answers Enter pressed early. The terminal reader is
// stopped and has restored the terminal before this returns.
func waitForCallback(ctx context.Context, env *Env, u ui, l *callback.Listener, registered string, timeout time.Duration) (callback.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	spin := startProgress(env, "waiting for the browser", deadline)
	defer spin.Stop()
	if isTerminal(env.In) {
		u.say("After signing in, the page says \"This window can be closed\" and this finishes by itself.")
		readerCtx, stopReader := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			explainOnEnter(readerCtx, env, u, l, registered, spin)
		}()
		defer func() { stopReader(); <-done }()
	}
	return l.Wait(ctx)
}

// explainOnEnter answers a person who presses Enter ("I authorized
// successfully") before the callback arrived, then keeps waiting.
func explainOnEnter(ctx context.Context, env *Env, u ui, l *callback.Listener, registered string, spin *progress) {
	for {
		if _, err := termio.ReadLine(ctx, env.In, io.Discard); err != nil {
			return
		}
		spin.say(u, "%s; still waiting.", nothingArrived(l.Stats(), l.RedirectURI(), registered, false))
	}
}

// nothingArrived explains, while waiting (final false) or at the timeout
// (final true), why no usable callback has arrived.
func nothingArrived(s callback.Stats, listening, registered string, final bool) string {
	switch {
	case s.Requests == 0:
		msg := "nothing has reached " + listening + " yet; "
		if final {
			msg = ""
		}
		return msg + "check that " + registrationAdvice(registered) + ", and that no proxy or firewall stands between the browser and this machine"
	case s.Callbacks == 0:
		return fmt.Sprintf("%d request(s) reached the listener, none on the callback path; check the path of the registered redirect URI and the proxy's forwarding", s.Requests)
	default:
		return fmt.Sprintf("%d callback(s) arrived but belonged to another sign-in (wrong state); use the link printed by this run", s.BadState)
	}
}

// registrationAdvice names the redirect URI as the app registration must
// hold it. Entra ignores the port of a loopback redirect URI, so the
// registered form has none; naming the random port of this run would
// invite a registration that only this run matches.
func registrationAdvice(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil || !entra.IsLoopbackHost(u.Hostname()) {
		return "exactly this redirect URI is registered for the app: " + redirect
	}
	u.Host = u.Hostname()
	if strings.Contains(u.Host, ":") {
		u.Host = "[" + u.Host + "]"
	}
	return "the redirect URI " + u.String() + " is registered for the app (the port is ignored: register it without one)"
}

// everyNetwork reports whether one of the addresses is a wildcard (0.0.0.0
// or ::), which takes connections from every network, not only this machine.
func everyNetwork(addrs []net.Addr) bool {
	for _, a := range addrs {
		if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			return true
		}
	}
	return false
}
