package account

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/servertext"
	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/tokenlife"
)

// Token states as status reports them.
const (
	StateValid       = "valid"        // the access token is usable now
	StateExpired     = "expired"      // expired, but a refresh token can renew it
	StateNeedsReauth = "needs_reauth" // a person must sign in
	StateNotLinked   = "not_linked"
	StateUnreadable  = "unreadable" // linked, but its record cannot be opened here
)

// Status is one profile's state, judged from its settings and record
// without asking Entra; its JSON is what status --json prints. It never
// holds a token.
type Status struct {
	Profile              string     `json:"profile"`
	Linked               bool       `json:"linked"`
	State                string     `json:"state"`
	Account              string     `json:"account,omitempty"`
	Name                 string     `json:"name,omitempty"`
	TenantID             string     `json:"tenant_id,omitempty"`
	ClientID             string     `json:"client_id,omitempty"`
	Authority            string     `json:"authority,omitempty"`
	Method               string     `json:"method,omitempty"`
	RedirectURI          string     `json:"redirect_uri,omitempty"`
	Scopes               []string   `json:"scopes"`
	ScopesAsRequested    bool       `json:"scopes_as_requested,omitempty"` // the server did not list them
	RequestedScopes      []string   `json:"requested_scopes,omitempty"`
	AccessTokenExpiresAt *time.Time `json:"access_token_expires_at,omitempty"`
	RefreshToken         bool       `json:"refresh_token"`
	RefreshTokenDaysLeft *int       `json:"refresh_token_days_left,omitempty"`
	// SessionEndsAt is the earliest known end of the session, for
	// SessionEndReason (a tokenlife.Kind: inactivity, sign_in_frequency,
	// refresh_expires_in); LifetimeUnknown says a server other than
	// Microsoft's did not say how long its refresh token lives.
	SessionEndsAt          *time.Time   `json:"session_ends_at,omitempty"`
	SessionEndReason       string       `json:"session_end_reason,omitempty"`
	SignInFrequencySeconds int64        `json:"sign_in_frequency_s,omitempty"`
	LifetimeUnknown        bool         `json:"lifetime_unknown,omitempty"`
	LinkedAt               *time.Time   `json:"linked_at,omitempty"`
	LastRefreshAt          *time.Time   `json:"last_refresh_at,omitempty"`
	Store                  string       `json:"store,omitempty"`
	Encrypted              *bool        `json:"encrypted,omitempty"` // file store only: the record on disk
	Reason                 string       `json:"reason,omitempty"`
	Fix                    string       `json:"fix,omitempty"`
	Sandbox                bool         `json:"sandbox,omitempty"`
	Error                  string       `json:"error,omitempty"`
	OtherTokens            []OtherToken `json:"other_tokens,omitempty"`
	Warnings               []string     `json:"warnings,omitempty"`

	// PassphraseSet says, for the file store, that new writes are encrypted.
	PassphraseSet bool `json:"-"`
}

