package account

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

func TestDescribeStates(t *testing.T) {
	f := newFixture(t)
	now := f.clock()
	day := 24 * time.Hour
	cases := []struct {
		name     string
		rec      *store.Record
		state    string
		daysLeft int
	}{
		{"no tokens", nil, StateNotLinked, -1},
		{"valid", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), LastRefreshAt: now.Add(-day)}, StateValid, 89},
		{"expired with refresh token", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Minute), LastRefreshAt: now}, StateExpired, 90},
		{"expired without refresh token", &store.Record{AccessToken: "a", Expiry: now.Add(-time.Minute)}, StateNeedsReauth, -1},
		{"marked", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), NeedsReauth: true, ReauthReason: "AADSTS700082"}, StateNeedsReauth, -1},
		// Entra refuses a refresh token unused for 90 days (AADSTS700082),
		// whatever is left of the access token.
		{"refresh token past the cut-off", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), LastRefreshAt: now.Add(-95 * day)}, StateNeedsReauth, 0},
		{"refresh token at the cut-off", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LastRefreshAt: now.Add(-90 * day)}, StateNeedsReauth, 0},
		{"a day before the cut-off", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LastRefreshAt: now.Add(-89 * day)}, StateExpired, 1},
		{"never refreshed, linked 91 days ago", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LinkedAt: now.Add(-91 * day)}, StateNeedsReauth, 0},
		{"refresh token ending", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LastRefreshAt: now.Add(-80 * day)}, StateExpired, 10},
	}
	if err := f.settings.Save(f.profile("default")); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.keyring.Delete("default")
			if c.rec != nil {
				f.keyring.Save("default", c.rec)
			}
			cfg, _ := f.settings.Load()
			s := f.svc.Describe(cfg, []string{"default"})[0]
			if s.State != c.state {
				t.Errorf("state %q, want %q (%s)", s.State, c.state, s.Reason)
			}
			got := -1
			if s.RefreshTokenDaysLeft != nil {
				got = *s.RefreshTokenDaysLeft
			}
			if c.state != StateNeedsReauth && got != c.daysLeft {
				t.Errorf("days left %d, want %d", got, c.daysLeft)
			}
			if c.state == StateNeedsReauth && got > 0 {
				t.Errorf("a refresh token that needs a person has %d days left", got)
			}
			warned := len(s.Warnings) > 0
			if wantWarning := c.state != StateNeedsReauth && got >= 0 && got <= 14; warned != wantWarning {
				t.Errorf("warnings %q, want a warning: %t", s.Warnings, wantWarning)
			}
			if warned && !strings.Contains(s.Warnings[0], "ms365auth reauth --non-interactive") {
				t.Errorf("the warning names no command that renews the refresh token: %q", s.Warnings[0])
			}
		})
	}
}

func TestDescribeOtherTokensAndProfiles(t *testing.T) {
	f := newFixture(t)
	now := f.clock()
	f.settings.Save(f.profile("default"))
	sandbox := f.profile(profile.SandboxName)
	sandbox.Sandbox = true
	f.settings.Save(sandbox)
	f.keyring.Save("default", &store.Record{AccessToken: "a", Expiry: now.Add(time.Hour), Resources: map[string]store.ResourceToken{
		"https://outlook.office.com/SMTP.Send":             {AccessToken: "b", Expiry: now.Add(-time.Minute)},
		"https://outlook.office.com/IMAP.AccessAsUser.All": {AccessToken: "c", Expiry: now.Add(time.Hour)},
	}})
	f.keyring.Save(profile.SandboxName, &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Minute), LastRefreshAt: now})
	cfg, _ := f.settings.Load()
	list := f.svc.Describe(cfg, cfg.Select("", true))
	if len(list) != 2 {
		t.Fatalf("%d statuses", len(list))
	}
	def, sb := list[0], list[1]
	if len(def.OtherTokens) != 2 || def.OtherTokens[0].Resource != "https://outlook.office.com" || !def.OtherTokens[0].Valid || def.OtherTokens[1].Valid {
		t.Errorf("other tokens: %+v", def.OtherTokens)
	}
	if sb.State != StateNeedsReauth || sb.Reason != SandboxEndedReason {
		t.Errorf("sandbox: %s %s", sb.State, sb.Reason)
	}
	if nobody := f.svc.Describe(cfg, []string{"nobody"})[0]; nobody.State != StateNotLinked || nobody.Linked {
		t.Errorf("unknown profile: %+v", nobody)
	}
}

