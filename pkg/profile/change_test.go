package profile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entra"
)

func TestApply(t *testing.T) {
	oidc := []string{"offline_access", "openid", "profile"}
	stored := Profile{
		Name: "work", ClientID: "stored-id", Tenant: "contoso.example", AuthorityHost: entra.DefaultAuthorityHost,
		Scopes: append([]string{"Mail.Read"}, oidc...), Method: MethodAlt, RedirectURI: "http://localhost:8400/cb",
		Listen: "127.0.0.1:8400", TLSCert: "c.pem", TLSKey: "k.pem", Store: "file", Confidential: true,
	}
	tests := []struct {
		name   string
		from   Profile
		change Change
		want   func(p *Profile)
	}{
		{"nothing asked keeps everything", stored, Change{}, func(p *Profile) {}},
		{"flags replace", stored, Change{ClientID: "new-id", Tenant: "fabrikam.example", Scopes: []string{"calendar"}, Listen: "127.0.0.1:9000"},
			func(p *Profile) {
				p.ClientID, p.Tenant, p.Listen = "new-id", "fabrikam.example", "127.0.0.1:9000"
				p.Scopes = append([]string{"Calendars.Read"}, oidc...)
			}},
		{"a national cloud", stored, Change{AuthorityHost: "https://login.microsoftonline.us/"},
			func(p *Profile) { p.AuthorityHost = "https://login.microsoftonline.us" }},
		{"another method forgets the redirect URI and the listener", stored, Change{Method: MethodPaste},
			func(p *Profile) {
				p.Method, p.RedirectURI = MethodPaste, entra.NativeClientRedirectURI
				p.Listen, p.TLSCert, p.TLSKey = "", "", ""
			}},
		{"device code has no redirect URI", stored, Change{Method: MethodDevice},
			func(p *Profile) {
				p.Method, p.RedirectURI, p.Listen, p.TLSCert, p.TLSKey = MethodDevice, "", "", "", ""
			}},
		{"a new profile gets the defaults", Profile{Name: "new", Method: MethodPaste}, Change{ClientID: "id"},
			func(p *Profile) {
				*p = Profile{Name: "new", ClientID: "id", Tenant: "common", AuthorityHost: entra.DefaultAuthorityHost,
					Scopes: append([]string{"User.Read"}, oidc...), Method: MethodPaste, RedirectURI: entra.NativeClientRedirectURI}
			}},
		{"the alternate method's default", Profile{Name: "new", ClientID: "id", Method: MethodPaste}, Change{Method: MethodAlt},
			func(p *Profile) {
				*p = Profile{Name: "new", ClientID: "id", Tenant: "common", AuthorityHost: entra.DefaultAuthorityHost,
					Scopes: append([]string{"User.Read"}, oidc...), Method: MethodAlt, RedirectURI: DefaultAltRedirectURI}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.from
			before.Scopes = append([]string(nil), tt.from.Scopes...)
			got, err := tt.from.Apply(tt.change)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.from
			tt.want(&want)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Apply mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.from); diff != "" {
				t.Errorf("Apply changed the profile it started from (-before +after):\n%s", diff)
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	p := Profile{Name: "work", ClientID: "id", Method: MethodPaste}
	if _, err := p.Apply(Change{AuthorityHost: "http://login.example.com"}); err == nil {
		t.Error("a plain-http authority host was accepted")
	}
	if _, err := p.Apply(Change{Scopes: []string{"no-such-feature"}}); err == nil {
		t.Error("an unknown feature name was accepted")
	}
}

func TestDefaultRedirectURI(t *testing.T) {
	for method, want := range map[string]string{
		MethodPaste:  entra.NativeClientRedirectURI,
		MethodAlt:    DefaultAltRedirectURI,
		MethodDevice: entra.NativeClientRedirectURI, // what doctor compares a registration with
	} {
		if got := DefaultRedirectURI(method); got != want {
			t.Errorf("DefaultRedirectURI(%q) = %q, want %q", method, got, want)
		}
	}
}
