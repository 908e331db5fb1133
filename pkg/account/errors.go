package account

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// SignInRequiredError means only a person signing in can fix things. The
// command line maps it to exit status 3.
type SignInRequiredError struct {
	Profile string
	Reason  string
	Run     string // the command to run; "" means reauth
	Fix     string // what else the person must do, "" if signing in is all
	Claims  string // a claims challenge the sign-in must carry
	// ClaimsSaved says a long claims challenge is saved where reauth finds
	// it (RememberClaims), so the command need not carry it.
	ClaimsSaved bool
}

func (e *SignInRequiredError) Error() string {
	msg := fmt.Sprintf("profile %q needs an interactive sign-in (%s); run: %s", e.Profile, e.Reason, e.Command())
	if e.Fix != "" {
		msg += "\nfix: " + e.Fix
	}
	return msg
}

// Command is the command that signs the profile in: Run, or reauth, with
// the claims challenge when there is one, Run does not carry it, and it is
// not saved for reauth to find (long ones are: see InlineClaims).
func (e *SignInRequiredError) Command() string {
	run := e.Run
	if run == "" {
		run = "ms365auth reauth" + ProfileFlag(e.Profile)
	}
	if e.Claims != "" && !e.ClaimsSaved && !strings.Contains(run, " --claims ") {
		run += " --claims " + entra.EncodeClaims(e.Claims)
	}
	return run
}

// TransientError means the token endpoint could not be reached or was
// failing; the stored tokens are untouched and a later try may succeed.
type TransientError struct{ Err error }

func (e *TransientError) Error() string {
	return "temporary failure, tokens unchanged, try again later: " + e.Err.Error()
}
func (e *TransientError) Unwrap() error { return e.Err }

// NotLinked is the error for a profile with no settings or no tokens.
func NotLinked(name string) *SignInRequiredError {
	run := "ms365auth link" + ProfileFlag(name) + " --client-id <application ID>"
	if name == profile.SandboxName {
		run = "ms365auth link --sandbox"
	}
	return &SignInRequiredError{Profile: name, Reason: "it is not linked", Run: run}
}

// SandboxEndedReason is why the sandbox profile cannot be renewed: its
// stand-in for Entra ID lived only while "link --sandbox" ran.
const SandboxEndedReason = "the sandbox has ended: its stand-in for Entra ID ran only while ms365auth link --sandbox ran"

// SandboxEnded is what renewing the sandbox profile meets, now or later.
func SandboxEnded() *SignInRequiredError {
	return &SignInRequiredError{Profile: profile.SandboxName, Reason: SandboxEndedReason, Run: "ms365auth link --sandbox"}
}

// ProfileFlag is the --profile flag a printed command needs for name; ""
// for the default profile.
func ProfileFlag(name string) string {
	if name == "" || name == profile.DefaultName {
		return ""
	}
	return " --profile " + name
}

// ListFlag writes a list flag (--scopes) with values for a command to run.
func ListFlag(flag string, values []string) string {
	return " " + flag + " '" + strings.Join(values, ",") + "'"
}

// MethodFlag is the link flag that chooses method.
func MethodFlag(method string) string {
	switch method {
	case profile.MethodAlt:
		return " --alt"
	case profile.MethodDevice:
		return " --device"
	}
	return ""
}

// hinted attaches the fix for an Entra error to it, as a second line.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + "\nfix: " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// WithHint adds the AADSTS table's fix, filled in for profile p (see
// HintContext, which reads the settings: only for an error with a fix).
func (s *Service) WithHint(err error, p *profile.Profile) error {
	var ee *entra.Error
	if err == nil || !errors.As(err, &ee) {
		return err
	}
	var rue *entra.ReturnedURLError
	if errors.As(err, &rue) {
		rue.AdminConsentURL = s.HintContext(p).AdminConsentURL
		return err // already says what to do
	}
	if h := entra.ErrorFix(ee, s.HintContext(p)); h != "" {
		return &hinted{err: err, hint: h}
	}
	return err
}

// HintContext fills the AADSTS fixes in for p. Their commands fit the
// profile: a profile the settings file does not know yet was never linked,
// so signing in again means the first link again, with its client ID.
func (s *Service) HintContext(p *profile.Profile) entra.HintContext {
	hc := entra.HintContext{RedirectURI: p.RedirectURI, Tenant: p.Tenant, ClientID: p.ClientID, Method: p.Method,
		LinkCommand: "ms365auth link" + ProfileFlag(p.Name), ReauthCommand: "ms365auth reauth" + ProfileFlag(p.Name)}
	switch known, _, err := s.d.Settings.Get(p.Name); {
	case p.Sandbox:
		hc.LinkCommand, hc.ReauthCommand = "ms365auth link --sandbox", "ms365auth link --sandbox"
	case err == nil && known == nil:
		id := p.ClientID
		if !entra.IsGUID(id) { // not echoed: it may be a secret in the wrong place
			id = "<application ID>"
		}
		hc.LinkCommand += MethodFlag(p.Method) + " --client-id " + id
		hc.ReauthCommand = hc.LinkCommand
	}
	if !p.Sandbox {
		hc.AdminConsentURL = adminConsentURL(p)
	}
	return hc
}

// adminConsentURL is the link an admin opens to grant p's app its scopes
// for the tenant; "" where there is none: personal accounts, a client ID
// that is no GUID, or no redirect URI to come back to (device code).
func adminConsentURL(p *profile.Profile) string {
	scopes, err := entra.ResolveScopes(p.Scopes)
	if err != nil || !entra.IsGUID(p.ClientID) || p.RedirectURI == "" {
		return ""
	}
	auth, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant)
	if err != nil {
		return ""
	}
	u, err := entra.AdminConsentURL(auth, p.ClientID, p.RedirectURI, scopes)
	if err != nil {
		return ""
	}
	return u
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
