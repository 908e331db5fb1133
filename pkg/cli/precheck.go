package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ms365auth/ms365auth/pkg/diagnose"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// precheckTimeout bounds the registration check link makes before it
// shows a sign-in link: on a slow network the sign-in starts at most this
// much later, without the check.
const precheckTimeout = 2 * time.Second

// registrationCodes are the answers that mean the app registration or the
// tenant cannot work, whoever signs in: stop before anyone opens a browser.
var registrationCodes = []int{50011, 50194, 90002, 700016, 9002332}

// checkRegistrationFirst asks the authorize endpoint, as doctor does
// (diagnose.CheckRegistration), what it says about the profile's app
// registration before anyone signs in, and returns doctor's finding and
// fix when it names one of registrationCodes. Anything else, including no
// answer within precheckTimeout, lets the sign-in go on as before. Device code sign-in
// needs no check: its first request meets the same errors.
func checkRegistrationFirst(ctx context.Context, env *Env, p *profile.Profile) error {
	if p.Method == profile.MethodDevice {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, precheckTimeout)
	defer cancel()
	c := diagnose.CheckRegistration(ctx, &diagnose.Env{HTTPClient: env.HTTPClient, Hints: env.account().HintContext}, p, p.RedirectURI)
	if c.Status == diagnose.Fail && slices.Contains(registrationCodes, c.AADSTS) {
		return fmt.Errorf("the app registration cannot work: %s\nfix: %s (checked before the sign-in; --no-check skips it)", c.Summary, c.Fix)
	}
	return nil
}
