package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// signInDevice runs device code sign-in: the person opens the verification
// page on any device and enters the code; we poll at the server's pace.
func signInDevice(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client) (*flow.Result, error) {
	da, err := client.StartDevice(ctx)
	if err != nil {
		return nil, withHint(err, hintContext(p))
	}
	u.say("On any device, open %s and enter the code:", da.VerificationURI)
	fmt.Fprintln(env.Err, da.UserCode)
	if !da.Expiry.IsZero() {
		u.say("The code expires at %s. Waiting for you to sign in (Ctrl-C cancels)…", da.Expiry.Local().Format("15:04:05"))
	}
	spin := startProgress(env, "waiting for the sign-in", da.Expiry)
	res, err := client.PollDevice(ctx, da)
	spin.Stop()
	var ee *entra.Error
	if errors.As(err, &ee) {
		switch ee.Err {
		case "authorization_declined":
			return nil, errors.New("the sign-in was declined on the verification page: nothing was stored; run link --device again to retry")
		case "expired_token":
			return nil, errors.New("the code expired before the sign-in finished: nothing was stored; run link --device again for a new code")
		case "bad_verification_code":
			return nil, errors.New("the server did not recognise the device code: run link --device again")
		}
	}
	if err != nil {
		return nil, withHint(err, hintContext(p))
	}
	return res, nil
}
