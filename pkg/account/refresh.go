package account

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/retry"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// Retry policy for transient token endpoint failures: bounded in count and
// in total time, so cron jobs and mail clients are never stuck.
const (
	maxAttempts    = 4
	firstBackoff   = 250 * time.Millisecond
	maxRetryAfter  = 10 * time.Second
	attemptTimeout = 15 * time.Second
	refreshBudget  = 40 * time.Second // all attempts, under the lock
)

// renewal is what ensure is asked for.
type renewal struct {
	name string
	// seen is the record read without the lock (nil: none read); a token
	// in it that is good enough is used without locking.
	seen *store.Record
	// profileScopes, when set, replace the settings' scopes for this
	// refresh (reauth --remove-scopes tries the narrower set first).
	profileScopes []string
	scopes        []string // another resource's scopes; nil: the profile's own
	margin        time.Duration
	force         bool // refresh even a good token (reauth's keep-alive)
}

// ensure returns a record whose token for r.scopes is valid for at least
// r.margin. The decision rules:
//   - a token that is still good enough is returned without locking;
//   - otherwise the profile's lock is taken and the settings, the store
//     they name and the record read again (LockLinked), since another
//     process may have refreshed (then its token is used) or moved the
//     profile to another store meanwhile;
//   - a profile marked needs_reauth, or without a refresh token, needs a
//     person (*SignInRequiredError) and is not sent to Entra;
//   - force refreshes even a good token.
func (s *Service) ensure(ctx context.Context, r renewal) (*store.Record, error) {
	key := ResourceKey(r.scopes)
	if !r.force && r.seen != nil && ValidFor(r.seen, key, s.d.Now(), r.margin) {
		return r.seen, nil
	}
	l, err := s.LockLinked(ctx, r.name)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	p, st := l.Profile, l.Store
	if r.profileScopes != nil {
		p.Scopes = r.profileScopes
	}
	rec, err := st.Load(p.Name)
	if errors.Is(err, store.ErrNotFound) && r.seen == nil {
		return nil, &SignInRequiredError{Profile: p.Name, Reason: "no tokens are stored"}
	}
	if errors.Is(err, store.ErrNotFound) { // removed meanwhile (logout)
		return nil, NotLinked(p.Name)
	}
	if err != nil {
		return nil, err
	}
	if !r.force && ValidFor(rec, key, s.d.Now(), r.margin) {
		return rec, nil
	}
	if rec.NeedsReauth {
		sr := &SignInRequiredError{Profile: p.Name, Reason: firstNonEmpty(rec.ReauthReason, "an earlier refresh was refused"),
			Fix: rec.ReauthFix, Claims: rec.ReauthClaims}
		s.RememberClaims(sr)
		return nil, sr
	}
	if rec.RefreshToken == "" {
		return nil, &SignInRequiredError{Profile: p.Name, Reason: "there is no refresh token (was offline_access granted?)"}
	}
	if p.Sandbox {
		return nil, SandboxEnded()
	}
	res, err := s.refresh(ctx, p, st, rec.RefreshToken, r.scopes)
	if err != nil {
		return nil, s.failed(p, st, rec, r.scopes, err)
	}
	// A refresh must not turn the profile into another account.
	if err := entra.SameAccount(linkedAccount(rec), res.Claims, "ms365auth link"+ProfileFlag(p.Name)); res.IDToken && err != nil {
		return nil, err
	}
	apply(rec, res, key, s.d.Now())
	if err := st.Save(p.Name, rec); err != nil {
		return nil, fmt.Errorf("refreshed, but could not store the new tokens: %w", err)
	}
	// Checked after saving: the rotated refresh token must be kept anyway.
	if !ValidFor(rec, key, s.d.Now(), 0) {
		return nil, fmt.Errorf("the token just issued for profile %q had already expired (the answer gave it no lifetime), so it was not used: try again later", p.Name)
	}
	return rec, nil
}

// refresh calls the token endpoint, trying transient failures again with
// exponential backoff, honouring Retry-After up to maxRetryAfter (beyond
// it, the failure is reported at once instead of hammering the server).
// A refresh may be sent again: the refresh token it carries stays good
// until it is used by a refresh that succeeds.
func (s *Service) refresh(ctx context.Context, p *profile.Profile, st store.Store, refreshToken string, scopes []string) (*flow.Result, error) {
	secret := ""
	if p.Confidential {
		v, err := st.LoadSecret(p.Name)
		if err != nil {
			return nil, fmt.Errorf("cannot read the client secret of profile %q: %w", p.Name, err)
		}
		secret = v
	}
	client := s.Client(p, secret)
	if scopes == nil {
		scopes = MainResourceScopes(p.Scopes)
	}
	scopes = append(scopes[:len(scopes):len(scopes)], OIDCScopes(p.Scopes)...)
	ctx, cancel := context.WithTimeout(ctx, refreshBudget)
	defer cancel()
	policy := retry.Policy{Attempts: maxAttempts, FirstBackoff: firstBackoff, MaxWait: maxRetryAfter, Sleep: s.d.Sleep}
	return retry.Do(ctx, policy, func(ctx context.Context) (*flow.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		return client.Refresh(ctx, refreshToken, scopes)
	}, func(err error) retry.Verdict {
		v := retry.Verdict{Again: Transient(err)}
		var ee *entra.Error
		if errors.As(err, &ee) {
			v.After = ee.RetryAfter
		}
		return v
	})
}

