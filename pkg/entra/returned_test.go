package entra

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// fakeCode builds a code of the work/school shape: "0.A" then base64url text
// with dots, n characters in all.
func fakeCode(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	b.WriteString("0.A")
	for i := 0; b.Len() < n; i++ {
		if i%337 == 336 {
			b.WriteByte('.')
			continue
		}
		b.WriteByte(alphabet[(i*7+3)%len(alphabet)])
	}
	return b.String()
}

const (
	testState    = "kJ3x9_Qz-8Lw2mVb7nT4pR1sY6uA0cE5hG3jK9lN2oI"
	msaCode      = "M.C520_BAY.2.U.6c0e7a8e-2f4b-4b3e-9d1a-5f3c2e1b0a9d"
	clientInfo   = "eyJ1aWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJ1dGlkIjoiOTE4ODA0MGQtNmM2Ny00YzViLWIxMTItMzZhMzA0YjY2ZGFkIn0"
	sessionState = "4b0c3d2e-1f0a-4e9d-8c7b-6a5f4e3d2c1b"
	testTenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	// consentDeclined is a real-shaped error redirect query: description
	// with CR LF trace lines, and error_uri.
	consentDeclined = "error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.%0d%0aTrace+ID%3a+0a1b2c3d-0000-4000-8000-123456789abc%0d%0aCorrelation+ID%3a+9f8e7d6c-0000-4000-8000-abcdefabcdef%0d%0aTimestamp%3a+2023-08-28+11%3a25%3a19Z&error_uri=https%3a%2f%2flogin.microsoftonline.com%2ferror%3fcode%3d65004"
)

var (
	code1005 = fakeCode(1005)
	code1500 = fakeCode(1500)
)

// returned builds what the browser shows after a successful sign-in.
func returned(base, code string) string {
	return base + "?code=" + code + "&client_info=" + clientInfo + "&state=" + testState + "&session_state=" + sessionState
}

func TestParseReturnedURL(t *testing.T) {
	native := NativeClientRedirectURI
	tests := []struct {
		name, raw, redirect, want string
	}{
		{"nativeclient", returned(native, code1005), native, code1005},
		{"MSA code", returned(native, msaCode), native, msaCode},
		{"1,500-character code", returned(native, code1500), native, code1500},
		{"trailing #", returned(native, code1005) + "#", native, code1005},
		{"fragment response mode", native + "#code=" + msaCode + "&state=" + testState + "&session_state=" + sessionState, native, msaCode},
		{"spaces and newline", "  " + returned(native, msaCode) + " \r\n", native, msaCode},
		{"double quotes and brackets", `"<` + returned(native, msaCode) + `>"`, native, msaCode},
		{"single quotes", "'" + returned(native, msaCode) + "'", native, msaCode},
		{"wrapped by a mail client", returned(native, code1005)[:700] + "\r\n" + returned(native, code1005)[700:], native, code1005},
		{"host case", returned("https://LOGIN.microsoftonline.com/common/oauth2/nativeclient", msaCode), native, msaCode},
		{"explicit default port", returned("https://login.microsoftonline.com:443/common/oauth2/nativeclient", msaCode), native, msaCode},
		{"MFA redirect URI is an authorize URL with a code", returned(MFARedirectURI, code1005), MFARedirectURI, code1005},
		{"loopback port ignored", returned("http://localhost:41234/callback", msaCode), "http://localhost:53682/callback", msaCode},
		{"loopback IP port ignored", returned("http://127.0.0.1:8400/", msaCode), "http://127.0.0.1/", msaCode},
		{"registered without path comes back with /", returned("https://ha.example.com/", msaCode), "https://ha.example.com", msaCode},
		{"no redirect check when redirect unknown", returned("https://elsewhere.example/x", msaCode), "", msaCode},
	}
	for _, tt := range tests {
		got, err := ParseReturnedURL(tt.raw, tt.redirect, testState)
		if err != nil {
			t.Errorf("%s: unexpected error: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got a code of %d characters, want the %d-character one", tt.name, len(got), len(tt.want))
		}
	}
}

