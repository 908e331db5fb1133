package diagnose

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ms365auth/ms365auth/pkg/profile"
)

// precheckTimeout bounds the registration check link makes before it
// shows a sign-in link: on a slow network the sign-in starts at most this
// much later, without the check.
const precheckTimeout = 2 * time.Second

// registrationCodes are the answers that mean the app registration or the
// tenant cannot work, whoever signs in: stop before anyone opens a browser.
var registrationCodes = []int{50011, 50194, 90002, 700016, 9002332}

// BeforeSignIn asks the authorize endpoint, as doctor does
// (CheckRegistration), what it says about p's app registration before
// anyone signs in, and returns doctor's finding and fix when it names one
// of registrationCodes. Anything else, including no answer within
// precheckTimeout, lets the sign-in go on as before. Device code sign-in
// needs no check: its first request meets the same errors. Of env, only
// HTTPClient and Hints are used.
func BeforeSignIn(ctx context.Context, env *Env, p *profile.Profile) error {
	if p.Method == profile.MethodDevice {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, precheckTimeout)
	defer cancel()
	c := CheckRegistration(ctx, env, p, p.RedirectURI)
	if c.Status == Fail && slices.Contains(registrationCodes, c.AADSTS) {
		return fmt.Errorf("the app registration cannot work: %s\nfix: %s (checked before the sign-in; --no-check skips it)", c.Summary, c.Fix)
	}
	return nil
}