// failed decides what a refresh failure means for the stored record: when
// only a person can fix it, the record is marked (keeping who it was, for
// status); a transient failure changes nothing.
//
// A failure for another resource's scopes (token --scopes) says nothing
// about the profile's own token: it needs consent for those scopes, which
// reauth --scopes asks for, and the profile is not marked. A refresh token
// that is revoked, expired or used up is dead for every resource, though.
func (s *Service) failed(p *profile.Profile, st store.Store, rec *store.Record, scopes []string, err error) error {
	var refused *flow.RefusedError
	if errors.As(err, &refused) {
		return s.refusedAnswer(p, st, rec, refused)
	}
	if Transient(err) {
		return &TransientError{Err: err}
	}
	var ee *entra.Error
	if !errors.As(err, &ee) || !(ee.NeedsInteraction() || ee.RefreshTokenDead()) {
		return s.WithHint(err, p)
	}
	hc := s.HintContext(p)
	sr := &SignInRequiredError{Profile: p.Name, Reason: ee.Error(), Claims: ee.Claims}
	if scopes != nil && !ee.GrantDead() {
		wanted := entra.ResourceScopes(p.Scopes)
		for _, sc := range scopes {
			if !slices.Contains(wanted, sc) {
				wanted = append(wanted, sc)
			}
		}
		sr.Run = "ms365auth reauth" + ProfileFlag(p.Name) + ListFlag("--scopes", wanted)
		hc.ReauthCommand = sr.Run     // the fix must not say a plain reauth, which would not ask for them
		if hc.AdminConsentURL != "" { // an admin grants these too
			withWanted := *p
			withWanted.Scopes = append(slices.Clone(p.Scopes), scopes...)
			hc.AdminConsentURL = adminConsentURL(&withWanted)
		}
		sr.Fix = entra.SignInFix(ee, hc)
		s.RememberClaims(sr)
		return sr
	}
	sr.Fix = entra.SignInFix(ee, hc)
	// A sign-in frequency outlives the session it ends: kept, it tells
	// status when the next session ends.
	if every, ok := entra.SignInFrequency(ee); ok {
		rec.SignInFrequencySeconds = int64(every / time.Second)
	}
	rec.NeedsReauth = true
	rec.ReauthReason, rec.ReauthFix, rec.ReauthClaims = sr.Reason, sr.Fix, sr.Claims
	s.RememberClaims(sr)
	if saveErr := st.Save(p.Name, rec); saveErr != nil {
		return errors.Join(sr, saveErr)
	}
	return sr
}

// refusedAnswer decides what a refresh answer refused for its ID token
// leaves in the record. Its access token and claims are never used. The
// refresh token that came with it is kept, as a refresh that succeeded
// would keep it: it came from the token endpoint the stored one was sent
// to, over the same checked connection (TLS, or http to loopback only; no
// redirect followed), so it is exactly as trustworthy, and a server that
// rotates refresh tokens (Dex) has already retired the stored one: dropping
// the new one would lose the link without a word. Only the ID token failed,
// which does not question where the refresh token came from.
//
// The exception is an ID token that names another account (its sub, tid
// or oid, as entra.SameAccount compares them) than the record: that refresh token is not this profile's
// link, so nothing is kept and the profile needs a sign-in, saying why.
func (s *Service) refusedAnswer(p *profile.Profile, st store.Store, rec *store.Record, e *flow.RefusedError) error {
	if e.RefreshToken == "" || e.RefreshToken == rec.RefreshToken {
		return e // nothing rotated: the stored refresh token is as it was
	}
	if e.Parsed && entra.SameAccount(linkedAccount(rec), e.Claims, "") != nil {
		sr := &SignInRequiredError{Profile: p.Name, Reason: "a refresh was answered with another account's tokens, which were refused; " +
			"the stored refresh token may have been retired by that answer"}
		rec.NeedsReauth, rec.ReauthReason, rec.ReauthFix, rec.ReauthClaims = true, sr.Reason, "", ""
		if err := st.Save(p.Name, rec); err != nil {
			return errors.Join(sr, err)
		}
		return sr
	}
	rec.RefreshToken, rec.LastRefreshAt = e.RefreshToken, s.d.Now()
	if err := st.Save(p.Name, rec); err != nil {
		return fmt.Errorf("%w\nthe new refresh token that came with it could not be kept either, and the server may have retired the stored one: if the next try says so, run: ms365auth reauth%s: %w",
			e, ProfileFlag(p.Name), err)
	}
	return fmt.Errorf("%w\nthe new refresh token that came with the answer was kept, so the link is not lost", e)
}

