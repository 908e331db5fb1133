package entra

import (
	"sort"
	"strings"
	"testing"
)

func TestCodesTable(t *testing.T) {
	required := []int{50011, 50020, 50058, 50076, 50079, 50126, 50148, 501481, 50158, 50173, 50194, 53003, 54005,
		65001, 65004, 70000, 70008, 70011, 70016, 70019, 70043, 700016, 700025, 700054, 700082, 700084, 7000215,
		7000218, 7000222, 9002327, 90002, 90014, 700005, 500112, 500119, 9002332, 90094, 700022}
	for _, c := range required {
		if _, ok := LookupCode(c); !ok {
			t.Errorf("code %d is missing from Codes", c)
		}
	}
	if !sort.SliceIsSorted(Codes, func(i, j int) bool { return Codes[i].Code < Codes[j].Code }) {
		t.Error("Codes is not sorted by code")
	}
	for i, c := range Codes {
		if i > 0 && Codes[i-1].Code == c.Code {
			t.Errorf("code %d appears twice", c.Code)
		}
		if strings.TrimSpace(c.Fix) == "" || strings.TrimSpace(c.Meaning) == "" {
			t.Errorf("code %d has an empty Meaning or Fix", c.Code)
		}
		if h := Hint(c.Code, HintContext{}); strings.ContainsAny(h, "{}") || strings.Contains(h, "\n") {
			t.Errorf("code %d: hint with an empty context keeps a placeholder or breaks lines: %q", c.Code, h)
		}
	}
}

func TestHint(t *testing.T) {
	ctx := HintContext{RedirectURI: "https://ha.example.com/api/ms365", Tenant: "common", ClientID: "00000000-1111-2222-3333-444444444444", Method: "paste"}
	tests := []struct {
		code   int
		ctx    HintContext
		wantIn []string
	}{
		{50011, ctx, []string{"Register exactly https://ha.example.com/api/ms365 as a redirect URI", "Mobile and desktop applications", "--redirect-uri"}},
		{50011, HintContext{}, []string{"Register exactly the redirect URI as a redirect URI"}},
		{50194, ctx, []string{"--tenant <your tenant ID or domain> instead of common"}},
		{7000215, ctx, []string{"Value, not its Secret ID"}},
		{700025, ctx, []string{"https://ha.example.com/api/ms365 is a public-client", "MS365AUTH_CLIENT_SECRET", "--client-secret-file"}},
		{7000218, ctx, []string{"'Web'", "move https://ha.example.com/api/ms365 to 'Mobile and desktop applications'", "Allow public client flows"}},
		{7000218, HintContext{Method: "device"}, []string{"Allow public client flows", "MS365AUTH_CLIENT_SECRET"}},
		{9002327, ctx, []string{"Single-page application", "Mobile and desktop"}},
		{65001, ctx, []string{"ms365auth reauth", "00000000-1111-2222-3333-444444444444"}},
		{700082, ctx, []string{"90 days", "ms365auth reauth"}},
		{700016, ctx, []string{"00000000-1111-2222-3333-444444444444 was not found in common"}},
	}
	for _, tt := range tests {
		got := Hint(tt.code, tt.ctx)
		for _, w := range tt.wantIn {
			if !strings.Contains(got, w) {
				t.Errorf("Hint(%d, %+v) = %q, lacks %q", tt.code, tt.ctx, got, w)
			}
		}
	}
	if got := Hint(12345, ctx); got != "" {
		t.Errorf("Hint(unknown) = %q, want empty", got)
	}
	if got := Hint(7000218, HintContext{Method: "device"}); strings.Contains(got, "redirect") {
		t.Errorf("device hint talks about redirect URIs: %q", got)
	}
}

