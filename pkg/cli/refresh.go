package cli

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
	"github.com/ms365auth/ms365auth/pkg/interrupt"
	"github.com/ms365auth/ms365auth/pkg/profile"
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
	lockWait       = 60 * time.Second // longer than refreshBudget
)

// TransientError means the token endpoint could not be reached or was
// failing; the stored tokens are untouched and a later try may succeed.
type TransientError struct{ Err error }

func (e *TransientError) Error() string {
	return "temporary failure, tokens unchanged, try again later: " + e.Err.Error()
}
func (e *TransientError) Unwrap() error { return e.Err }

// refresher renews a profile's tokens with its refresh token.
type refresher struct {
	env   *Env
	p     *profile.Profile
	st    store.Store
	sleep func(context.Context, time.Duration) error
}

func newRefresher(env *Env, p *profile.Profile, st store.Store) *refresher {
	return &refresher{env: env, p: p, st: st, sleep: interrupt.Sleep}
}

// ensure returns a record whose token for scopes (nil: the profile's own)
// is valid for at least margin. The decision rules:
//   - a token that is still good enough is returned without locking;
//   - otherwise the profile's lock is taken and the store read again, since
//     another process may have refreshed meanwhile (then its token is used);
//   - a profile marked needs_reauth, or without a refresh token, needs a
//     person (*SignInRequiredError) and is not sent to Entra;
//   - force refreshes even a good token (reauth's keep-alive).
func (r *refresher) ensure(ctx context.Context, rec *store.Record, scopes []string, margin time.Duration, force bool) (*store.Record, error) {
	key := resourceKey(scopes)
	if !force && rec != nil && fresh(rec, key, r.env.Now(), margin) {
		return rec, nil
	}
	unlock, err := lockProfile(ctx, r.p.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rec, err = r.st.Load(r.p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notLinked(r.p.Name)
	}
	if err != nil {
		return nil, err
	}
	if !force && fresh(rec, key, r.env.Now(), margin) {
		return rec, nil
	}
	if rec.NeedsReauth {
		return nil, &SignInRequiredError{Profile: r.p.Name, Reason: firstNonEmpty(rec.ReauthReason, "an earlier refresh was refused"),
			Fix: rec.ReauthFix, Claims: rec.ReauthClaims}
	}
	if rec.RefreshToken == "" {
		return nil, &SignInRequiredError{Profile: r.p.Name, Reason: "there is no refresh token (was offline_access granted?)"}
	}
	if r.p.Sandbox {
		return nil, sandboxEnded()
	}
	res, err := r.refresh(ctx, rec.RefreshToken, scopes)
	if err != nil {
		return nil, r.failed(rec, scopes, err)
	}
	// A refresh must not turn the profile into another account.
	linked := entra.LinkedAccount{Account: rec.Account, Subject: rec.Subject, TenantID: rec.TenantID, ObjectID: rec.ObjectID}
	if err := entra.SameAccount(linked, res.Claims, "ms365auth link"+profileFlag(r.p.Name)); res.IDToken && err != nil {
		return nil, err
	}
	apply(rec, res, key, r.env.Now())
	if err := r.st.Save(r.p.Name, rec); err != nil {
		return nil, fmt.Errorf("refreshed, but could not store the new tokens: %w", err)
	}
	// Checked after saving: the rotated refresh token must be kept anyway.
	if !fresh(rec, key, r.env.Now(), 0) {
		return nil, fmt.Errorf("the token just issued for profile %q had already expired (the answer gave it no lifetime), so it was not used: try again later", r.p.Name)
	}
	return rec, nil
}

// lockProfile takes the profile's lock (store.Lock), waiting at most
// lockWait for another process to let go of it.
func lockProfile(ctx context.Context, name string) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	return store.Lock(ctx, name)
}