// linkedAccount is who rec was linked to, for entra.SameAccount.
func linkedAccount(rec *store.Record) entra.LinkedAccount {
	return entra.LinkedAccount{Account: rec.Account, Subject: rec.Subject, TenantID: rec.TenantID, ObjectID: rec.ObjectID}
}

// Transient says whether trying again later may work: Entra's own verdict
// for its answers; for the network, anything but an unknown host or a
// certificate that does not verify, which need a person to fix settings.
func Transient(err error) bool {
	var ee *entra.Error
	if errors.As(err, &ee) {
		return ee.Transient()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &badHost) {
		return false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}

// ValidFor says whether the record's token for key is usable for at least
// margin, or for half its lifetime when that is shorter: a token that
// lives less than the margin would otherwise be renewed on every call,
// each caller refreshing in turn, while one renewal can serve them all.
// An empty access token is never usable, nor one a resource refused with a
// claims challenge (the profile is then marked with the claims). A profile
// marked needs_reauth because a refresh was refused keeps serving its
// access token until it expires: the refusal (sign-in frequency, a revoked
// refresh token) is Entra's verdict on the refresh token, and mail clients
// and scripts keep working while a person signs in again, from a phone
// with reauth --device-wait. Resources that evaluate revocation
// continuously (Exchange, Graph) still refuse a revoked session's token.
func ValidFor(rec *store.Record, key string, now time.Time, margin time.Duration) bool {
	if rec.NeedsReauth && rec.ReauthClaims != "" {
		return false
	}
	t := TokenFor(rec, key)
	if life := t.Expiry.Sub(t.IssuedAt); !t.IssuedAt.IsZero() && life > 0 {
		margin = min(margin, life/2)
	}
	return t.AccessToken != "" && t.Expiry.After(now.Add(margin))
}

// TokenFor is the record's access token for key; "" is the main one.
func TokenFor(rec *store.Record, key string) store.ResourceToken {
	if key == "" {
		return store.ResourceToken{AccessToken: rec.AccessToken, Expiry: rec.Expiry, IssuedAt: rec.IssuedAt}
	}
	return rec.Resources[key]
}

// apply puts a refresh result into the record. Every rotated refresh token
// is kept, whichever resource it was redeemed for.
func apply(rec *store.Record, res *flow.Result, key string, now time.Time) {
	t := res.Token
	if t.RefreshToken != "" {
		rec.RefreshToken = t.RefreshToken
		rec.RefreshExpiry = refreshExpiry(res, now)
	}
	rec.LastRefreshAt = now
	rec.NeedsReauth, rec.ReauthReason, rec.ReauthFix, rec.ReauthClaims = false, "", "", ""
	if key == "" {
		rec.AccessToken, rec.TokenType, rec.Expiry, rec.IssuedAt = t.AccessToken, t.TokenType, t.Expiry, now
		if res.Scopes != nil {
			rec.Scopes, rec.ScopesAsRequested = res.Scopes, res.ScopesAsRequested
		}
		if res.IDToken {
			rec.Subject = firstNonEmpty(rec.Subject, res.Claims.Sub) // learnt by records older than it
			rec.Account = firstNonEmpty(res.Claims.Account(), rec.Account)
			rec.Name = firstNonEmpty(res.Claims.Name, rec.Name)
		}
		return
	}
	if rec.Resources == nil {
		rec.Resources = map[string]store.ResourceToken{}
	}
	rec.Resources[key] = store.ResourceToken{AccessToken: t.AccessToken, Expiry: t.Expiry, IssuedAt: now,
		Scopes: res.Scopes, ScopesAsRequested: res.ScopesAsRequested}
}

// OIDCScopes are the OpenID Connect scopes a refresh sends: offline_access,
// openid and profile, which every sign-in asks for, and the others the
// profile was linked with (email), so that a refresh does not narrow the
// grant.
func OIDCScopes(linked []string) []string {
	out := []string{"offline_access", "openid", "profile"}
	for _, s := range linked {
		if entra.ScopeResource(s) == "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// MainResourceScopes picks the profile's scopes of its first resource: a
// profile may consent to Graph and Outlook scopes at once, but a token is
// for one resource (AADSTS700022 otherwise), and the main one is the first.
func MainResourceScopes(scopes []string) []string {
	resource := ""
	var out []string
	for _, s := range entra.ResourceScopes(scopes) {
		if resource == "" {
			resource = entra.ScopeResource(s)
		}
		if entra.ScopeResource(s) == resource {
			out = append(out, s)
		}
	}
	return out
}

// ResourceKey names the token kept for other scopes; "" is the main one.
func ResourceKey(scopes []string) string { return strings.Join(scopes, " ") }
