package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ms365auth/ms365auth/pkg/account"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/notify"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
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

// claimsReason is why a claims challenge needs a person, the same words
// from api, token --claims and reauth --claims.
const claimsReason = "a claims challenge asks for a new sign-in"

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
	old, err := env.account().Profile(o.Profile)
	if err != nil {
		return err
	}
	if old.Sandbox {
		if o.NonInteractive || !isTerminal(env.In) {
			return needPerson(ctx, env, old, sandboxEnded(), o.NotifyCmd, "")
		}
		return sandboxEnded()
	}
	// Read again under the lock: a store move may have switched the
	// settings and emptied the store they named before.
	linked, err := env.account().LoadLinked(ctx, o.Profile)
	if err != nil {
		return err
	}
	old, st, rec := linked.Profile, linked.Store, linked.Record
	p := *old
	if len(o.Scopes) > 0 || len(o.RemoveScopes) > 0 {
		if p.Scopes, err = entra.ChangeScopes(old.Scopes, o.Scopes, o.RemoveScopes); err != nil {
			return err
		}
	}
	scopesChanged := !slices.Equal(p.Scopes, old.Scopes)
	added := entra.OtherResourceScopes(p.Scopes, old.Scopes)
	u := newUI(env, p.Sandbox)

	// A refusal may carry a claims challenge the sign-in must answer, and a
	// fix beyond signing in; --claims wins, then one saved because it was
	// too long for the command printed (account.InlineClaims).
	if o.Claims == "" {
		saved, warnings, err := env.account().SavedClaims(p.Name)
		for _, w := range warnings {
			fmt.Fprintln(env.Err, "warning: "+w)
		}
		if err != nil {
			fmt.Fprintln(env.Err, "warning: "+err.Error())
		}
		o.Claims = saved
	}
	why, claims, fix := "", o.Claims, ""
	switch {
	case o.Claims != "":
		why = claimsReason
	case o.Force:
		why = "--force"
	case rec == nil:
		why = "no tokens are stored"
	case len(added) > 0:
		why = "the scopes changed: " + strings.Join(added, " ") + " need consent"
	default:
		var narrower []string // only removals: try the narrower set
		if scopesChanged {
			narrower = p.Scopes
		}
		renewed, err := env.account().Renew(ctx, p.Name, narrower)
		var sr *account.SignInRequiredError
		switch {
		case err == nil && scopesChanged:
			// Only removals: the refresh with fewer scopes worked, so the
			// profile asks for those from now on.
			if err := env.account().Settings().Update(func(c *profile.Config) {
				if cur := c.Get(p.Name); cur != nil {
					cur.Scopes = p.Scopes
				}
			}); err != nil {
				return fmt.Errorf("refreshed, but the profile's new scopes could not be saved: %w", err)
			}
			u.say("Profile %q now asks for %s; the access token is valid until %s.", p.Name, strings.Join(entra.ResourceScopes(p.Scopes), " "), renewed.Expiry.Local().Format(time.RFC1123))
			u.say("Entra keeps the consent it was given until it is revoked (My Apps, or an admin), so a removed scope may still be granted.")
			warnRefreshTokenEnding(env, p.Name, renewed)
			return nil
		case err == nil:
			// Unattended, all is well: say nothing, since cron mails
			// whatever a job prints.
			if !o.NonInteractive {
				u.say("Refreshed profile %q; the access token is valid until %s.", p.Name, renewed.Expiry.Local().Format(time.RFC1123))
			}
			warnRefreshTokenEnding(env, p.Name, renewed)
			return nil
		case errors.As(err, &sr):
			why, fix = sr.Reason, sr.Fix
			claims = firstNonEmpty(claims, sr.Claims)
		default:
			var te *account.TransientError
			if errors.As(err, &te) {
				warnRefreshTokenEnding(env, p.Name, rec) // unchanged by the failure
			}
			return err
		}
	}

	if o.NonInteractive || !isTerminal(env.In) {
		// The command to run must do what this one was asked: a plain
		// reauth would refresh silently and never add the scopes.
		run := "ms365auth reauth" + profileFlag(p.Name)
		if scopesChanged && len(o.Scopes) > 0 {
			run += listFlag("--scopes", o.Scopes)
		}
		if scopesChanged && len(o.RemoveScopes) > 0 {
			run += listFlag("--remove-scopes", o.RemoveScopes)
		}
		if o.Force {
			run += " --force"
		}
		sr := &account.SignInRequiredError{Profile: p.Name, Reason: why, Run: run, Fix: fix, Claims: claims}
		env.account().RememberClaims(sr)
		if o.DeviceWait > 0 {
			if done, err := reauthByDevice(ctx, env, &p, st, rec, o, claims, sr); done {
				return err
			}
		}
		return needPerson(ctx, env, &p, sr, o.NotifyCmd, claims)
	}
	u.say("Signing in again for profile %q: %s.", p.Name, strings.TrimSuffix(why, "."))
	if fix != "" {
		u.say("%s", fix)
	}
	secret := ""
	if p.Confidential {
		if secret, err = st.LoadSecret(p.Name); err != nil {
			return fmt.Errorf("cannot read the client secret of profile %q: %w", p.Name, err)
		}
	}
	hint := ""
	if rec != nil && strings.Contains(rec.Account, "@") {
		hint = rec.Account // a user name, not a display name or sub
	}
	res, err := signIn(ctx, env, u, &p, newClient(env, &p, secret), signInOptions{NoBrowser: o.NoBrowser, Timeout: o.Timeout, LoginHint: hint, Claims: claims})
	if err != nil {
		return err
	}
	// reauth renews a link; it must not quietly put another account's
	// tokens under this profile.
	if rec != nil && rec.ObjectID != "" && res.Claims.OID != "" && res.Claims.OID != rec.ObjectID {
		return fmt.Errorf("signed in as %s, but profile %q is linked to %s: nothing was changed; sign in as %s, or link the other account under its own profile: ms365auth link --profile NAME",
			firstNonEmpty(res.Claims.Account(), "another account"), p.Name, rec.Account, rec.Account)
	}
	return keepLink(ctx, env, u, &p, res, account.KeepOptions{Store: st, Secret: secret})
}