// OtherToken is an access token kept for another resource (token --scopes),
// e.g. Exchange for IMAP and SMTP. It never holds the token.
type OtherToken struct {
	Resource  string     `json:"resource"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Valid     bool       `json:"valid"`
}

// RefreshTokenDeadReason is why a profile whose refresh token went unused
// past Entra's cut-off needs a person.
const RefreshTokenDeadReason = "the refresh token went unused for 90 days, so Entra refuses it (AADSTS700082)"

// Describe judges the named profiles of cfg, reading each one's record
// once. A store found unavailable is not asked again for the next profile
// (status --all waits for a hung keyring once, not once per profile).
func (s *Service) Describe(cfg *profile.Config, names []string) []Status {
	now := s.d.Now()
	stores := map[string]store.Store{}
	var out []Status
	for _, name := range names {
		out = append(out, s.describe(cfg.Get(name), name, stores, now))
	}
	return out
}

// describe reads one profile's record (one store read) and judges it.
func (s *Service) describe(p *profile.Profile, name string, stores map[string]store.Store, now time.Time) Status {
	st := Status{Profile: name, State: StateNotLinked, Scopes: []string{}, Fix: NotLinked(name).Command()}
	if p == nil {
		return st
	}
	st.Fix = relinkCommand(p) // the settings are known: no client ID needed
	st.ClientID, st.Method, st.RedirectURI, st.Sandbox = p.ClientID, p.Method, p.RedirectURI, p.Sandbox
	st.Authority = strings.TrimSuffix(p.AuthorityHost, "/") + "/" + p.Tenant
	st.RequestedScopes = p.Scopes
	st.Store = p.Store
	if p.LoggedOut {
		st.Reason = "logged out"
		return st
	}
	storeName, err := s.ProfileStoreName(p)
	if err != nil {
		st.Error, st.Fix = err.Error(), ""
		return st
	}
	st.Store = storeName
	tokens, ok := stores[storeName]
	if !ok {
		opened, err := s.d.OpenStore(storeName)
		if err != nil {
			st.Error, st.Fix = err.Error(), ""
			return st
		}
		tokens = &stickyStore{Store: opened}
		stores[storeName] = tokens
	}
	if f := FileStoreOf(tokens); f != nil {
		st.PassphraseSet = f.Encrypted()
		if enc, err := f.RecordEncrypted(name); err == nil {
			st.Encrypted = &enc
		}
	}
	rec, err := tokens.Load(name)
	if errors.Is(err, store.ErrNotFound) {
		st.Reason = "settings exist but no tokens are stored"
		return st
	}
	if fix := UnreadableFix(err, name); fix != "" {
		st.Linked, st.State, st.Reason, st.Fix = true, StateUnreadable, err.Error(), fix
		return st
	}
	if err != nil {
		st.Error, st.Fix = KeyringWayOut(err, s.FileStoreLinkCommand(p)).Error(), ""
		return st
	}
	st.Linked, st.Fix = true, ""
	// Cleaned again: a record stored by an older version may hold raw claims.
	st.Account, st.Name, st.TenantID = servertext.Clean(rec.Account), servertext.Clean(rec.Name), servertext.Clean(rec.TenantID)
	if rec.Scopes != nil {
		st.Scopes, st.ScopesAsRequested = rec.Scopes, rec.ScopesAsRequested
	}
	st.RefreshToken = rec.RefreshToken != ""
	st.AccessTokenExpiresAt = timePtr(rec.Expiry)
	st.LinkedAt = timePtr(rec.LinkedAt)
	st.LastRefreshAt = timePtr(rec.LastRefreshAt)
	st.OtherTokens = otherTokens(rec, now)
	life := lifeOf(rec)
	microsoft := isMicrosoft(p)
	if left, ok := tokenlife.DaysLeft(life, now); ok && !rec.NeedsReauth && microsoft {
		st.RefreshTokenDaysLeft = &left
	}
	st.SignInFrequencySeconds = rec.SignInFrequencySeconds
	end, endKnown := tokenlife.First(sessionFacts(rec, microsoft))
	if endKnown && !rec.NeedsReauth {
		st.SessionEndsAt, st.SessionEndReason = timePtr(end.At), string(end.Kind)
	}
	st.LifetimeUnknown = !endKnown && rec.RefreshToken != "" && !microsoft
	switch {
	case rec.NeedsReauth:
		st.State, st.Reason, st.Fix = StateNeedsReauth, servertext.Safe(rec.ReauthReason), servertext.Safe(rec.ReauthFix)
	case endKnown && end.Kind != tokenlife.Inactivity && end.Past(now):
		st.State, st.Reason = StateNeedsReauth, sessionEndedReason(end, rec)
	case microsoft && tokenlife.Dead(life, now):
		// Checked before the access token: whatever it has left is hours,
		// and no refresh will follow it.
		st.State, st.Reason = StateNeedsReauth, RefreshTokenDeadReason
	case now.Before(rec.Expiry):
		st.State = StateValid
	case st.Sandbox:
		st.State, st.Reason = StateNeedsReauth, SandboxEndedReason
	case st.RefreshToken:
		st.State = StateExpired
	default:
		st.State, st.Reason = StateNeedsReauth, "the access token expired and there is no refresh token"
	}
	st.Fix = stateFix(st, rec)
	if st.State != StateNeedsReauth && st.RefreshTokenDaysLeft != nil && *st.RefreshTokenDaysLeft <= tokenlife.WarnDays {
		st.Warnings = append(st.Warnings, refreshTokenWarning(name, *st.RefreshTokenDaysLeft))
	}
	if st.State != StateNeedsReauth && endKnown && end.Kind != tokenlife.Inactivity && end.Due(now) {
		st.Warnings = append(st.Warnings, sessionEndWarning(name, end, rec, now))
	}
	return st
}

// isMicrosoft says whether p signs in at Microsoft's Entra ID, where the
// 90-day inactivity rule is documented fact.
func isMicrosoft(p *profile.Profile) bool {
	a, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant)
	return err == nil && a.IsMicrosoft()
}

// sessionFacts is what tokenlife needs to know of a record's session.
func sessionFacts(rec *store.Record, microsoft bool) tokenlife.Facts {
	f := tokenlife.Facts{
		Entra:           microsoft,
		HasRefreshToken: rec.RefreshToken != "",
		RefreshedAt:     lifeOf(rec).Issued,
		SignedInAt:      rec.LinkedAt,
		Frequency:       time.Duration(rec.SignInFrequencySeconds) * time.Second,
	}
	if !rec.RefreshExpiry.IsZero() && !f.RefreshedAt.IsZero() {
		f.RefreshExpiresIn = rec.RefreshExpiry.Sub(f.RefreshedAt)
	}
	return f
}

// sessionCause says what sets deadline d.
func sessionCause(d tokenlife.Deadline, rec *store.Record) string {
	if d.Kind == tokenlife.SignInFrequency {
		return "the organisation's Conditional Access asks for a sign-in every " + Roughly(time.Duration(rec.SignInFrequencySeconds)*time.Second) + " (sign-in frequency), and no refresh extends it"
	}
	return "the server said its refresh token lives until then (refresh_expires_in)"
}

// sessionEndedReason is why a session past deadline d needs a person.
func sessionEndedReason(d tokenlife.Deadline, rec *store.Record) string {
	return "the session ended at " + d.At.Local().Format(time.RFC1123) + ": " + sessionCause(d, rec)
}

// sessionEndWarning says that the session ends at d, why, and what renews
// it: a sign-in now, or an unattended one from the phone when it ends.
func sessionEndWarning(name string, d tokenlife.Deadline, rec *store.Record, now time.Time) string {
	return fmt.Sprintf("the session ends in %s, at %s: %s; sign in again to renew it: ms365auth reauth%s --force (or let cron send a code to your phone when it ends, with reauth's --device-wait and --notify-cmd: see https://github.com/ms365auth/ms365auth/blob/main/docs/recipes.md#finish-a-re-sign-in-from-your-phone)",
		Roughly(d.At.Sub(now)), d.At.Local().Format(time.RFC1123), sessionCause(d, rec), ProfileFlag(name))
}

// Roughly writes a duration as a person would say it: "1h 5m", "59m",
// "20s", "3d 4h".
func Roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d >= 48*time.Hour:
		if h := int(d.Hours()) % 24; h != 0 {
			return fmt.Sprintf("%dd %dh", int(d.Hours())/24, h)
		}
		return fmt.Sprintf("%dd", int(d.Hours())/24)
	case d%time.Hour < time.Minute:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}

// stateFix is the command a linked profile's state calls for ("" when it
// is valid): renewing an expired token, or signing in again, after what
// else a refusal asked for.
func stateFix(st Status, rec *store.Record) string {
	switch {
	case st.State == StateExpired:
		return "ms365auth reauth" + ProfileFlag(st.Profile)
	case st.State != StateNeedsReauth:
		return st.Fix
	}
	run := (&SignInRequiredError{Profile: st.Profile, Claims: rec.ReauthClaims}).Command()
	if st.Sandbox {
		run = SandboxEnded().Command()
	}
	if st.Fix != "" {
		return st.Fix + "; then sign in again: " + run
	}
	return run
}

// relinkCommand signs in a profile whose settings are known again.
func relinkCommand(p *profile.Profile) string {
	if p.Sandbox || p.Name == profile.SandboxName {
		return "ms365auth link --sandbox"
	}
	return "ms365auth link" + ProfileFlag(p.Name)
}

// UnreadableFix says how to get at a record that exists but cannot be
// opened (a missing or wrong passphrase, a damaged entry); "" for any
// other error.
func UnreadableFix(err error, profile string) string {
	relink := "ms365auth link" + ProfileFlag(profile)
	switch {
	case errors.Is(err, store.ErrPassphrase):
		return fmt.Sprintf("set %s, or %s, to the passphrase the tokens were stored with; if it is lost, sign in again, which replaces them: %s",
			store.EnvPassphrase, store.EnvPassphraseFile, relink)
	case errors.Is(err, store.ErrCorrupt):
		return "sign in again, which replaces the damaged record: " + relink
	}
	return ""
}

// FileStoreOf returns the file store behind st, or nil for another store.
func FileStoreOf(st store.Store) *store.File {
	if s, ok := st.(*stickyStore); ok {
		st = s.Store
	}
	f, _ := st.(*store.File)
	return f
}

// otherTokens lists a record's tokens for other resources, in a stable
// order (by the scopes they were asked for).
func otherTokens(rec *store.Record, now time.Time) []OtherToken {
	var out []OtherToken
	for _, key := range slices.Sorted(maps.Keys(rec.Resources)) {
		t := rec.Resources[key]
		scopes := strings.Fields(key)
		resource := ""
		if len(scopes) > 0 {
			resource = entra.ScopeResource(scopes[0])
		}
		out = append(out, OtherToken{Resource: resource, Scopes: scopes, ExpiresAt: timePtr(t.Expiry), Valid: t.AccessToken != "" && now.Before(t.Expiry)})
	}
	return out
}

// stickyStore remembers that a store is unavailable, so that status --all
// waits for a hung keyring once, not once per profile.
type stickyStore struct {
	store.Store
	down error
}

func (s *stickyStore) Load(name string) (*store.Record, error) {
	if s.down != nil {
		return nil, s.down
	}
	rec, err := s.Store.Load(name)
	var u *store.UnavailableError
	if errors.As(err, &u) {
		s.down = err
	}
	return rec, err
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}
