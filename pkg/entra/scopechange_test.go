package entra

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChangeScopes(t *testing.T) {
	current := []string{"Calendars.Read", "Mail.Read", "offline_access", "openid", "profile", "email"}
	cases := []struct {
		name        string
		add, remove []string
		want        []string
		wantErr     bool
	}{
		{"adding keeps what was asked for", []string{"mail-send"}, nil,
			[]string{"Calendars.Read", "Mail.Read", "Mail.Send", "offline_access", "openid", "profile", "email"}, false},
		{"adding what is there changes nothing", []string{"mail.read"}, nil, current, false},
		{"removing by feature", nil, []string{"calendar"},
			[]string{"Mail.Read", "offline_access", "openid", "profile", "email"}, false},
		{"adding and removing", []string{"smtp"}, []string{"Mail.Read"},
			[]string{"Calendars.Read", "https://outlook.office.com/SMTP.Send", "offline_access", "openid", "profile", "email"}, false},
		{"removing what is not asked for", nil, []string{"Mail.Send"}, nil, true},
		{"removing everything", nil, []string{"calendar,mail"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ChangeScopes(current, c.add, c.remove)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want one: %t", err, c.wantErr)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOtherResourceScopes(t *testing.T) {
	main := []string{"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/User.Read"}
	scopes := []string{"https://graph.microsoft.com/User.Read", "openid", "offline_access",
		"https://outlook.office.com/IMAP.AccessAsUser.All", "https://graph.microsoft.com/Mail.Read", "https://outlook.office.com/SMTP.Send"}
	want := []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"}
	if diff := cmp.Diff(want, OtherResourceScopes(scopes, main)); diff != "" {
		t.Errorf("OtherResourceScopes mismatch (-want +got):\n%s", diff)
	}
	if got := OtherResourceScopes([]string{"openid", "profile"}, nil); got != nil {
		t.Errorf("OIDC scopes are no resource's: %q", got)
	}
}

func TestMissingScopes(t *testing.T) {
	requested := []string{"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.Send"}
	cases := []struct {
		name    string
		granted []string
		want    []string
	}{
		{"the server did not say", nil, nil},
		{"all granted", []string{"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.Send"}, nil},
		{"one withheld", []string{"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/User.Read"}, []string{"https://graph.microsoft.com/Mail.Send"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, MissingScopes(c.granted, requested)); diff != "" {
				t.Errorf("MissingScopes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
