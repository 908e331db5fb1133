package callback

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

// WaitAnswering waits like Wait, while answering a person who says the
// sign-in is done before its callback arrived: each time enter returns nil
// (they pressed Enter), tell gets why nothing usable has arrived yet (see
// NothingArrived). enter blocks until then and must return once its
// context is done; a nil enter means nobody is there to ask. WaitAnswering
// returns only after enter has returned for the last time, so that a
// terminal it reads is restored before the caller goes on.
func (l *Listener) WaitAnswering(ctx context.Context, enter func(context.Context) error, tell func(string)) (Result, error) {
	if enter != nil {
		readerCtx, stopReader := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for enter(readerCtx) == nil {
				tell(l.NothingArrived(false))
			}
		}()
		defer func() { stopReader(); <-done }()
	}
	return l.Wait(ctx)
}

// NothingArrived explains why no usable callback has arrived so far, from
// what reached the listener: nothing at all (the redirect URI points
// elsewhere, or something blocks the way), only other paths (a proxy
// forwarding the wrong path), or only callbacks of another sign-in. While
// waiting (final false) it also says where nothing has arrived; at the
// timeout (final true) the caller has said so already.
func (l *Listener) NothingArrived(final bool) string {
	return nothingArrived(l.Stats(), l.RedirectURI(), l.configured, final)
}

func nothingArrived(s Stats, listening, registered string, final bool) string {
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

// EveryNetwork reports whether the listener is bound to a wildcard address
// (0.0.0.0 or ::), which takes connections from every network, not only
// from this machine.
func (l *Listener) EveryNetwork() bool { return everyNetwork(l.Addrs()) }

func everyNetwork(addrs []net.Addr) bool {
	for _, a := range addrs {
		if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			return true
		}
	}
	return false
}
