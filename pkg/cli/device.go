package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/termio"
)

// signInDevice runs device code sign-in: the person opens the verification
// page on any device and enters the code; flow.WaitForDevice waits until
// the code expires, or for timeout when that is shorter.
func signInDevice(ctx context.Context, env *Env, u ui, p *profile.Profile, client flow.Client, timeout time.Duration, claims string) (*flow.Result, error) {
	da, err := client.StartDevice(ctx, flow.Options{Claims: claims})
	if err != nil {
		return nil, env.account().WithHint(err, p)
	}
	wait := flow.NewDeviceWait(da, env.Now(), timeout)
	u.say("On any device, open %s and enter the code:", da.VerificationURI)
	fmt.Fprintln(env.Err, da.UserCode)
	u.say("The code expires at %s. Waiting for you to sign in (Ctrl-C cancels)…", wait.Expiry.Local().Format("15:04:05"))
	spin := termio.StartProgress(env.Err, "waiting for the sign-in", wait.Deadline)
	res, err := client.WaitForDevice(ctx, da, wait)
	spin.Stop()
	again := env.commandLine() // a new code comes with a new run of the same command
	switch {
	case errors.Is(err, flow.ErrDeviceTimeout):
		return nil, fmt.Errorf("no sign-in within --timeout %s: nothing was stored; to try again, run: %s", timeout, again)
	case errors.Is(err, flow.ErrDeviceDeclined):
		return nil, fmt.Errorf("the sign-in was declined on the verification page: nothing was stored; to retry, run: %s", again)
	case errors.Is(err, flow.ErrDeviceExpired):
		return nil, fmt.Errorf("the code expired before the sign-in finished: nothing was stored; for a new code, run: %s", again)
	case errors.Is(err, flow.ErrDeviceUnknown):
		return nil, fmt.Errorf("the server did not recognise the device code; to try again, run: %s", again)
	case err != nil:
		return nil, env.account().WithHint(err, p)
	}
	return res, nil
}
