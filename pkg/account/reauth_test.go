package account

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// TestPlanReauthRefreshesSilently: with the same scopes and a working
// refresh token, reauth refreshes and keeps the rotated refresh token.
func TestPlanReauthRefreshesSilently(t *testing.T) {
	f := newFixture(t)
	before := f.link("work", f.keyring)
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.SignIn != nil || plan.Renewed == nil || plan.Narrowed {
		t.Fatalf("plan: sign-in %v, renewed %v, narrowed %v; want a silent refresh", plan.SignIn, plan.Renewed != nil, plan.Narrowed)
	}
	if n := f.srv.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	stored := f.stored(f.keyring, "work")
	if stored.AccessToken == before.AccessToken || stored.AccessToken != plan.Renewed.AccessToken {
		t.Error("the refreshed tokens were not stored")
	}
	if plan.Record == nil || plan.Record.AccessToken != before.AccessToken {
		t.Error("the plan lost the record read before the refresh")
	}
}

// TestPlanReauthWhyAPerson: each reason to sign in, and the command an
// unattended run names for it, which must do what this run was asked.
func TestPlanReauthWhyAPerson(t *testing.T) {
	for _, c := range []struct {
		name    string
		prepare func(f *fixture)
		req     ReauthRequest
		reason  string
		run     string
		scopes  []string // the scopes the sign-in asks for
	}{
		{"claims given", nil, ReauthRequest{Claims: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`},
			ClaimsReason, "ms365auth reauth --profile work", nil},
		{"claims saved", func(f *fixture) {
			f.svc.RememberClaims(&SignInRequiredError{Profile: "work", Claims: `{"access_token":{"xms_cc":{"values":["` + strings.Repeat("cp1", 100) + `"]}}}`})
		}, ReauthRequest{}, ClaimsReason, "ms365auth reauth --profile work", nil},
		{"forced", nil, ReauthRequest{Force: true}, "--force", "ms365auth reauth --profile work --force", nil},
		{"no tokens", func(f *fixture) {
			if err := f.keyring.Delete("work"); err != nil {
				t.Fatal(err)
			}
		}, ReauthRequest{}, "no tokens are stored", "ms365auth reauth --profile work", nil},
		{"added scopes", nil, ReauthRequest{Scopes: []string{"calendar"}},
			"the scopes changed: Calendars.Read need consent", "ms365auth reauth --profile work --scopes 'calendar'",
			[]string{"User.Read", "Calendars.Read", "offline_access", "openid", "profile"}},
		{"added and removed", nil, ReauthRequest{Scopes: []string{"calendar"}, RemoveScopes: []string{"User.Read"}},
			"the scopes changed: Calendars.Read need consent", "ms365auth reauth --profile work --scopes 'calendar' --remove-scopes 'User.Read'", nil},
		{"refused", func(f *fixture) { f.srv.RevokeRefreshTokens() }, ReauthRequest{}, "AADSTS50173", "ms365auth reauth --profile work", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.link("work", f.keyring)
			if c.prepare != nil {
				c.prepare(f)
			}
			c.req.Profile = "work"
			requests := f.srv.Stats().TokenRequests
			plan, err := f.svc.PlanReauth(ctx, c.req)
			if err != nil {
				t.Fatal(err)
			}
			sr := plan.SignIn
			if sr == nil || plan.Renewed != nil {
				t.Fatalf("no sign-in planned (renewed: %v)", plan.Renewed != nil)
			}
			if !strings.Contains(sr.Reason, c.reason) || sr.Run != c.run || sr.Profile != "work" {
				t.Errorf("sign-in %+v; want reason %q, run %q", sr, c.reason, c.run)
			}
			if c.scopes != nil && !slices.Equal(plan.Profile.Scopes, c.scopes) {
				t.Errorf("the sign-in asks for %q, want %q", plan.Profile.Scopes, c.scopes)
			}
			// Only a refresh that might work is tried; the settings wait
			// for the sign-in.
			if tried := f.srv.Stats().TokenRequests > requests; tried != (c.name == "refused") {
				t.Errorf("refresh tried: %v", tried)
			}
			if p, _, _ := f.settings.Get("work"); !slices.Equal(p.Scopes, f.profile("work").Scopes) {
				t.Errorf("the settings changed before a sign-in: %q", p.Scopes)
			}
		})
	}
}

// TestPlanReauthCarriesTheRefusal: Entra's refusal gives the sign-in its
// reason, its fix beyond signing in, and its claims challenge.
func TestPlanReauthCarriesTheRefusal(t *testing.T) {
	f := newFixture(t)
	f.link("work", f.keyring)
	claims := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	f.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 50076, Suberror: "basic_action", Claims: claims,
		Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication."})
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work"})
	if err != nil {
		t.Fatal(err)
	}
	sr := plan.SignIn
	if sr == nil || !strings.Contains(sr.Reason, "AADSTS50076") || sr.Claims != claims {
		t.Fatalf("sign-in %+v; want AADSTS50076 with its claims", sr)
	}
	if want := "ms365auth reauth --profile work --claims " + entra.EncodeClaims(claims); sr.Command() != want {
		t.Errorf("command %q, want %q", sr.Command(), want)
	}
}

// TestPlanReauthNarrowsScopes: only removals are tried as a refresh with
// fewer scopes; when it works, the profile asks for those from now on.
func TestPlanReauthNarrowsScopes(t *testing.T) {
	f := newFixture(t)
	f.extraScopes = []string{"Mail.Read"}
	f.link("work", f.keyring)
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work", RemoveScopes: []string{"Mail.Read"}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.SignIn != nil || plan.Renewed == nil || !plan.Narrowed {
		t.Fatalf("plan: sign-in %v, renewed %v, narrowed %v; want a narrowed refresh", plan.SignIn, plan.Renewed != nil, plan.Narrowed)
	}
	want := []string{"User.Read", "offline_access", "openid", "profile"}
	if p, _, _ := f.settings.Get("work"); !slices.Equal(p.Scopes, want) || !slices.Equal(plan.Profile.Scopes, want) {
		t.Errorf("settings ask for %q, plan for %q; want %q", p.Scopes, plan.Profile.Scopes, want)
	}
}

// TestPlanReauthTransientKeepsTheRecord: a refresh that fails for a while
// is an error, with the unchanged record to warn about.
func TestPlanReauthTransientKeepsTheRecord(t *testing.T) {
	f := newFixture(t)
	before := f.link("work", f.keyring)
	f.srv.FailTokenRequests(maxAttempts, 503, 0)
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work"})
	var te *TransientError
	if !errors.As(err, &te) || plan == nil || plan.Record == nil || plan.Record.RefreshToken != before.RefreshToken {
		t.Fatalf("err = %v, plan %+v; want a TransientError with the record", err, plan)
	}
	if f.stored(f.keyring, "work").AccessToken != before.AccessToken {
		t.Error("a failed refresh changed the stored tokens")
	}
}

// TestPlanReauthSandbox: the sandbox's stand-in is gone, so it needs
// link --sandbox, and nothing is opened or refreshed.
func TestPlanReauthSandbox(t *testing.T) {
	f := newFixture(t)
	p := f.profile(profile.SandboxName)
	p.Sandbox = true
	if err := f.settings.Save(p); err != nil {
		t.Fatal(err)
	}
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: profile.SandboxName, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Sandbox || plan.SignIn == nil || plan.SignIn.Reason != SandboxEndedReason || plan.SignIn.Command() != "ms365auth link --sandbox" {
		t.Errorf("plan %+v, sign-in %+v", plan, plan.SignIn)
	}
	if plan.Store != nil || f.srv.Stats().TokenRequests != 0 {
		t.Error("the sandbox's store was opened or Entra asked")
	}
}

func TestPlanReauthBadScopesAndNotLinked(t *testing.T) {
	f := newFixture(t)
	f.link("work", f.keyring)
	if _, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work", RemoveScopes: []string{"Mail.Send"}}); err == nil {
		t.Error("removing a scope the profile does not ask for was accepted")
	}
	var sr *SignInRequiredError
	if _, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "home"}); !errors.As(err, &sr) || !strings.Contains(sr.Run, "ms365auth link --profile home") {
		t.Errorf("a profile never linked: %v", err)
	}
}

// TestReauthSignInHelpers: the secret a confidential profile's sign-in
// reads, the login hint, and the refusal of another account.
func TestReauthSignInHelpers(t *testing.T) {
	f := newFixture(t)
	rec := f.link("work", f.keyring)
	plan, err := f.svc.PlanReauth(ctx, ReauthRequest{Profile: "work", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := plan.Secret(); secret != "" || err != nil {
		t.Errorf("a public profile's secret: %q %v", secret, err)
	}
	plan.Profile.Confidential = true
	if _, err := plan.Secret(); err == nil || !strings.Contains(err.Error(), `client secret of profile "work"`) {
		t.Errorf("a missing secret: %v", err)
	}
	if err := f.keyring.SaveSecret("work", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if secret, err := plan.Secret(); secret != "s3cret" || err != nil {
		t.Errorf("a kept secret: %q %v", secret, err)
	}

	if !strings.Contains(rec.Account, "@") || plan.LoginHint() != rec.Account {
		t.Errorf("login hint %q for account %q", plan.LoginHint(), rec.Account)
	}
	plan.Record.Account = "Alex Wilber" // a display name is no hint
	if h := plan.LoginHint(); h != "" {
		t.Errorf("login hint %q from a display name", h)
	}
	plan.Record.Account = rec.Account

	same := &flow.Result{Claims: entra.Claims{OID: rec.ObjectID}}
	if err := plan.CheckAccount(same); err != nil {
		t.Errorf("the same account was refused: %v", err)
	}
	other := &flow.Result{Claims: entra.Claims{OID: "another-oid", PreferredUsername: "eve@example.com"}}
	if err := plan.CheckAccount(other); err == nil || !strings.Contains(err.Error(), "signed in as eve@example.com, but profile \"work\" is linked to "+rec.Account) {
		t.Errorf("another account: %v", err)
	}
	plan.Record = nil // nothing linked to compare with
	if err := plan.CheckAccount(other); err != nil {
		t.Errorf("with no record: %v", err)
	}
}

// TestNotification: for the primary method the message sends the person
// to a sign-in started now, which link --returned-url finishes; other
// methods name the command to run. A fix beyond signing in follows.
func TestNotification(t *testing.T) {
	f := newFixture(t)
	p := f.profile("work")
	claims := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	sr := &SignInRequiredError{Profile: "work", Reason: "AADSTS50076", Run: "ms365auth reauth --profile work", Fix: "Ask an admin.", Claims: claims}
	message, link := f.svc.Notification(p, sr)
	want := `ms365auth: profile "work" needs a sign-in (AADSTS50076). Open the link and sign in, then paste the address you land on into: ms365auth link --profile work --returned-url - Ask an admin.`
	if message != want || !strings.HasPrefix(link, f.srv.URL+"/common/oauth2/v2.0/authorize?") {
		t.Fatalf("message %q\nlink %q", message, link)
	}
	if !strings.Contains(link, "claims=") {
		t.Errorf("the link does not carry the claims challenge: %s", link)
	}
	ps, err := f.svc.LoadPending("work")
	if err != nil || ps.Profile.ClientID != p.ClientID {
		t.Fatalf("no pending sign-in for the link: %v", err)
	}
	// The link signs in, and link --returned-url can finish it.
	returned, err := f.srv.Authorize(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Client(&ps.Profile, "").Resume(ps.Profile.RedirectURI, ps.State, ps.Verifier).RedeemReturnedURL(ctx, returned); err != nil {
		t.Errorf("the pending sign-in could not be finished: %v", err)
	}

	p.Method = profile.MethodDevice
	sr.Fix = ""
	message, link = f.svc.Notification(p, sr)
	if want := `ms365auth: profile "work" needs a sign-in (AADSTS50076). Run: ` + sr.Command(); message != want || link != "" {
		t.Errorf("device: message %q, link %q", message, link)
	}
}

// TestNotificationWithoutAStateDirectory: with nowhere to keep a pending
// sign-in, the message names the command to run instead of a dead link.
func TestNotificationWithoutAStateDirectory(t *testing.T) {
	f := newFixture(t)
	f.svc.d.StateDir = ""
	sr := &SignInRequiredError{Profile: "default", Reason: "no tokens are stored"}
	message, link := f.svc.Notification(f.profile("default"), sr)
	if want := `ms365auth: profile "default" needs a sign-in (no tokens are stored). Run: ms365auth reauth`; message != want || link != "" {
		t.Errorf("message %q, link %q", message, link)
	}
}