func TestParseReturnedURLProblems(t *testing.T) {
	native := NativeClientRedirectURI
	signInLink := (&oauth2.Config{
		ClientID:    "00000000-1111-2222-3333-444444444444",
		Endpoint:    Authority{DefaultAuthorityHost, "common"}.Endpoint(),
		RedirectURL: native,
		Scopes:      []string{"Calendars.Read", "offline_access", "openid", "profile"},
	}).AuthCodeURL(testState, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	mfaSignInLink := strings.Replace(signInLink, "/common/", "/organizations/", 1)

	tests := []struct {
		name, raw, redirect, state string
		want                       Problem
		wantErr                    *Error
	}{
		{"empty", "", native, testState, NotAURL, nil},
		{"blank", " \n\t ", native, testState, NotAURL, nil},
		{"only the code", code1005, native, testState, NotAURL, nil},
		{"words", "I signed in, now what", native, testState, NotAURL, nil},
		{"other scheme", "ftp://login.microsoftonline.com/common/oauth2/nativeclient?code=" + msaCode, native, testState, NotAURL, nil},
		{"no host", "https:///common/oauth2/nativeclient?code=" + msaCode, native, testState, NotAURL, nil},
		{"bad escape in host", "https://%zz/x?code=" + msaCode, native, testState, NotAURL, nil},

		{"wrongplace", "https://login.microsoftonline.com/common/wrongplace", native, testState, WrongPlace, nil},
		{"wrongplace with query", "https://login.microsoftonline.com/common/wrongplace?sso_reload=true", native, testState, WrongPlace, nil},

		{"error redirect", native + "?" + consentDeclined + "&state=" + testState, native, testState, ErrorRedirect,
			&Error{Err: "access_denied", Code: 65004, Description: "User declined to consent to access the app."}},
		{"error redirect in fragment", native + "#" + consentDeclined, native, testState, ErrorRedirect,
			&Error{Err: "access_denied", Code: 65004, Description: "User declined to consent to access the app."}},
		{"error with code only in error_uri", native + "?error=invalid_request&error_description=Bad+request&error_uri=https%3a%2f%2flogin.microsoftonline.com%2ferror%3fcode%3d50194", native, testState, ErrorRedirect,
			&Error{Err: "invalid_request", Code: 50194, Description: "Bad request"}},
		{"error without description", native + "?error=login_required&state=" + testState, native, testState, ErrorRedirect,
			&Error{Err: "login_required"}},

		{"sign-in link", signInLink, native, testState, AuthorizeURL, nil},
		{"MFA sign-in link", mfaSignInLink, MFARedirectURI, testState, AuthorizeURL, nil},

		{"other host", returned("https://login.live.com/oauth20_desktop.srf", msaCode), native, testState, WrongRedirect, nil},
		{"path differs in case", returned("https://login.microsoftonline.com/common/oauth2/NativeClient", msaCode), native, testState, WrongRedirect, nil},
		{"other tenant path", returned("https://login.microsoftonline.com/organizations/oauth2/nativeclient", msaCode), native, testState, WrongRedirect, nil},
		{"http instead of https", returned("http://login.microsoftonline.com/common/oauth2/nativeclient", msaCode), native, testState, WrongRedirect, nil},
		{"port of a non-loopback host", returned("https://ha.example.com:8123/api/ms365", msaCode), "https://ha.example.com/api/ms365", testState, WrongRedirect, nil},
		{"loopback path differs", returned("http://localhost:41234/other", msaCode), "http://localhost:53682/callback", testState, WrongRedirect, nil},
		{"old callback path", returned("https://ha.example.com/api/ms365_calendar", msaCode), "https://ha.example.com/api/ms365", testState, WrongRedirect, nil},

		{"state missing (cut short)", returned(native, code1005)[:len(native)+700], native, testState, StateMismatch, nil},
		{"state from another attempt", strings.Replace(returned(native, msaCode), testState, "another-attempt-state", 1), native, testState, StateMismatch, nil},
		{"no state expected", returned(native, msaCode), native, "", StateMismatch, nil},
		{"state only in a different case", returned(native, msaCode), native, strings.ToUpper(testState), StateMismatch, nil},

		{"code twice", returned(native, msaCode) + "&code=" + msaCode, native, testState, Repeated, nil},
		{"state twice", returned(native, msaCode) + "&state=" + testState, native, testState, Repeated, nil},
		{"state twice, one wrong", returned(native, msaCode) + "&state=other", native, testState, Repeated, nil},

		{"admin consent granted", native + "?admin_consent=True&tenant=" + testTenantID + "&state=12345", native, testState, AdminConsent, nil},
		{"admin consent granted (v2.0, state as sent)", native + "?admin_consent=True&tenant=" + testTenantID + "&scope=https%3a%2f%2fgraph.microsoft.com%2fMail.Read&state=" + testState, native, testState, AdminConsent, nil},
		{"no code", native + "?state=" + testState + "&session_state=" + sessionState, native, testState, MissingCode, nil},
		{"empty code", native + "?code=&state=" + testState, native, testState, MissingCode, nil},
		{"blank code", native + "?code=+%20&state=" + testState, native, testState, MissingCode, nil},
	}
	for _, tt := range tests {
		code, err := ParseReturnedURL(tt.raw, tt.redirect, tt.state)
		var re *ReturnedURLError
		if !errors.As(err, &re) {
			t.Errorf("%s: got code of %d characters and error %v, want a *ReturnedURLError", tt.name, len(code), err)
			continue
		}
		if code != "" {
			t.Errorf("%s: got a code with an error", tt.name)
		}
		if re.Problem != tt.want {
			t.Errorf("%s: Problem = %v, want %v", tt.name, re.Problem, tt.want)
		}
		if diff := cmp.Diff(tt.wantErr, re.Err); diff != "" {
			t.Errorf("%s: Err mismatch (-want +got):\n%s", tt.name, diff)
		}
		if re.RedirectURI != tt.redirect {
			t.Errorf("%s: RedirectURI = %q, want %q", tt.name, re.RedirectURI, tt.redirect)
		}
		checkMessage(t, tt.name, err)
	}
}

// checkMessage holds every returned-URL error to the house rules: one or two
// non-empty lines, and never a code.
func checkMessage(t *testing.T, name string, err error) {
	t.Helper()
	msg := err.Error()
	lines := strings.Split(msg, "\n")
	if len(lines) > 2 || slicesContainEmpty(lines) {
		t.Errorf("%s: message is not one or two non-empty lines: %q", name, msg)
	}
	for _, c := range []string{code1005, code1500, msaCode, code1005[:40], msaCode[:20]} {
		if strings.Contains(msg, c) {
			t.Errorf("%s: message contains the code: %q", name, msg)
		}
	}
}

func slicesContainEmpty(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			return true
		}
	}
	return false
}

