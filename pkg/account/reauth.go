package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// ClaimsReason is why a claims challenge needs a person, the same words
// from api, token --claims and reauth --claims.
const ClaimsReason = "a claims challenge asks for a new sign-in"

// ReauthRequest is what reauth was asked to do for a linked profile.
type ReauthRequest struct {
	Profile      string
	Scopes       []string // scopes or features to add (--scopes)
	RemoveScopes []string // scopes or features to stop asking for (--remove-scopes)
	Force        bool     // sign in even if a refresh would do
	// Claims is a claims challenge the sign-in must answer; "" takes the
	// one saved for the profile (RememberClaims), if any.
	Claims string
}

// Reauth is what PlanReauth decided: the profile was renewed silently
// (Renewed), or a person must sign in (SignIn says why).
type Reauth struct {
	// Profile is the profile's settings with the scopes reauth asks for.
	Profile *profile.Profile
	Store   store.Store
	Record  *store.Record // the tokens stored before; nil when none were
	// Sandbox says the profile is the sandbox's, whose stand-in for Entra
	// ID is gone: SignIn says so, and nothing else was read.
	Sandbox bool
	// Renewed is the record a silent refresh left; nil when a person must
	// sign in.
	Renewed *store.Record
	// Narrowed says the refresh asked for fewer scopes (--remove-scopes
	// only), it worked, and the profile asks for those from now on.
	Narrowed bool
	// SignIn says why a person must sign in, with what else to do and the
	// claims to carry, and Run is the command an unattended run names;
	// nil when renewed.
	SignIn *SignInRequiredError
	// Warnings are one-line messages for standard error (a saved claims
	// challenge that could not be read).
	Warnings []string
}

// PlanReauth renews profile r.Profile silently when it can, or says why a
// person must sign in: a claims challenge (given or saved), --force, no
// stored tokens, added scopes that need consent, or a refresh that Entra
// refused. A refresh that fails for a while returns its TransientError
// with the Reauth read so far (its Record is unchanged).
func (s *Service) PlanReauth(ctx context.Context, r ReauthRequest) (*Reauth, error) {
	old, err := s.Profile(r.Profile)
	if err != nil {
		return nil, err
	}
	if old.Sandbox {
		return &Reauth{Profile: old, Sandbox: true, SignIn: SandboxEnded()}, nil
	}
	// Read again under the lock: a store move may have switched the
	// settings and emptied the store they named before.
	linked, err := s.LoadLinked(ctx, r.Profile)
	if err != nil {
		return nil, err
	}
	old = linked.Profile
	p := *old
	if len(r.Scopes) > 0 || len(r.RemoveScopes) > 0 {
		if p.Scopes, err = entra.ChangeScopes(old.Scopes, r.Scopes, r.RemoveScopes); err != nil {
			return nil, err
		}
	}
	scopesChanged := !slices.Equal(p.Scopes, old.Scopes)
	added := entra.OtherResourceScopes(p.Scopes, old.Scopes)
	plan := &Reauth{Profile: &p, Store: linked.Store, Record: linked.Record}

	// A refusal may carry a claims challenge the sign-in must answer, and a
	// fix beyond signing in; r.Claims wins, then one saved because it was
	// too long for the command printed (InlineClaims).
	claims := r.Claims
	if claims == "" {
		saved, warnings, err := s.SavedClaims(p.Name)
		plan.Warnings = append(plan.Warnings, warnings...)
		if err != nil {
			plan.Warnings = append(plan.Warnings, err.Error())
		}
		claims = saved
	}
	why, fix := "", ""
	switch {
	case claims != "":
		why = ClaimsReason
	case r.Force:
		why = "--force"
	case linked.Record == nil:
		why = "no tokens are stored"
	case len(added) > 0:
		why = "the scopes changed: " + strings.Join(added, " ") + " need consent"
	default:
		var narrower []string // only removals: try the narrower set
		if scopesChanged {
			narrower = p.Scopes
		}
		renewed, err := s.Renew(ctx, p.Name, narrower)
		var sr *SignInRequiredError
		switch {
		case err == nil:
			if scopesChanged {
				// Only removals: the refresh with fewer scopes worked, so
				// the profile asks for those from now on.
				if err := s.d.Settings.Update(func(c *profile.Config) {
					if cur := c.Get(p.Name); cur != nil {
						cur.Scopes = p.Scopes
					}
				}); err != nil {
					return nil, fmt.Errorf("refreshed, but the profile's new scopes could not be saved: %w", err)
				}
				plan.Narrowed = true
			}
			plan.Renewed = renewed
			return plan, nil
		case errors.As(err, &sr):
			why, fix = sr.Reason, sr.Fix
			claims = firstNonEmpty(claims, sr.Claims)
		default:
			return plan, err
		}
	}
	plan.SignIn = &SignInRequiredError{Profile: p.Name, Reason: why, Run: reauthCommand(p.Name, r, scopesChanged), Fix: fix, Claims: claims}
	return plan, nil
}

