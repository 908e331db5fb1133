package entra

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveScopes(t *testing.T) {
	oidc := []string{"offline_access", "openid", "profile"}
	with := func(s ...string) []string { return append(s, oidc...) }
	tests := []struct {
		name  string
		items []string
		want  []string
	}{
		{"nothing", nil, oidc},
		{"feature", []string{"calendar"}, with("Calendars.Read")},
		{"features any case, commas and spaces", []string{"Calendar-Write, mail-send", " user "}, with("Calendars.ReadWrite", "Mail.Send", "User.Read")},
		{"all features", []string{"calendar calendar-write calendar-shared calendar-shared-write mail mail-write mail-send mail-send-shared contacts tasks user imap pop smtp"},
			with("Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared", "Mail.Read", "Mail.ReadWrite", "Mail.Send", "Mail.Send.Shared", "Contacts.Read", "Tasks.ReadWrite", "User.Read",
				"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send")},
		{"graph short names kept", []string{"Calendars.Read", "Files.Read.All"}, with("Calendars.Read", "Files.Read.All")},
		{"graph full URI shortened", []string{"https://graph.microsoft.com/Mail.Read"}, with("Mail.Read")},
		{"other resource kept", []string{"api://00000000-1111-2222-3333-444444444444/access_as_user"}, with("api://00000000-1111-2222-3333-444444444444/access_as_user")},
		{"duplicates dropped case-insensitively", []string{"mail", "mail.read", "https://graph.microsoft.com/MAIL.READ", "imap", "https://OUTLOOK.office.com/imap.accessasuser.all"},
			with("Mail.Read", "https://outlook.office.com/IMAP.AccessAsUser.All")},
		{"oidc scopes not repeated, email kept", []string{"OpenID", "offline_access", "email", "user"}, append(with("User.Read"), "email")},
		{"empty pieces skipped", []string{"", " , ,", "\tuser\n"}, with("User.Read")},
		{".default alone", []string{"https://graph.microsoft.com/.default"}, with("https://graph.microsoft.com/.default")},
		{"bare .default is Graph's", []string{".DEFAULT"}, with("https://graph.microsoft.com/.default")},
	}
	for _, tt := range tests {
		got, err := ResolveScopes(tt.items)
		if err != nil {
			t.Errorf("%s: ResolveScopes(%q): %v", tt.name, tt.items, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: ResolveScopes(%q) mismatch (-want +got):\n%s", tt.name, tt.items, diff)
		}
	}
}

func TestResolveScopesErrors(t *testing.T) {
	tests := []struct {
		items  []string
		wantIn string
	}{
		{[]string{"calender"}, `unknown feature "calender"`},
		{[]string{"User.Read", "https://graph.microsoft.com/.default"}, "AADSTS70011"},
		{[]string{".default", "mail"}, "AADSTS70011"},
		{[]string{"Mail.Read;drop"}, "invalid scope"},
		{[]string{"Mail.Read'"}, "invalid scope"},
		{[]string{"outlook.office.com/IMAP.AccessAsUser.All"}, "full URI"},
		{[]string{"https://outlook.office.com/"}, "full URI"},
		{[]string{"https://outlook.office.com/IMAP(x)"}, "full URI"},
	}
	for _, tt := range tests {
		_, err := ResolveScopes(tt.items)
		if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
			t.Errorf("ResolveScopes(%q) error = %v, want one containing %q", tt.items, err, tt.wantIn)
		}
	}
}

func TestFeaturesAreValidScopes(t *testing.T) {
	for _, name := range FeatureNames() {
		for _, s := range Features[name] {
			got, err := normaliseScope(s)
			if err != nil || got != s {
				t.Errorf("feature %s scope %q normalises to %q, %v", name, s, got, err)
			}
		}
	}
}

func TestScopeResource(t *testing.T) {
	tests := map[string]string{
		"User.Read":                             GraphResource,
		"https://graph.microsoft.com/Mail.Send": GraphResource,
		"https://graph.microsoft.com/.default":  GraphResource,
		"https://outlook.office.com/SMTP.Send":  "https://outlook.office.com",
		"api://abc/access_as_user":              "api://abc",
		"offline_access":                        "",
		"OpenID":                                "",
		"profile":                               "",
		"email":                                 "",
		"":                                      "",
	}
	for in, want := range tests {
		if got := ScopeResource(in); got != want {
			t.Errorf("ScopeResource(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGrantedCovers(t *testing.T) {
	tests := []struct {
		name               string
		granted, requested []string
		want               bool
	}{
		{"short vs full, case, missing offline_access", []string{"User.Read Calendars.Read profile openid email"},
			[]string{"https://graph.microsoft.com/user.read", "Calendars.Read", "offline_access", "openid", "profile"}, true},
		{"full granted, short requested", []string{"https://graph.microsoft.com/Mail.Read", "openid"}, []string{"Mail.Read"}, true},
		{"one missing", []string{"User.Read"}, []string{"User.Read", "Mail.Send"}, false},
		{"other resource not in a Graph token", []string{"User.Read Mail.Read"}, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, false},
		{"outlook token", []string{"https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send"}, []string{"https://outlook.office.com/SMTP.Send"}, true},
		{".default covered by any scope of its resource", []string{"Mail.Read"}, []string{"https://graph.microsoft.com/.default"}, true},
		{".default of another resource", []string{"Mail.Read"}, []string{"https://outlook.office.com/.default"}, false},
		{"only OIDC requested", nil, []string{"openid", "profile", "offline_access"}, true},
		{"nothing granted", nil, []string{"User.Read"}, false},
	}
	for _, tt := range tests {
		if got := GrantedCovers(tt.granted, tt.requested); got != tt.want {
			t.Errorf("%s: GrantedCovers(%q, %q) = %v, want %v", tt.name, tt.granted, tt.requested, got, tt.want)
		}
	}
}

func TestCompleteFeatureList(t *testing.T) {
	for _, c := range []struct {
		list string
		want []string
	}{
		{"calendar-sh", []string{"calendar-shared", "calendar-shared-write"}},
		{"mail,calendar-shared,calendar-sh", []string{"mail,calendar-shared,calendar-shared-write"}},
		{"mail, calendar,calendar", []string{"mail, calendar,calendar-shared", "mail, calendar,calendar-shared-write", "mail, calendar,calendar-write"}},
		{"mail,mail", []string{"mail,mail-send", "mail,mail-send-shared", "mail,mail-write"}},
		{"nosuch", nil},
	} {
		if diff := cmp.Diff(c.want, CompleteFeatureList(c.list)); diff != "" {
			t.Errorf("CompleteFeatureList(%q) (-want +got):\n%s", c.list, diff)
		}
	}
	if got := CompleteFeatureList(""); len(got) != len(FeatureNames()) {
		t.Errorf("an empty list completes to %d names, want all %d", len(got), len(FeatureNames()))
	}
}
