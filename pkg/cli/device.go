package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// deviceCodeLifetime is Entra's device code lifetime (entra-facts §3), for
// a server that does not say.
const deviceCodeLifetime = 15 * time.Minute

// signInDevice runs device code sign-in: the person opens the verification
// page on any device and enters the code; we poll at the server's pace
// until the code expires, or for timeout when that is shorter.
func signInDevice(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, timeout time.Duration, claims string) (*flow.Result, error) {
	da, err := client.StartDevice(ctx, flow.Options{Claims: claims})
	if err != nil {
		return nil, withHint(err, p)
	}
	if da.Expiry.IsZero() {
		da.Expiry = env.Now().Add(deviceCodeLifetime)
	}
	deadline, cutShort := da.Expiry, false
	if timeout > 0 && env.Now().Add(timeout).Before(deadline) {
		deadline, cutShort = env.Now().Add(timeout), true
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	u.say("On any device, open %s and enter the code:", da.VerificationURI)
	fmt.Fprintln(env.Err, da.UserCode)
	u.say("The code expires at %s. Waiting for you to sign in (Ctrl-C cancels)…", da.Expiry.Local().Format("15:04:05"))
	spin := termio.StartProgress(env.Err, "waiting for the sign-in", deadline)
	res, err := client.PollDevice(ctx, da)
	spin.Stop()
	if errors.Is(err, context.DeadlineExceeded) {
		if cutShort {
			return nil, fmt.Errorf("no sign-in within --timeout %s: nothing was stored; run link --device again", timeout)
		}
		err = &entra.Error{Err: "expired_token"}
	}
	var ee *entra.Error
	if errors.As(err, &ee) {
		switch ee.Err {
		case "authorization_declined", "access_denied": // Entra's word, and RFC 8628's
			return nil, errors.New("the sign-in was declined on the verification page: nothing was stored; run link --device again to retry")
		case "expired_token":
			return nil, errors.New("the code expired before the sign-in finished: nothing was stored; run link --device again for a new code")
		case "bad_verification_code":
			return nil, errors.New("the server did not recognise the device code: run link --device again")
		}
	}
	if err != nil {
		return nil, withHint(err, p)
	}
	return res, nil
}
