package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/notify"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

type reauthOptions struct {
	Profile        string
	Scopes         []string
	RemoveScopes   []string
	Force          bool
	NonInteractive bool
	NotifyCmd      string
	DeviceWait     time.Duration // wait this long for a device code sign-in from a phone; 0: off
	NoBrowser      bool
	Timeout        time.Duration
	Claims         string // a claims challenge's JSON: sign in with it
}

func newReauthCmd(env *Env) *cobra.Command {
	o := &reauthOptions{}
	cmd := &cobra.Command{
		Use:   "reauth",
		Short: "Renew a linked profile, signing in again only when needed",
		Long: `Renew a linked profile: refresh its tokens, or sign in again when Entra wants a
person or the profile should ask for more scopes (--scopes).

With the same scopes and a working refresh token it refreshes silently: a
cron job running "reauth --non-interactive" keeps the refresh token from
dying after 90 days unused, and every rotated refresh token is saved.
It signs in again, with the profile's method and redirect URI, when
--scopes adds scopes (the consent page asks only for the new ones), when
Entra wants a person (MFA, consent, an expired or revoked refresh token),
or with --force.

--scopes adds to the scopes the profile asks for and --remove-scopes takes
some away (a silent refresh does). Entra keeps consent it was given until it
is revoked (My Apps, or an admin), so a removed scope is no longer asked for
but may still be granted: status shows both.

With --non-interactive, or without a terminal, it never waits for a person:
it exits 3 with one line saying what to run, after running --notify-cmd.
With --non-interactive a silent refresh prints nothing, so cron mails only
what needs attention.

With --device-wait, an unattended reauth that needs a person starts a device
code sign-in instead: --notify-cmd gets the code and address
(MS365AUTH_USER_CODE, MS365AUTH_VERIFICATION_URL, and MS365AUTH_MESSAGE, one
line for a phone), and the run waits up to the duration given (a code lives
15 minutes) for the person to enter it on any device, then keeps the tokens
and exits 0. Declined, expired, not entered in time, blocked by Conditional
Access, or a confidential client: --notify-cmd is run again with the sign-in
link (MS365AUTH_SIGNIN_URL) and the reason, and it exits 3. While one run
waits, another says so and exits 3; token keeps serving the valid access token.`,
		Example: `  ms365auth reauth --scopes calendar-write,mail-send
  # crontab: keep the link alive, tell me when I must sign in
  17 8 * * * ms365auth reauth --non-interactive --notify-cmd 'notify-send "ms365auth" "$MS365AUTH_MESSAGE Link: $MS365AUTH_SIGNIN_URL"'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = profileName(cmd)
			if err := decodeClaimsFlag(&o.Claims); err != nil {
				return err
			}
			if o.DeviceWait != 0 && (o.DeviceWait < 0 || o.NotifyCmd == "") {
				return errors.New("--device-wait needs a positive duration and --notify-cmd, which sends the code while the run waits: add --notify-cmd 'COMMAND'")
			}
			return reauthRun(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Scopes, "scopes", nil, "scopes or features to add to the profile's (incremental consent)")
	f.StringSliceVar(&o.RemoveScopes, "remove-scopes", nil, "scopes or features the profile should no longer ask for")
	f.BoolVar(&o.Force, "force", false, "sign in again even if a silent refresh would do")
	f.BoolVar(&o.NonInteractive, "non-interactive", false, "never wait for a person: exit 3 when one is needed")
	f.StringVar(&o.NotifyCmd, "notify-cmd", "", `shell command run when a person must sign in; it gets MS365AUTH_PROFILE, MS365AUTH_MESSAGE and, for the primary method, MS365AUTH_SIGNIN_URL (with --device-wait: MS365AUTH_USER_CODE and MS365AUTH_VERIFICATION_URL)`)
	f.DurationVar(&o.DeviceWait, "device-wait", 0, "unattended, when a person is needed: send a device code through --notify-cmd and wait this long (at most 15m) for it to be entered on a phone")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "only print the sign-in link; do not open a browser")
	f.DurationVar(&o.Timeout, "timeout", 0, timeoutUsage)
	claimsFlag(f, &o.Claims)
	return cmd
}

func reauthRun(ctx context.Context, env *Env, o *reauthOptions) error {
	unattended := o.NonInteractive || !isTerminal(env.In)
	plan, err := env.account().PlanReauth(ctx, account.ReauthRequest{Profile: o.Profile, Scopes: o.Scopes, RemoveScopes: o.RemoveScopes, Force: o.Force, Claims: o.Claims})
	if plan != nil {
		for _, w := range plan.Warnings {
			fmt.Fprintln(env.Err, "warning: "+w)
		}
	}
	var te *account.TransientError
	if errors.As(err, &te) {
		warnRefreshTokenEnding(env, plan.Profile, plan.Record) // unchanged by the failure
	}
	if err != nil {
		return err
	}
	p, sr := plan.Profile, plan.SignIn
	if plan.Sandbox {
		if unattended {
			return needPerson(ctx, env, p, sr, o.NotifyCmd)
		}
		return sr
	}
	u := newUI(env, p.Sandbox)
	switch {
	case plan.Renewed != nil && plan.Narrowed:
		u.say("Profile %q now asks for %s; the access token is valid until %s.", p.Name, strings.Join(entra.ResourceScopes(p.Scopes), " "), plan.Renewed.Expiry.Local().Format(time.RFC1123))
		u.say("Entra keeps the consent it was given until it is revoked (My Apps, or an admin), so a removed scope may still be granted.")
		warnRefreshTokenEnding(env, p, plan.Renewed)
		return nil
	case plan.Renewed != nil:
		// Unattended, all is well: say nothing, since cron mails whatever
		// a job prints.
		if !o.NonInteractive {
			u.say("Refreshed profile %q; the access token is valid until %s.", p.Name, plan.Renewed.Expiry.Local().Format(time.RFC1123))
		}
		warnRefreshTokenEnding(env, p, plan.Renewed)
		return nil
	}

	if unattended {
		env.account().RememberClaims(sr)
		if o.DeviceWait > 0 {
			if done, err := reauthByDevice(ctx, env, plan, o, sr); done {
				return err
			}
		}
		return needPerson(ctx, env, p, sr, o.NotifyCmd)
	}
	u.say("Signing in again for profile %q: %s.", p.Name, strings.TrimSuffix(sr.Reason, "."))
	if sr.Fix != "" {
		u.say("%s", sr.Fix)
	}
	secret, err := plan.Secret()
	if err != nil {
		return err
	}
	res, err := signIn(ctx, env, u, p, newClient(env, p, secret), signInOptions{NoBrowser: o.NoBrowser, Timeout: o.Timeout, LoginHint: plan.LoginHint(), Claims: sr.Claims})
	if err != nil {
		return err
	}
	if err := plan.CheckAccount(res); err != nil {
		return err
	}
	return keepLink(ctx, env, u, p, res, account.KeepOptions{Store: plan.Store, Secret: secret})
}

// needPerson ends an unattended reauth: it runs the notification command
// (account.Service.Notification) and returns the exit-3 error.
func needPerson(ctx context.Context, env *Env, p *profile.Profile, sr *account.SignInRequiredError, notifyCmd string) error {
	if notifyCmd == "" {
		return sr
	}
	message, link := env.account().Notification(p, sr)
	runNotify(ctx, env, notifyCmd, p.Name, message, link, account.DeviceNotice{})
	return sr
}

// reauthByDevice runs reauth --device-wait: done says the run is over
// (signed in again, or err says why not); otherwise sr's reason now says
// why the sign-in link is sent instead.
func reauthByDevice(ctx context.Context, env *Env, plan *account.Reauth, o *reauthOptions, sr *account.SignInRequiredError) (done bool, err error) {
	p, oid := plan.Profile, ""
	if plan.Record != nil {
		oid = plan.Record.ObjectID
	}
	_, err = env.account().ReauthByDevice(ctx, account.DeviceSignIn{Profile: p, Store: plan.Store, Claims: sr.Claims, Wait: o.DeviceWait, ObjectID: oid,
		Notify: func(n account.DeviceNotice) { runNotify(ctx, env, o.NotifyCmd, p.Name, n.Message(), "", n) }})
	var fb *account.DeviceFallbackError
	if errors.As(err, &fb) {
		sr.Reason += "; " + fb.Reason
		return false, nil
	}
	return true, err // signed in (quietly, as a refresh), or another run waits
}

// runNotify runs --notify-cmd with the notification's variables, never a
// token: a device code's, or else the sign-in link ("" when there is none).
func runNotify(ctx context.Context, env *Env, notifyCmd, profile, message, link string, device account.DeviceNotice) {
	vars := []string{"MS365AUTH_PROFILE=" + profile, "MS365AUTH_MESSAGE=" + message, "MS365AUTH_SIGNIN_URL=" + link,
		"MS365AUTH_USER_CODE=" + device.UserCode, "MS365AUTH_VERIFICATION_URL=" + device.VerificationURL}
	// stdout is for data
	if err := notify.Run(ctx, notifyCmd, append(os.Environ(), vars...), env.Err, notify.Timeout); err != nil {
		fmt.Fprintf(env.Err, "warning: --notify-cmd failed: %v\n", strings.TrimSpace(err.Error()))
	}
}
