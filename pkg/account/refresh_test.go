package account

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

var ctx = context.Background()

func TestAValidTokenIsUsedWithoutAsking(t *testing.T) {
	f := newFixture(t)
	rec := f.link("default", f.keyring)
	before := f.srv.Stats().TokenRequests
	got, err := f.svc.AccessToken(ctx, "default", TokenRequest{Margin: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != rec.AccessToken || f.srv.Stats().TokenRequests != before {
		t.Errorf("a valid token was not used as it is (%d token requests)", f.srv.Stats().TokenRequests-before)
	}
}

// TestManyCallersOneRefresh: callers that find the token expired at once
// wait for the one that holds the lock and use what it got.
func TestManyCallersOneRefresh(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.expireIn(f.keyring, "default", -time.Minute)
	const callers = 8
	tokens := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			got, err := f.svc.AccessToken(ctx, "default", TokenRequest{Margin: 5 * time.Minute})
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
				return
			}
			tokens[i] = got.AccessToken
		})
	}
	wg.Wait()
	if n := f.srv.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes for %d callers, want 1", n, callers)
	}
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("caller %d got another token than caller 0", i)
		}
	}
}

func TestRotatedRefreshTokenIsKept(t *testing.T) {
	f := newFixture(t)
	f.extraScopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}
	f.link("default", f.keyring)
	first := f.expireIn(f.keyring, "default", -time.Minute)
	// For another resource's scopes too: the refresh token that comes back
	// replaces the profile's, whatever it was redeemed for.
	for _, scopes := range [][]string{nil, {"https://outlook.office.com/IMAP.AccessAsUser.All"}} {
		before := f.stored(f.keyring, "default").RefreshToken
		if _, err := f.svc.AccessToken(ctx, "default", TokenRequest{Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
		after := f.stored(f.keyring, "default")
		if after.RefreshToken == before || after.RefreshToken == "" {
			t.Errorf("scopes %q: the rotated refresh token was not kept", scopes)
		}
		if !after.LastRefreshAt.Equal(f.clock()) || after.NeedsReauth {
			t.Errorf("scopes %q: last refresh %v, want now", scopes, after.LastRefreshAt)
		}
	}
	rec := f.stored(f.keyring, "default")
	if rec.AccessToken == first.AccessToken {
		t.Error("the main access token was not renewed")
	}
	if len(rec.Resources) != 1 {
		t.Errorf("resources: %v", rec.Resources)
	}
}

func TestTransientFailureChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.expireIn(f.keyring, "default", -time.Minute)
	before := f.stored(f.keyring, "default")
	f.srv.FailTokenRequests(maxAttempts, 503, 0)
	_, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
	var te *TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TransientError", err)
	}
	if diff := cmp.Diff(before, f.stored(f.keyring, "default")); diff != "" {
		t.Errorf("a transient failure changed the record (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{firstBackoff, 2 * firstBackoff, 4 * firstBackoff}, f.sleeps); diff != "" {
		t.Errorf("waits between attempts (-want +got):\n%s", diff)
	}
}