func TestReturnedURLErrorMessages(t *testing.T) {
	native := NativeClientRedirectURI
	tests := []struct {
		name, raw, redirect string
		wantIn              []string
	}{
		{"wrongplace", "https://login.microsoftonline.com/common/wrongplace", native, []string{"wrongplace", "ms365auth link --alt", "ms365auth link --device"}},
		{"consent declined", native + "?" + consentDeclined, native, []string{"AADSTS65004: User declined to consent to access the app.", "ms365auth link"}},
		{"single-tenant app", native + "?error=invalid_request&error_description=AADSTS50194%3a+Application+is+not+configured+as+a+multi-tenant+application.%0d%0aTrace+ID%3a+x", native, []string{"AADSTS50194", "--tenant"}},
		{"error without a known code", native + "?error=access_denied", native, []string{"access_denied", "accept the permissions"}},
		{"wrong redirect names the expected one", returned("https://ha.example.com/api/ms365_calendar", msaCode), "https://ha.example.com/api/ms365", []string{"https://ha.example.com/api/ms365)", "starts with https://ha.example.com/api/ms365"}},
		{"truncated", native + "?state=" + testState, native, []string{"cut short", "--returned-url", "standard input"}},
		{"state", strings.Replace(returned(native, msaCode), testState, "x", 1), native, []string{"another attempt", "ms365auth link"}},
		{"not a URL", msaCode, native, []string{"not a URL", native}},
		{"sign-in link", native + "?client_id=x&response_type=code&state=" + testState, native, []string{"sign-in link itself", "copy the address bar"}},
		{"cancelled", native + "?error=access_denied&error_subcode=cancel&state=" + testState, native, []string{"access_denied: the sign-in was cancelled", "again and finish signing in"}},
		{"admin consent", native + "?admin_consent=True&tenant=" + testTenantID + "&state=1", native, []string{"admin consent request", "run `ms365auth link` again"}},
	}
	for _, tt := range tests {
		_, err := ParseReturnedURL(tt.raw, tt.redirect, testState)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.wantIn {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q lacks %q", tt.name, err, w)
			}
		}
		checkMessage(t, tt.name, err)
	}
}

