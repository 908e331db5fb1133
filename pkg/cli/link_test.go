package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/profile"
)

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