// TestTransientFailureKeepsAWorkingToken: renewing early failed for now,
// but the current token still works: it is used, with warnings.
func TestTransientFailureKeepsAWorkingToken(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	rec := f.stored(f.keyring, "default")
	rec.IssuedAt = f.clock().Add(-time.Hour)
	f.keyring.Save("default", rec)
	rec = f.expireIn(f.keyring, "default", time.Minute) // a minute left of an hour
	f.srv.FailTokenRequests(maxAttempts, 503, 0)
	got, err := f.svc.AccessToken(ctx, "default", TokenRequest{Margin: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != rec.AccessToken || len(got.Warnings) != 2 || !strings.Contains(got.Warnings[1], "using the current token") {
		t.Errorf("got %q with warnings %q", got.AccessToken, got.Warnings)
	}
	// Forced (the resource refused the token), there is no such comfort.
	f.srv.FailTokenRequests(maxAttempts, 503, 0)
	if _, err := f.svc.AccessToken(ctx, "default", TokenRequest{Force: true}); err == nil {
		t.Error("a forced renewal that failed returned a token")
	}
}

func TestRefusalNeedsAPersonAndIsRemembered(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.expireIn(f.keyring, "default", -time.Minute)
	f.srv.RevokeRefreshTokens()
	_, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
	var sr *SignInRequiredError
	if !errors.As(err, &sr) {
		t.Fatalf("err = %v, want a SignInRequiredError", err)
	}
	rec := f.stored(f.keyring, "default")
	if !rec.NeedsReauth || rec.ReauthReason == "" || rec.RefreshToken == "" {
		t.Errorf("the record was not marked, or lost who it was: %+v", rec)
	}
	if len(f.sleeps) != 0 {
		t.Errorf("a refusal was tried again after %v", f.sleeps)
	}
	// Marked, the profile is not sent to Entra again.
	requests := f.srv.Stats().TokenRequests
	if _, err := f.svc.AccessToken(ctx, "default", TokenRequest{}); !errors.As(err, &sr) || !strings.Contains(sr.Reason, "AADSTS50173") {
		t.Errorf("second call: %v", err)
	}
	if f.srv.Stats().TokenRequests != requests {
		t.Error("a profile marked needs_reauth was sent to Entra")
	}
	// Status says the same.
	cfg, _ := f.settings.Load()
	if st := f.svc.Describe(cfg, []string{"default"})[0]; st.State != StateNeedsReauth {
		t.Errorf("status state %q", st.State)
	}
}

// TestRefusalForOtherScopesLeavesTheProfileAlone: a consent missing for
// another resource is not the profile's problem; the command to run asks
// for those scopes.
func TestRefusalForOtherScopesLeavesTheProfileAlone(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 65001, Message: "The user or administrator has not consented to use the application."})
	_, err := f.svc.AccessToken(ctx, "default", TokenRequest{Scopes: []string{"https://outlook.office.com/SMTP.Send"}})
	var sr *SignInRequiredError
	if !errors.As(err, &sr) || !strings.Contains(sr.Run, "--scopes 'User.Read,https://outlook.office.com/SMTP.Send'") {
		t.Fatalf("err = %v", err)
	}
	if f.stored(f.keyring, "default").NeedsReauth {
		t.Error("the profile was marked for another resource's consent")
	}
}

// TestRetryAfterCap: a Retry-After up to the cap is waited for; beyond it
// the failure is reported at once rather than hammering the server.
func TestRetryAfterCap(t *testing.T) {
	for _, c := range []struct {
		after    time.Duration
		sleeps   []time.Duration
		requests int
		ok       bool
	}{
		{2 * time.Second, []time.Duration{2 * time.Second}, 2, true},
		{maxRetryAfter, []time.Duration{maxRetryAfter}, 2, true},
		{maxRetryAfter + time.Second, nil, 1, false},
	} {
		t.Run(c.after.String(), func(t *testing.T) {
			f := newFixture(t)
			f.link("default", f.keyring)
			f.expireIn(f.keyring, "default", -time.Minute)
			before := f.srv.Stats().TokenRequests
			f.srv.FailTokenRequests(1, 429, c.after)
			_, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
			if (err == nil) != c.ok {
				t.Errorf("err = %v", err)
			}
			if diff := cmp.Diff(c.sleeps, f.sleeps); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if n := f.srv.Stats().TokenRequests - before; n != c.requests {
				t.Errorf("%d token requests, want %d", n, c.requests)
			}
		})
	}
}

// TestStoreMoveBeforeTheLock: "store move" finishes between a command's
// first read of the settings and its lock. Under the lock the settings are
// read again, so the command finds the tokens in their new store instead of
// reporting the profile as not linked (which is exit 3, a false alarm).
func TestStoreMoveBeforeTheLock(t *testing.T) {
	for _, name := range []string{"token", "reauth"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.link("default", f.keyring)
			f.expireIn(f.keyring, "default", -time.Minute) // the token must be renewed, under the lock
			f.beforeLock = func() {
				if _, err := f.svc.MoveStore(ctx, "default", StoreFile); err != nil {
					t.Fatalf("MoveStore: %v", err)
				}
			}
			var err error
			if name == "token" {
				_, err = f.svc.AccessToken(ctx, "default", TokenRequest{})
			} else {
				_, err = f.svc.Renew(ctx, "default", nil)
			}
			if err != nil {
				t.Fatalf("after a concurrent move: %v", err)
			}
			if _, err := f.keyring.Load("default"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the old store still holds the profile: %v", err)
			}
			if !f.stored(f.file, "default").Expiry.After(f.clock()) {
				t.Error("the refreshed tokens are not in the new store")
			}
		})
	}
}