// refresh calls the token endpoint, retrying transient failures with
// exponential backoff, honouring Retry-After up to a bound.
func (r *refresher) refresh(ctx context.Context, refreshToken string, scopes []string) (*flow.Result, error) {
	secret := ""
	if r.p.Confidential {
		s, err := r.st.LoadSecret(r.p.Name)
		if err != nil {
			return nil, fmt.Errorf("cannot read the client secret of profile %q: %w", r.p.Name, err)
		}
		secret = s
	}
	client := newClient(r.env, r.p, secret)
	if scopes == nil {
		scopes = mainResourceScopes(r.p.Scopes)
	}
	scopes = append(scopes[:len(scopes):len(scopes)], oidcScopes(r.p.Scopes)...)
	ctx, cancel := context.WithTimeout(ctx, refreshBudget)
	defer cancel()
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, attemptTimeout)
		res, err := client.Refresh(attemptCtx, refreshToken, scopes)
		cancelAttempt()
		if err == nil || !transient(err) || attempt == maxAttempts || ctx.Err() != nil {
			return res, err
		}
		wait := backoff
		var ee *entra.Error
		if errors.As(err, &ee) && ee.RetryAfter > 0 {
			wait = time.Duration(ee.RetryAfter) * time.Second
			if wait > maxRetryAfter {
				// Asked to come back later than a script can wait: report
				// it now instead of hammering the server.
				return nil, err
			}
		}
		if err := r.sleep(ctx, wait); err != nil {
			return nil, err
		}
		backoff *= 2
	}
}

// failed decides what a refresh failure means for the stored record: when
// only a person can fix it, the record is marked (keeping who it was, for
// status); a transient failure changes nothing.
//
// A failure for another resource's scopes (token --scopes) says nothing
// about the profile's own token: it needs consent for those scopes, which
// reauth --scopes asks for, and the profile is not marked. A refresh token
// that is revoked, expired or used up is dead for every resource, though.
func (r *refresher) failed(rec *store.Record, scopes []string, err error) error {
	if transient(err) {
		return &TransientError{Err: err}
	}
	var ee *entra.Error
	if !errors.As(err, &ee) || !(ee.NeedsInteraction() || ee.RefreshTokenDead()) {
		return withHint(err, r.p)
	}
	hc := hintContext(r.p)
	sr := &SignInRequiredError{Profile: r.p.Name, Reason: ee.Error(), Claims: ee.Claims}
	if scopes != nil && !ee.GrantDead() {
		wanted := entra.ResourceScopes(r.p.Scopes)
		for _, s := range scopes {
			if !slices.Contains(wanted, s) {
				wanted = append(wanted, s)
			}
		}
		sr.Run = "ms365auth reauth" + profileFlag(r.p.Name) + listFlag("--scopes", wanted)
		hc.ReauthCommand = sr.Run // the fix must not say a plain reauth, which would not ask for them
		sr.Fix = entra.SignInFix(ee, hc)
		return sr
	}
	sr.Fix = entra.SignInFix(ee, hc)
	rec.NeedsReauth = true
	rec.ReauthReason, rec.ReauthFix, rec.ReauthClaims = sr.Reason, sr.Fix, sr.Claims
	if saveErr := r.st.Save(r.p.Name, rec); saveErr != nil {
		return errors.Join(sr, saveErr)
	}
	return sr
}

// transient says whether trying again later may work: Entra's own verdict
// for its answers; for the network, anything but an unknown host or a
// certificate that does not verify, which need a person to fix settings.
func transient(err error) bool {
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

// fresh says whether the token for key is valid for at least margin, or
// for half its lifetime when that is shorter: a token that lives less than
// the margin would otherwise be renewed on every call, each caller
// refreshing in turn, while one renewal can serve them all.
func fresh(rec *store.Record, key string, now time.Time, margin time.Duration) bool {
	if rec.NeedsReauth {
		return false
	}
	t := tokenFor(rec, key)
	if life := t.Expiry.Sub(t.IssuedAt); !t.IssuedAt.IsZero() && life > 0 {
		margin = min(margin, life/2)
	}
	return t.AccessToken != "" && t.Expiry.After(now.Add(margin))
}

// tokenFor is the record's access token for key; "" is the main one.
func tokenFor(rec *store.Record, key string) store.ResourceToken {
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

// oidcScopes are the OpenID Connect scopes a refresh sends: offline_access,
// openid and profile, which every sign-in asks for, and the others the
// profile was linked with (email), so that a refresh does not narrow the
// grant.
func oidcScopes(linked []string) []string {
	out := []string{"offline_access", "openid", "profile"}
	for _, s := range linked {
		if entra.ScopeResource(s) == "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mainResourceScopes picks the profile's scopes of its first resource: a
// profile may consent to Graph and Outlook scopes at once, but a token is
// for one resource (AADSTS700022 otherwise), and the main one is the first.
func mainResourceScopes(scopes []string) []string {
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

// resourceKey names the token kept for other scopes; "" is the main one.
func resourceKey(scopes []string) string { return strings.Join(scopes, " ") }
