package entrasim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatchRedirect(t *testing.T) {
	tests := []struct {
		registered, sent string
		want             bool
	}{
		{"https://app.example/cb", "https://app.example/cb", true},
		{"https://app.example/cb", "https://APP.example/cb", true},
		{"https://app.example/cb", "https://app.example/CB", false},
		{"https://app.example/cb", "https://app.example/cb/", false},
		{"https://app.example/cb", "https://app.example:8443/cb", false},
		{"https://app.example/cb", "http://app.example/cb", false},
		{"https://app.example/cb", "https://app.example/cb?x=1", false},
		{"https://app.example/cb?x=1", "https://app.example/cb?x=1", true},
		{"https://app.example/cb", "https://app.example/cb#frag", false},
		{"https://app.example", "https://app.example/", true},
		{"https://app.example/", "https://app.example", true},
		{"http://localhost/cb", "http://localhost:1234/cb", true},
		{"http://localhost:5000/cb", "http://localhost:1234/cb", true},
		{"http://127.0.0.1", "http://127.0.0.1:80/", true},
		{"http://localhost/cb", "http://127.0.0.1:1234/cb", false},
		{"http://localhost/cb", "http://user@localhost:1234/cb", false},
		{"myapp://auth", "myapp://auth", true},
		{"myapp://auth", "myapp://other", false},
	}
	for _, tt := range tests {
		if got := matchRedirect(tt.registered, tt.sent); got != tt.want {
			t.Errorf("matchRedirect(%q, %q) = %v, want %v", tt.registered, tt.sent, got, tt.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		raw     string
		display []string
		code    int // AADSTS code of the error, 0 for none
	}{
		{"openid Profile offline_access User.Read", []string{"openid", "profile", "offline_access", "User.Read"}, 0},
		{"https://graph.microsoft.com/Mail.Read", []string{"Mail.Read"}, 0},
		{"00000003-0000-0000-c000-000000000000/Mail.Read", []string{"Mail.Read"}, 0},
		{"https://outlook.office.com/IMAP.AccessAsUser.All", []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, 0},
		{"api://1234/access_as_user", []string{"api://1234/access_as_user"}, 0},
		{"User.Read user.read", []string{"User.Read"}, 0},
		{"https://graph.microsoft.com/.default offline_access", []string{".default", "offline_access"}, 0},
		{"https://graph.microsoft.com/.default User.Read", nil, 70011},
		{"https://graph.microsoft.com/", nil, 70011},
	}
	for _, tt := range tests {
		got, e := parseScopes(tt.raw)
		if tt.code != 0 {
			if e == nil || e.code != tt.code {
				t.Errorf("parseScopes(%q) error %v, want AADSTS%d", tt.raw, e, tt.code)
			}
			continue
		}
		if e != nil {
			t.Errorf("parseScopes(%q): %v", tt.raw, e.msg)
			continue
		}
		var display []string
		for _, sc := range got {
			display = append(display, sc.display())
		}
		if diff := cmp.Diff(tt.display, display); diff != "" {
			t.Errorf("parseScopes(%q) mismatch (-want +got):\n%s", tt.raw, diff)
		}
	}
}

func TestTokenShapes(t *testing.T) {
	for range 20 {
		if c := newCode(false); len(c) < 1000 || len(c) > 1100 {
			t.Fatalf("code length %d", len(c))
		}
		if c := newUserCode(); len(c) != 9 {
			t.Fatalf("user code %q", c)
		}
		if g := newGUID(); !isGUID(g) {
			t.Fatalf("GUID %q", g)
		}
	}
}