func TestLoadLinkedAfterAMove(t *testing.T) {
	f := newFixture(t)
	f.link("default", f.keyring)
	f.beforeLock = func() {
		if _, err := f.svc.MoveStore(ctx, "default", StoreFile); err != nil {
			t.Fatal(err)
		}
	}
	l, err := f.svc.LoadLinked(ctx, "default")
	if err != nil || l.Record == nil || l.Store.Name() != StoreFile {
		t.Fatalf("LoadLinked: %+v, %v", l, err)
	}
}

func TestWhatNeedsAPersonWithoutAsking(t *testing.T) {
	f := newFixture(t)
	var sr *SignInRequiredError
	if _, err := f.svc.AccessToken(ctx, "nobody", TokenRequest{}); !errors.As(err, &sr) || !strings.Contains(sr.Run, "ms365auth link --profile nobody --client-id") {
		t.Errorf("never linked: %v", err)
	}
	if err := f.settings.Save(f.profile("empty")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AccessToken(ctx, "empty", TokenRequest{}); !errors.As(err, &sr) || sr.Reason != "no tokens are stored" {
		t.Errorf("settings without tokens: %v", err)
	}
	f.link("default", f.keyring)
	rec := f.expireIn(f.keyring, "default", -time.Minute)
	rec.RefreshToken = ""
	f.keyring.Save("default", rec)
	if _, err := f.svc.AccessToken(ctx, "default", TokenRequest{}); !errors.As(err, &sr) || !strings.Contains(sr.Reason, "no refresh token") {
		t.Errorf("no refresh token: %v", err)
	}
	sandbox := f.profile(profile.SandboxName)
	sandbox.Sandbox = true
	f.settings.Save(sandbox)
	f.keyring.Save(profile.SandboxName, &store.Record{AccessToken: "a", RefreshToken: "r"})
	if _, err := f.svc.AccessToken(ctx, profile.SandboxName, TokenRequest{}); !errors.As(err, &sr) || sr.Reason != SandboxEndedReason || sr.Command() != "ms365auth link --sandbox" {
		t.Errorf("sandbox: %v", err)
	}
	if n := f.srv.Stats().Refreshes; n != 0 {
		t.Errorf("%d refreshes", n)
	}
}

func TestBadAuthoritySetting(t *testing.T) {
	f := newFixture(t)
	p := f.profile("default")
	p.AuthorityHost = "ftp://example.com"
	f.settings.Save(p)
	if _, err := f.svc.AccessToken(ctx, "default", TokenRequest{}); err == nil || !strings.Contains(err.Error(), "has a bad setting") {
		t.Errorf("err = %v", err)
	}
}

// TestValidFor is the rule for "fresh enough": the margin, or half the
// token's lifetime when that is shorter; never an empty token or one a
// resource refused with a claims challenge. A profile marked needs_reauth by
// a refused refresh keeps its access token until it expires.
func TestValidFor(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	hour := time.Hour
	cases := []struct {
		name   string
		rec    store.Record
		margin time.Duration
		want   bool
	}{
		{"well within the margin", store.Record{AccessToken: "a", Expiry: now.Add(hour)}, 5 * time.Minute, true},
		{"within the margin", store.Record{AccessToken: "a", Expiry: now.Add(4 * time.Minute)}, 5 * time.Minute, false},
		{"expired", store.Record{AccessToken: "a", Expiry: now.Add(-time.Second)}, 0, false},
		{"expiring now", store.Record{AccessToken: "a", Expiry: now}, 0, false},
		{"empty access token", store.Record{Expiry: now.Add(hour)}, 0, false},
		{"marked by a refused refresh", store.Record{AccessToken: "a", Expiry: now.Add(hour), NeedsReauth: true}, 0, true},
		{"marked, expired", store.Record{AccessToken: "a", Expiry: now.Add(-time.Second), NeedsReauth: true}, 0, false},
		{"refused by a resource: claims", store.Record{AccessToken: "a", Expiry: now.Add(hour), NeedsReauth: true, ReauthClaims: `{"access_token":{}}`}, 0, false},
		// A 10-minute token with a 30-minute margin is renewed at half life.
		{"short-lived, before half", store.Record{AccessToken: "a", IssuedAt: now.Add(-4 * time.Minute), Expiry: now.Add(6 * time.Minute)}, 30 * time.Minute, true},
		{"short-lived, past half", store.Record{AccessToken: "a", IssuedAt: now.Add(-6 * time.Minute), Expiry: now.Add(4 * time.Minute)}, 30 * time.Minute, false},
		{"unknown issue time: the whole margin", store.Record{AccessToken: "a", Expiry: now.Add(6 * time.Minute)}, 30 * time.Minute, false},
	}
	for _, c := range cases {
		if got := ValidFor(&c.rec, "", now, c.margin); got != c.want {
			t.Errorf("%s: ValidFor = %v, want %v", c.name, got, c.want)
		}
	}
	other := store.Record{Resources: map[string]store.ResourceToken{"x/y": {AccessToken: "b", Expiry: now.Add(hour)}}}
	if !ValidFor(&other, "x/y", now, 0) || ValidFor(&other, "x/z", now, 0) {
		t.Error("another resource's token is judged by its own entry")
	}
}

func TestMainResourceScopes(t *testing.T) {
	got := MainResourceScopes([]string{"Calendars.Read", "https://outlook.office.com/IMAP.AccessAsUser.All", "Mail.Send", "offline_access", "openid", "profile"})
	if diff := cmp.Diff([]string{"Calendars.Read", "Mail.Send"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	got = MainResourceScopes([]string{"https://outlook.office.com/SMTP.Send", "Mail.Read", "offline_access"})
	if diff := cmp.Diff([]string{"https://outlook.office.com/SMTP.Send"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"offline_access", "openid", "profile", "email"}, OIDCScopes([]string{"User.Read", "email", "openid"})); diff != "" {
		t.Errorf("OIDCScopes mismatch (-want +got):\n%s", diff)
	}
}

func TestTransient(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"503", &entra.Error{Err: "temporarily_unavailable", HTTPStatus: 503}, true},
		{"invalid_grant", &entra.Error{Err: "invalid_grant", Code: 50173, HTTPStatus: 400}, false},
		{"connection refused", &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true},
		{"unknown host", &url.Error{Op: "Post", URL: "https://x", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}, false},
		{"bad certificate", &url.Error{Op: "Post", URL: "https://x", Err: x509.UnknownAuthorityError{}}, false},
		{"plain error", errors.New("boom"), false},
	}
	for _, c := range cases {
		if got := Transient(c.err); got != c.want {
			t.Errorf("%s: Transient = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRefusedAnswerKeepsTheRotatedRefreshToken: with a server that retires
// a refresh token once it is used (Dex), a refresh answer refused for its
// ID token still brought the only refresh token that works: it is kept,
// and once the server's ID tokens pass again the profile renews without a
// sign-in. The refused access token is not used.
func TestRefusedAnswerKeepsTheRotatedRefreshToken(t *testing.T) {
	f := newFixture(t)
	f.srv.RetireUsedRefreshTokens(true)
	f.srv.AnswerDeadRefreshTokens("invalid_request", "Refresh token is invalid or has already been claimed by another client.")
	f.link("default", f.keyring)
	before := f.expireIn(f.keyring, "default", -time.Minute)
	f.srv.EditIDTokens(func(c map[string]any) { c["aud"] = "11111111-2222-3333-4444-555555555555" })
	_, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
	var sr *SignInRequiredError
	if err == nil || errors.As(err, &sr) || !strings.Contains(err.Error(), "--client-id") || !strings.Contains(err.Error(), "was kept") {
		t.Fatalf("err = %v, want the refusal, saying the refresh token was kept", err)
	}
	rec := f.stored(f.keyring, "default")
	if rec.RefreshToken == before.RefreshToken || rec.AccessToken != before.AccessToken || rec.NeedsReauth {
		t.Errorf("refresh token rotated %v, access token kept %v, needs_reauth %v: want the new refresh token only",
			rec.RefreshToken != before.RefreshToken, rec.AccessToken == before.AccessToken, rec.NeedsReauth)
	}
	f.srv.EditIDTokens(nil)
	got, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
	if err != nil {
		t.Fatalf("after the server mended its ID tokens: %v", err)
	}
	if got.AccessToken == before.AccessToken {
		t.Error("the old access token was returned")
	}
}

// TestRefusedAnswerForAnotherAccountNeedsASignIn: an answer whose ID token
// names another account brings another account's refresh token: nothing
// of it is kept, and the profile needs a sign-in, which says why.
func TestRefusedAnswerForAnotherAccountNeedsASignIn(t *testing.T) {
	f := newFixture(t)
	f.srv.RetireUsedRefreshTokens(true)
	f.link("default", f.keyring)
	before := f.expireIn(f.keyring, "default", -time.Minute)
	f.srv.EditIDTokens(func(c map[string]any) {
		c["oid"] = "99999999-8888-7777-6666-555555555555"
		c["aud"] = "11111111-2222-3333-4444-555555555555"
	})
	_, err := f.svc.AccessToken(ctx, "default", TokenRequest{})
	var sr *SignInRequiredError
	if !errors.As(err, &sr) || !strings.Contains(sr.Reason, "another account") {
		t.Fatalf("err = %v, want a sign-in that says another account answered", err)
	}
	rec := f.stored(f.keyring, "default")
	if rec.RefreshToken != before.RefreshToken || !rec.NeedsReauth {
		t.Errorf("another account's refresh token was kept (%v) or the profile not marked (%v)", rec.RefreshToken != before.RefreshToken, rec.NeedsReauth)
	}
}

// TestAdminApprovalHandsOnTheConsentLink: when Entra says an admin must
// approve (90094, or 65001 where users may not consent), the fix carries
// the admin consent link for this app and tenant, with the scopes asked
// for; other refusals do not.
func TestAdminApprovalHandsOnTheConsentLink(t *testing.T) {
	for _, c := range []struct {
		code   int
		scopes []string // of the token asked for; nil: the profile's own
		link   bool
	}{
		{90094, nil, true},
		{65001, nil, true},
		{65001, []string{"https://outlook.office.com/SMTP.Send"}, true},
		{50076, nil, false},
	} {
		t.Run(fmt.Sprint(c.code, c.scopes), func(t *testing.T) {
			f := newFixture(t)
			f.link("default", f.keyring)
			f.expireIn(f.keyring, "default", -time.Minute)
			f.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: c.code, Message: "Need admin approval."})
			_, err := f.svc.AccessToken(ctx, "default", TokenRequest{Scopes: c.scopes})
			var sr *SignInRequiredError
			if !errors.As(err, &sr) {
				t.Fatalf("err = %v", err)
			}
			_, after, found := strings.Cut(sr.Fix, "by opening: ")
			if found != c.link {
				t.Fatalf("fix %q: link handed on %v, want %v", sr.Fix, found, c.link)
			}
			if !found {
				return
			}
			u, err := url.Parse(after)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			wantScope := append([]string{"User.Read", "offline_access", "openid", "profile"}, c.scopes...)
			gotScope := strings.Fields(q.Get("scope"))
			slices.Sort(wantScope)
			slices.Sort(gotScope)
			if u.Path != "/organizations/v2.0/adminconsent" || q.Get("client_id") != entrasim.DefaultClientID ||
				q.Get("redirect_uri") != f.srv.URL+"/common/oauth2/nativeclient" || !slices.Equal(gotScope, wantScope) {
				t.Errorf("admin consent link %s", after)
			}
		})
	}
}
