package cli

import (
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// memStore is a Store in memory, for unit tests of decisions only; the
// real keyring is exercised by the end-to-end tests.
type memStore struct{ records map[string]*store.Record }

func (m *memStore) Name() string { return "keyring" }
func (m *memStore) Load(p string) (*store.Record, error) {
	if r, ok := m.records[p]; ok {
		return r, nil
	}
	return nil, store.ErrNotFound
}
func (m *memStore) Save(p string, r *store.Record) error { m.records[p] = r; return nil }
func (m *memStore) Delete(p string) error                { delete(m.records, p); return nil }
func (m *memStore) LoadSecret(string) (string, error)    { return "", store.ErrNotFound }
func (m *memStore) SaveSecret(string, string) error      { return nil }
func (m *memStore) DeleteSecret(string) error            { return nil }

func TestDescribeStates(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := &profile.Profile{Name: "default", ClientID: "c", Tenant: "common", AuthorityHost: "https://login.microsoftonline.com", Method: "paste"}
	cases := []struct {
		name     string
		rec      *store.Record
		state    string
		exit     int
		daysLeft int
	}{
		{"not linked", nil, StateNotLinked, ExitSignIn, -1},
		{"valid", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), LastRefreshAt: now.Add(-24 * time.Hour)}, StateValid, ExitOK, 89},
		{"expired with refresh token", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Minute), LastRefreshAt: now}, StateExpired, ExitOK, 90},
		{"expired without refresh token", &store.Record{AccessToken: "a", Expiry: now.Add(-time.Minute)}, StateNeedsReauth, ExitSignIn, -1},
		{"marked", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), NeedsReauth: true, ReauthReason: "AADSTS700082"}, StateNeedsReauth, ExitSignIn, -1},
		// Entra refuses a refresh token unused for 90 days (AADSTS700082),
		// whatever is left of the access token.
		{"refresh token past the cut-off", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), LastRefreshAt: now.Add(-95 * 24 * time.Hour)}, StateNeedsReauth, ExitSignIn, 0},
		{"refresh token at the cut-off", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LastRefreshAt: now.Add(-90 * 24 * time.Hour)}, StateNeedsReauth, ExitSignIn, 0},
		{"never refreshed, linked 91 days ago", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LinkedAt: now.Add(-91 * 24 * time.Hour)}, StateNeedsReauth, ExitSignIn, 0},
		{"refresh token ending", &store.Record{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour), LastRefreshAt: now.Add(-80 * 24 * time.Hour)}, StateExpired, ExitOK, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms := &memStore{records: map[string]*store.Record{}}
			if c.rec != nil {
				ms.records["default"] = c.rec
			}
			env := &Env{OpenStore: func(string) (store.Store, error) { return ms, nil }}
			s := describe(env, p, "default", map[string]store.Store{}, now)
			if s.State != c.state || statusExit(s) != c.exit {
				t.Errorf("state %q exit %d, want %q %d", s.State, statusExit(s), c.state, c.exit)
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

func TestSettingsPrecedence(t *testing.T) {
	cfg := &profile.Config{Profiles: map[string]*profile.Profile{
		"work": {Name: "work", ClientID: "stored-id", Tenant: "contoso.example", Scopes: []string{"Mail.Read", "offline_access", "openid", "profile"}, Method: "paste", RedirectURI: "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"},
	}}
	env := &Env{Getenv: func(k string) string {
		if k == "MS365AUTH_AUTHORITY_HOST" {
			return "https://login.microsoftonline.us"
		}
		return ""
	}}
	p, err := settings(env, cfg, &linkOptions{Profile: "work", Scopes: []string{"calendar"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &profile.Profile{
		Name: "work", ClientID: "stored-id", Tenant: "contoso.example",
		AuthorityHost: "https://login.microsoftonline.us",
		Scopes:        []string{"Calendars.Read", "offline_access", "openid", "profile"},
		Method:        "paste",
		RedirectURI:   "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("settings mismatch (-want +got):\n%s", diff)
	}
	if cfg.Profiles["work"].AuthorityHost != "" {
		t.Errorf("settings changed the stored profile before a successful link")
	}
	if _, err := settings(env, cfg, &linkOptions{Profile: "new"}); err == nil {
		t.Errorf("a first link without --client-id was accepted")
	}
}

func TestMainResourceScopes(t *testing.T) {
	got := mainResourceScopes([]string{"Calendars.Read", "https://outlook.office.com/IMAP.AccessAsUser.All", "Mail.Send", "offline_access", "openid", "profile"})
	if diff := cmp.Diff([]string{"Calendars.Read", "Mail.Send"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	got = mainResourceScopes([]string{"https://outlook.office.com/SMTP.Send", "Mail.Read", "offline_access"})
	if diff := cmp.Diff([]string{"https://outlook.office.com/SMTP.Send"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestRoughly(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", 59*time.Minute + 59*time.Second: "59m", time.Hour: "1h",
		time.Hour + 30*time.Second: "1h", 75 * time.Minute: "1h 15m", 26 * time.Hour: "26h",
	} {
		if got := roughly(d); got != want {
			t.Errorf("roughly(%v) = %q, want %q", d, got, want)
		}
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
		if got := transient(c.err); got != c.want {
			t.Errorf("%s: transient = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStoreTextNamesAWriteThatWorks: a plain record with a passphrase set is
// encrypted by its next write; the command named must be one that writes,
// which for the sandbox, whose stand-in has ended, is a new link.
func TestStoreTextNamesAWriteThatWorks(t *testing.T) {
	plain := false
	for _, c := range []struct {
		s    profileStatus
		want string
	}{
		{profileStatus{Profile: "work", Store: "file", Encrypted: &plain, passphraseSet: true}, "ms365auth reauth --profile work)"},
		{profileStatus{Profile: "sandbox", Sandbox: true, Store: "file", Encrypted: &plain, passphraseSet: true}, "ms365auth link --sandbox)"},
	} {
		if got := storeText(c.s); !strings.HasSuffix(got, c.want) {
			t.Errorf("storeText(%s) = %q, want it to end with %q", c.s.Profile, got, c.want)
		}
	}
}
