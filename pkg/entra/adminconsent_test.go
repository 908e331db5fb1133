package entra

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

func TestAdminConsentURL(t *testing.T) {
	scopes := []string{"offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All"}
	for _, c := range []struct {
		host, tenant, want string
	}{
		{"", "contoso.onmicrosoft.com", "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?"},
		{"https://login.microsoftonline.us", "common", "https://login.microsoftonline.us/organizations/v2.0/adminconsent?"},
		{"https://login.microsoftonline.com", "0a1b2c3d-0000-4000-8000-123456789abc", "https://login.microsoftonline.com/0a1b2c3d-0000-4000-8000-123456789abc/v2.0/adminconsent?"},
	} {
		got, err := AdminConsentURL(Authority{Host: c.host, Tenant: c.tenant}, "11112222-3333-4444-5555-666677778888", NativeClientRedirectURI, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s/%s: %s, want it to start %s", c.host, c.tenant, got, c.want)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("client_id") != "11112222-3333-4444-5555-666677778888" || q.Get("redirect_uri") != NativeClientRedirectURI || q.Get("scope") != strings.Join(scopes, " ") {
			t.Errorf("query %v", q)
		}
	}
	if _, err := AdminConsentURL(Authority{Tenant: "consumers"}, "c", NativeClientRedirectURI, scopes); err == nil || !strings.Contains(err.Error(), "no administrator") {
		t.Errorf("consumers: %v", err)
	}
	if _, err := AdminConsentURL(Authority{Tenant: "contoso.com"}, "c", "", scopes); err == nil {
		t.Error("no redirect URI: no error")
	}
}

// TestAdminConsentURLSurvivesRedaction: error messages pass through
// servertext.Redact, which must leave the link whole.
func TestAdminConsentURLSurvivesRedaction(t *testing.T) {
	got, err := AdminConsentURL(Authority{Tenant: "contoso.com"}, "11112222-3333-4444-5555-666677778888", NativeClientRedirectURI,
		[]string{"offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"})
	if err != nil {
		t.Fatal(err)
	}
	if red := servertext.Redact(got); red != got {
		t.Errorf("redacted:\n%s\nfrom\n%s", red, got)
	}
}