// reauthCommand is the reauth an unattended run names for a person to
// run: it must do what this one was asked, since a plain reauth would
// refresh silently and never add the scopes.
func reauthCommand(name string, r ReauthRequest, scopesChanged bool) string {
	run := "ms365auth reauth" + ProfileFlag(name)
	if scopesChanged && len(r.Scopes) > 0 {
		run += ListFlag("--scopes", r.Scopes)
	}
	if scopesChanged && len(r.RemoveScopes) > 0 {
		run += ListFlag("--remove-scopes", r.RemoveScopes)
	}
	if r.Force {
		run += " --force"
	}
	return run
}

// Secret is the client secret a confidential profile's sign-in needs, as
// its store keeps it; "" for a public app.
func (r *Reauth) Secret() (string, error) {
	if !r.Profile.Confidential {
		return "", nil
	}
	secret, err := r.Store.LoadSecret(r.Profile.Name)
	if err != nil {
		return "", fmt.Errorf("cannot read the client secret of profile %q: %w", r.Profile.Name, err)
	}
	return secret, nil
}

// LoginHint is the user name the sign-in page can fill in: the linked
// account's, when it is one (not a display name or a subject).
func (r *Reauth) LoginHint() string {
	if r.Record != nil && strings.Contains(r.Record.Account, "@") {
		return r.Record.Account
	}
	return ""
}

// CheckAccount refuses a sign-in as another account than the one linked:
// reauth renews a link, and must not quietly put another account's tokens
// under this profile.
func (r *Reauth) CheckAccount(res *flow.Result) error {
	rec := r.Record
	if rec != nil && rec.ObjectID != "" && res.Claims.OID != "" && res.Claims.OID != rec.ObjectID {
		return fmt.Errorf("signed in as %s, but profile %q is linked to %s: nothing was changed; sign in as %s, or link the other account under its own profile: ms365auth link --profile NAME",
			firstNonEmpty(res.Claims.Account(), "another account"), r.Profile.Name, rec.Account, rec.Account)
	}
	return nil
}

// Notification is what --notify-cmd is told when a person must sign in to
// p, as sr says: the message, and for the primary method the link of a
// sign-in started now, which "link --returned-url" finishes ("" when
// there is none, or it could not be started).
func (s *Service) Notification(p *profile.Profile, sr *SignInRequiredError) (message, link string) {
	if p.Method == profile.MethodPaste && !p.Sandbox { // the sandbox's stand-in is gone
		if auth, err := s.Client(p, "").NewAuthorization(p.RedirectURI, flow.Options{Claims: sr.Claims}); err == nil {
			if err := s.SavePending(p, auth); err == nil {
				link = auth.URL
			}
		}
	}
	message = fmt.Sprintf("ms365auth: profile %q needs a sign-in (%s). Run: %s", p.Name, sr.Reason, sr.Command())
	if link != "" {
		// "-" reads the URL from standard input: on the command line its
		// code would be in the process list and the shell's history.
		message = fmt.Sprintf("ms365auth: profile %q needs a sign-in (%s). Open the link and sign in, then paste the address you land on into: ms365auth link%s --returned-url -", p.Name, sr.Reason, ProfileFlag(p.Name))
	}
	if sr.Fix != "" {
		message += " " + sr.Fix
	}
	return message, link
}