// needPerson ends an unattended reauth: it runs the notification command
// and returns the exit-3 error. For the primary method it also starts a
// sign-in that "link --returned-url" can finish, and passes its link on.
func needPerson(ctx context.Context, env *Env, p *profile.Profile, sr *account.SignInRequiredError, notifyCmd, claims string) error {
	why := sr.Reason
	if notifyCmd == "" {
		return sr
	}
	link := ""
	if p.Method == profile.MethodPaste && !p.Sandbox { // the sandbox's stand-in is gone
		if auth, err := newClient(env, p, "").NewAuthorization(p.RedirectURI, flow.Options{Claims: claims}); err == nil {
			if err := savePending(env, p, auth); err == nil {
				link = auth.URL
			}
		}
	}
	message := fmt.Sprintf("ms365auth: profile %q needs a sign-in (%s). Run: %s", p.Name, why, sr.Command())
	if link != "" {
		// "-" reads the URL from standard input: on the command line its
		// code would be in the process list and the shell's history.
		message = fmt.Sprintf("ms365auth: profile %q needs a sign-in (%s). Open the link and sign in, then paste the address you land on into: ms365auth link%s --returned-url -", p.Name, why, profileFlag(p.Name))
	}
	if sr.Fix != "" {
		message += " " + sr.Fix
	}
	runNotify(ctx, env, notifyCmd, p.Name, message, link, account.DeviceNotice{})
	return sr
}

// reauthByDevice runs reauth --device-wait: done says the run is over
// (signed in again, or err says why not); otherwise sr's reason now says
// why the sign-in link is sent instead.
func reauthByDevice(ctx context.Context, env *Env, p *profile.Profile, st store.Store, rec *store.Record, o *reauthOptions, claims string, sr *account.SignInRequiredError) (done bool, err error) {
	oid := ""
	if rec != nil {
		oid = rec.ObjectID
	}
	_, err = env.account().ReauthByDevice(ctx, account.DeviceSignIn{Profile: p, Store: st, Claims: claims, Wait: o.DeviceWait, ObjectID: oid,
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

// listFlag writes a list flag (--scopes) with values for a command to run.
func listFlag(flag string, values []string) string { return account.ListFlag(flag, values) }