// TestDescribeAsksAnUnavailableStoreOnce: status --all waits for a hung
// keyring once, not once per profile.
func TestDescribeAsksAnUnavailableStoreOnce(t *testing.T) {
	f := newFixture(t)
	f.settings.Save(f.profile("a"))
	f.settings.Save(f.profile("b"))
	calls := 0
	down := &store.UnavailableError{Cause: "the keyring does not answer."}
	counting := &countingStore{memStore: f.keyring, calls: &calls}
	f.keyring.failAll = down
	f.svc.d.OpenStore = func(string) (store.Store, error) { return counting, nil }
	cfg, _ := f.settings.Load()
	list := f.svc.Describe(cfg, []string{"a", "b"})
	if calls != 1 {
		t.Errorf("the unavailable store was asked %d times", calls)
	}
	for _, s := range list {
		if s.Error == "" {
			t.Errorf("%s: no error", s.Profile)
		}
	}
}

type countingStore struct {
	*memStore
	calls *int
}

func (c *countingStore) Load(name string) (*store.Record, error) {
	*c.calls++
	return c.memStore.Load(name)
}

func TestDescribeUnreadableAndBadStore(t *testing.T) {
	f := newFixture(t)
	f.settings.Save(f.profile("default"))
	f.keyring.failAll = store.ErrPassphrase
	cfg, _ := f.settings.Load()
	if s := f.svc.Describe(cfg, []string{"default"})[0]; s.State != StateUnreadable || !strings.Contains(s.Fix, store.EnvPassphrase) {
		t.Errorf("wrong passphrase: %+v", s)
	}
	f.keyring.failAll = store.ErrCorrupt
	if s := f.svc.Describe(cfg, []string{"default"})[0]; s.State != StateUnreadable || !strings.Contains(s.Fix, "ms365auth link") {
		t.Errorf("damaged: %+v", s)
	}
	f.keyring.failAll = errors.New("boom")
	if s := f.svc.Describe(cfg, []string{"default"})[0]; s.Error != "boom" {
		t.Errorf("other error: %+v", s)
	}
	f.svc.d.Getenv = func(k string) string { return map[string]string{EnvStore: "file"}[k] }
	p := f.profile("default")
	p.Store = StoreKeyring
	f.settings.Save(p)
	cfg, _ = f.settings.Load()
	if s := f.svc.Describe(cfg, []string{"default"})[0]; !strings.Contains(s.Error, "store move --to file") {
		t.Errorf("MS365AUTH_STORE against the settings: %+v", s)
	}
}

func TestRefreshTokenWarning(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		rec  *store.Record
		want string
	}{
		{nil, ""},
		{&store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-80 * day)}, ""},
		{&store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-89 * day)}, "dies in 1 day unless used: run ms365auth reauth --non-interactive --profile work,"},
		{&store.Record{RefreshToken: "r", LinkedAt: now.Add(-85 * day)}, "dies in 5 days"},
		{&store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-95 * day)}, ""}, // dead: status says so
	} {
		got := RefreshTokenWarning(&profile.Profile{Name: "work", AuthorityHost: entra.DefaultAuthorityHost, Tenant: "common"}, c.rec, now)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("RefreshTokenWarning = %q, want %q", got, c.want)
		}
	}
	// Another OpenID Connect server's refresh tokens do not follow Entra's
	// 90 days: nothing is foretold.
	oidc := &profile.Profile{Name: "work", AuthorityHost: "https://dex.example.org", Tenant: "common"}
	if got := RefreshTokenWarning(oidc, &store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-89 * day)}, now); got != "" {
		t.Errorf("RefreshTokenWarning for another server = %q, want none", got)
	}
}
