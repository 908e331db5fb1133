package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
	"github.com/ms365auth/ms365auth/pkg/tokenlife"
)

// TestSignInFrequencyDeadline: Entra refuses a refresh with AADSTS70043
// and N = 36000 s; the profile keeps N through the next sign-in, and
// status then shows that session's real end (sign-in + 10 h) beside the
// 90-day countdown, warns over its last fifth, and past it needs a person.
func TestSignInFrequencyDeadline(t *testing.T) {
	f := newFixture(t)
	f.srv.SetClock(f.clock)
	f.srv.RequireSignInFrequency(36000 * time.Second)
	f.link("work", f.keyring)
	describe := func() Status {
		t.Helper()
		cfg, err := f.settings.Load()
		if err != nil {
			t.Fatal(err)
		}
		return f.svc.Describe(cfg, []string{"work"})[0]
	}
	if s := describe(); s.SessionEndReason != string(tokenlife.Inactivity) || s.SignInFrequencySeconds != 0 {
		t.Fatalf("before any refusal: %+v", s)
	}

	// Eleven hours on, the refresh is refused and N is learned.
	f.now = f.now.Add(11 * time.Hour)
	_, err := f.svc.AccessToken(context.Background(), "work", TokenRequest{Margin: time.Minute})
	var sr *SignInRequiredError
	if !errors.As(err, &sr) || !strings.Contains(sr.Reason, "70043") {
		t.Fatalf("refresh after 11 h: %v, want AADSTS70043", err)
	}
	if got := f.stored(f.keyring, "work").SignInFrequencySeconds; got != 36000 {
		t.Fatalf("recorded sign-in frequency %d s, want 36000", got)
	}

	// The person signs in again: N stays, the session runs from now.
	signedIn := f.clock()
	f.link("work", f.keyring)
	rec := f.stored(f.keyring, "work")
	if rec.SignInFrequencySeconds != 36000 || rec.NeedsReauth {
		t.Fatalf("after the new sign-in: frequency %d, needs reauth %t", rec.SignInFrequencySeconds, rec.NeedsReauth)
	}
	end := signedIn.Add(10 * time.Hour).UTC().Truncate(time.Second)
	for _, c := range []struct {
		age   time.Duration
		state string
		warn  bool
	}{
		// The access token's expiry follows the real clock (x/oauth2
		// reads expires_in), this test's clock runs ahead: valid or
		// expired, a refresh token renews it until the session ends.
		{time.Minute, StateExpired, false},
		{5 * time.Hour, StateExpired, false},
		{7*time.Hour + 59*time.Minute, StateExpired, false}, // the last fifth (2 h) begins at 8 h
		{8*time.Hour + time.Minute, StateExpired, true},
		{9*time.Hour + 59*time.Minute, StateExpired, true},
		{10*time.Hour + time.Second, StateNeedsReauth, false},
	} {
		f.now = signedIn.Add(c.age)
		s := describe()
		if s.State != c.state && !(c.state == StateExpired && s.State == StateValid) {
			t.Errorf("at %s: state %q, want %q (%s)", c.age, s.State, c.state, s.Reason)
		}
		if s.RefreshTokenDaysLeft == nil && c.state != StateNeedsReauth {
			t.Errorf("at %s: the 90-day countdown is gone", c.age)
		}
		if c.state != StateNeedsReauth && (s.SessionEndsAt == nil || !s.SessionEndsAt.Equal(end) || s.SessionEndReason != "sign_in_frequency" || s.SignInFrequencySeconds != 36000) {
			t.Errorf("at %s: session ends %v (%s), want %v (sign_in_frequency)", c.age, s.SessionEndsAt, s.SessionEndReason, end)
		}
		warned := strings.Join(s.Warnings, "\n")
		if c.warn != (warned != "") {
			t.Errorf("at %s: warnings %q, want a warning: %t", c.age, warned, c.warn)
		}
		if c.warn && (!strings.Contains(warned, "ms365auth reauth --profile work --force") || !strings.Contains(warned, "--device-wait") || !strings.Contains(warned, "every 10h")) {
			t.Errorf("at %s: the warning does not name the renewing command, the device-code opt-in and the frequency: %q", c.age, warned)
		}
		if c.state == StateNeedsReauth && !strings.Contains(s.Reason, "sign-in frequency") {
			t.Errorf("past the end: reason %q", s.Reason)
		}
	}
}

// TestLifetimeOfOtherServers: for a server that is not Microsoft's, the
// 90-day rule is not shown as fact; the lifetime is unknown unless the
// server said it (refresh_expires_in).
func TestLifetimeOfOtherServers(t *testing.T) {
	f := newFixture(t)
	p := f.profile("oidc")
	p.AuthorityHost = "https://idp.example.org"
	if err := f.settings.Save(p); err != nil {
		t.Fatal(err)
	}
	now := f.clock()
	rec := &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), LinkedAt: now.Add(-100 * 24 * time.Hour), LastRefreshAt: now.Add(-95 * 24 * time.Hour)}
	f.keyring.Save("oidc", rec)
	cfg, _ := f.settings.Load()
	s := f.svc.Describe(cfg, []string{"oidc"})[0]
	if s.State != StateValid || s.RefreshTokenDaysLeft != nil || !s.LifetimeUnknown || s.SessionEndsAt != nil {
		t.Errorf("unknown lifetime: state %q, days left %v, lifetime_unknown %t, session ends %v", s.State, s.RefreshTokenDaysLeft, s.LifetimeUnknown, s.SessionEndsAt)
	}

	rec.RefreshExpiry = now.Add(30 * time.Minute)
	f.keyring.Save("oidc", rec)
	s = f.svc.Describe(cfg, []string{"oidc"})[0]
	if s.LifetimeUnknown || s.SessionEndsAt == nil || s.SessionEndReason != "refresh_expires_in" || len(s.Warnings) != 1 {
		t.Errorf("announced lifetime: %+v", s)
	}
}

// TestRefreshKeepsRefreshExpiresIn: a server that announces its refresh
// token's lifetime has it kept with each rotation.
func TestRefreshKeepsRefreshExpiresIn(t *testing.T) {
	f := newFixture(t)
	f.srv.AnnounceRefreshLifetime(30 * 24 * time.Hour)
	if rec := f.link("work", f.keyring); !rec.RefreshExpiry.Equal(f.clock().Add(30 * 24 * time.Hour)) {
		t.Errorf("after the sign-in: refresh expiry %v", rec.RefreshExpiry)
	}
	rec := f.stored(f.keyring, "work")
	rec.RefreshExpiry = time.Time{} // as an older version stored it
	f.keyring.Save("work", rec)
	if _, err := f.svc.Renew(context.Background(), "work", nil); err != nil {
		t.Fatal(err)
	}
	if rec := f.stored(f.keyring, "work"); !rec.RefreshExpiry.Equal(f.clock().Add(30 * 24 * time.Hour)) {
		t.Errorf("after a refresh: refresh expiry %v, want %v", rec.RefreshExpiry, f.clock().Add(30*24*time.Hour))
	}
}

func TestRoughly(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", 59*time.Minute + 59*time.Second: "59m", time.Hour: "1h",
		time.Hour + 30*time.Second: "1h", 75 * time.Minute: "1h 15m", 26 * time.Hour: "26h",
		10 * time.Hour: "10h", 14 * 24 * time.Hour: "14d", 50 * time.Hour: "2d 2h",
	} {
		if got := Roughly(d); got != want {
			t.Errorf("Roughly(%v) = %q, want %q", d, got, want)
		}
	}
}