func TestSignInFix(t *testing.T) {
	ctx := HintContext{RedirectURI: "https://app.example/cb", ClientID: "00000000-1111-2222-3333-444444444444", ReauthCommand: "ms365auth reauth --profile work"}
	for _, tt := range []struct {
		e      Error
		wantIn string // "" means no fix
	}{
		{Error{Err: "invalid_grant", Code: 50173}, ""},
		{Error{Err: "invalid_grant", Code: 50076, Suberror: "basic_action"}, ""},
		{Error{Err: "interaction_required", Code: 50079, Suberror: "basic_action"}, "https://aka.ms/mysecurityinfo"},
		{Error{Err: "invalid_grant", Code: 53003, Suberror: "message_only"}, "Ask your admin"},
		{Error{Err: "invalid_grant", Code: 700084}, "https://app.example/cb is registered as 'Single-page application'"},
		{Error{Err: "invalid_grant", Code: 65001, Suberror: "consent_required"}, "00000000-1111-2222-3333-444444444444"},
		{Error{Err: "invalid_grant", Code: 50055, Suberror: "user_password_expired"}, "`ms365auth reauth --profile work` and change it"},
		{Error{Err: "interaction_required", Code: 50072, Suberror: "additional_action"}, "outside the sign-in"},
		// Device policies: signing in again cannot meet them, whatever
		// the suberror says.
		{Error{Err: "invalid_grant", Code: 50097, Suberror: "additional_action"}, "Signing in again will not help"},
		{Error{Err: "interaction_required", Code: 53000}, "exclude 00000000-1111-2222-3333-444444444444 from the policy"},
		{Error{Err: "interaction_required", Code: 530003}, "cannot prove"},
		{Error{Err: "interaction_required", Code: 530033}, "cannot prove"},
		{Error{Err: "access_denied", Code: 50005}, "cannot prove"},
		{Error{Err: "interaction_required", Code: 53000, TraceID: "0a1b2c3d-0000-4000-8000-123456789abc"}, "For the admin: Trace ID 0a1b2c3d-0000-4000-8000-123456789abc"},
		{Error{Err: "invalid_grant", Suberror: "message_only"}, "ask your admin"},
		{Error{Err: "invalid_grant", Code: 53003, Suberror: "message_only", TraceID: "0a1b2c3d-0000-4000-8000-123456789abc",
			CorrelationID: "9f8e7d6c-0000-4000-8000-abcdefabcdef", Timestamp: "2023-01-04 19:44:18Z"},
			"For the admin: Trace ID 0a1b2c3d-0000-4000-8000-123456789abc, Correlation ID 9f8e7d6c-0000-4000-8000-abcdefabcdef, 2023-01-04 19:44:18Z."},
	} {
		got := SignInFix(&tt.e, ctx)
		if (tt.wantIn == "") != (got == "") || !strings.Contains(got, tt.wantIn) {
			t.Errorf("SignInFix(%v, suberror %q) = %q, want it to hold %q", &tt.e, tt.e.Suberror, got, tt.wantIn)
		}
	}
}

// TestAdminConsentLinkInFixes: the codes an admin's approval settles hand
// on the admin consent link, in every kind of fix; others do not.
func TestAdminConsentLinkInFixes(t *testing.T) {
	const link = "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=c1"
	c := HintContext{ClientID: "c1", Tenant: "contoso.com", AdminConsentURL: link}
	for _, code := range []int{90094, 65001} {
		e := &Error{Err: "invalid_grant", Code: code}
		for name, fix := range map[string]string{"Hint": Hint(code, c), "ErrorFix": ErrorFix(e, c), "SignInFix": SignInFix(e, c)} {
			if !strings.HasSuffix(fix, "by opening: "+link) {
				t.Errorf("%s(%d) = %q, want the admin consent link", name, code, fix)
			}
		}
		rue := &ReturnedURLError{Problem: ErrorRedirect, Err: e, AdminConsentURL: link}
		if !strings.Contains(rue.Error(), link) {
			t.Errorf("returned URL error for %d: %q", code, rue.Error())
		}
	}
	if fix := Hint(50011, c); strings.Contains(fix, link) {
		t.Errorf("Hint(50011) = %q: no admin consent settles it", fix)
	}
	if fix := Hint(90094, HintContext{ClientID: "c1"}); strings.Contains(fix, "by opening") {
		t.Errorf("without a link: %q", fix)
	}
}

func TestErrorFixOfIntuneSuberror(t *testing.T) {
	e := &Error{Err: "invalid_grant", Code: 50076, Suberror: "protection_policy_required"}
	if got := ErrorFix(e, HintContext{ClientID: "c1"}); !strings.Contains(got, "Intune") || !strings.Contains(got, "c1") {
		t.Errorf("ErrorFix = %q, want the Intune fix naming the app", got)
	}
}