func TestReturnedURLErrorUnwrap(t *testing.T) {
	_, err := ParseReturnedURL(NativeClientRedirectURI+"?"+consentDeclined, NativeClientRedirectURI, testState)
	var e *Error
	if !errors.As(err, &e) || e.Code != 65004 {
		t.Fatalf("errors.As(%v, *Error) = %v, want the AADSTS65004 error", err, e)
	}
	_, err = ParseReturnedURL("", NativeClientRedirectURI, testState)
	if errors.As(err, &e) {
		t.Errorf("NotAURL unwraps to an *Error: %v", e)
	}
}

func TestProblemString(t *testing.T) {
	for p := NotAURL; p <= MissingCode; p++ {
		if s := p.String(); strings.HasPrefix(s, "Problem(") {
			t.Errorf("Problem %d has no name", int(p))
		}
	}
	if got := Problem(0).String(); got != "Problem(0)" {
		t.Errorf("Problem(0).String() = %q", got)
	}
}

// FuzzParseReturnedURL checks that no input panics, that any code returned is
// non-empty and came with the expected state, and that errors keep to the
// message rules. The seed corpus also lives in testdata/fuzz.
func FuzzParseReturnedURL(f *testing.F) {
	native := NativeClientRedirectURI
	f.Add(returned(native, code1005), native, testState)
	f.Add(returned(native, msaCode)+"#", native, testState)
	f.Add(`"<`+returned(native, msaCode)+`>"`, native, testState)
	f.Add(native+"#code="+msaCode+"&state="+testState, native, testState)
	f.Add("https://login.microsoftonline.com/common/wrongplace", native, testState)
	f.Add(native+"?"+consentDeclined+"&state="+testState, native, testState)
	f.Add(returned(MFARedirectURI, code1005), MFARedirectURI, testState)
	f.Add(MFARedirectURI+"?client_id=x&response_type=code&code_challenge=abc&state="+testState, MFARedirectURI, testState)
	f.Add(returned("http://localhost:41234/callback", msaCode), "http://localhost:53682/callback", testState)
	f.Add(returned(native, code1005)[:600], native, testState)
	f.Fuzz(func(t *testing.T, raw, redirect, state string) {
		code, err := ParseReturnedURL(raw, redirect, state)
		if err != nil {
			var re *ReturnedURLError
			if !errors.As(err, &re) || re.Problem < NotAURL || re.Problem > MissingCode {
				t.Fatalf("error %v is not a *ReturnedURLError with a known Problem", err)
			}
			if n := strings.Count(err.Error(), "\n"); n > 1 || err.Error() == "" {
				t.Fatalf("message has %d line breaks or is empty: %q", n, err)
			}
			if code != "" {
				t.Fatal("a code came back with an error")
			}
			return
		}
		if code == "" || state == "" {
			t.Fatalf("success with code %q and state %q", code, state)
		}
		// The state really was checked: any other expected state fails.
		if _, err := ParseReturnedURL(raw, redirect, state+"x"); err == nil || err.(*ReturnedURLError).Problem != StateMismatch {
			t.Fatalf("a different state gave %v, want StateMismatch", err)
		}
		if strings.TrimSpace(code) != code {
			t.Fatalf("code %q has surrounding space", code)
		}
	})
}
