package entra

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const mfaClaims = `{"access_token":{"capolids":{"essential":true,"values":["5a1b2c3d-0000-4000-8000-000000000001"]}}}`

// tokenFailure makes a real token endpoint answer with status, header and
// body, redeems a code against it with x/oauth2, and returns the error.
func tokenFailure(t *testing.T, status int, header map[string]string, body string) *oauth2.RetrieveError {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
			t.Errorf("token request is not a form-encoded authorization_code grant: %v %v", err, r.PostForm)
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	a, err := ParseAuthority(srv.URL, "common")
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: "00000000-1111-2222-3333-444444444444", Endpoint: a.Endpoint(), RedirectURL: NativeClientRedirectURI}
	_, err = conf.Exchange(context.Background(), msaCode)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("Exchange error %v is not a *oauth2.RetrieveError", err)
	}
	return re
}

func TestFromRetrieveError(t *testing.T) {
	jsonType := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	tests := []struct {
		name                       string
		status                     int
		header                     map[string]string
		body                       string
		want                       *Error
		wantText                   string
		wantInteraction, wantRetry bool
	}{
		{"MFA required", 400, jsonType,
			`{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.\r\nTrace ID: 0a1b2c3d-0000-4000-8000-123456789abc\r\nCorrelation ID: 9f8e7d6c-0000-4000-8000-abcdefabcdef\r\nTimestamp: 2023-01-04 19:44:18Z","error_codes":[50076],"timestamp":"2023-01-04 19:44:18Z","trace_id":"0a1b2c3d-0000-4000-8000-123456789abc","correlation_id":"9f8e7d6c-0000-4000-8000-abcdefabcdef","error_uri":"https://login.microsoftonline.com/error?code=50076","suberror":"basic_action","claims":` + jsonString(mfaClaims) + `}`,
			&Error{Err: "invalid_grant", Code: 50076, Description: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.", Suberror: "basic_action", Claims: mfaClaims, HTTPStatus: 400,
				TraceID: "0a1b2c3d-0000-4000-8000-123456789abc", CorrelationID: "9f8e7d6c-0000-4000-8000-abcdefabcdef", Timestamp: "2023-01-04 19:44:18Z"},
			"AADSTS50076: Due to a configuration change", true, false},
		{"secret required, HTTP 401", 401, jsonType,
			`{"error":"invalid_client","error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[7000218]}`,
			&Error{Err: "invalid_client", Code: 7000218, Description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", HTTPStatus: 401},
			"AADSTS7000218: The request body", false, false},
		{"throttled, HTTP 429 with Retry-After", 429, map[string]string{"Content-Type": "application/json", "Retry-After": "30"},
			`{"error":"temporarily_unavailable","error_description":"Too many requests."}`,
			&Error{Err: "temporarily_unavailable", Description: "Too many requests.", HTTPStatus: 429, RetryAfter: 30 * time.Second},
			"temporarily_unavailable: Too many requests.", false, true},
		{"HTML 503", 503, map[string]string{"Content-Type": "text/html", "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
			`<html><body>Service Unavailable</body></html>`,
			&Error{HTTPStatus: 503},
			"unexpected HTTP status 503 from Entra", false, true},
		{"error_codes as strings", 400, jsonType,
			`{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":["700082"]}`,
			&Error{Err: "invalid_grant", Code: 700082, Description: "The refresh token has expired due to inactivity.", HTTPStatus: 400},
			"AADSTS700082: The refresh token has expired due to inactivity.", true, false},
		{"code only in the description", 400, jsonType,
			`{"error":"invalid_request","error_description":"AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests."}`,
			&Error{Err: "invalid_request", Code: 9002327, Description: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.", HTTPStatus: 400},
			"AADSTS9002327: Tokens issued", false, false},
		{"odd error_codes type does not lose the rest", 400, jsonType,
			`{"error":"invalid_grant","error_description":"AADSTS54005: OAuth2 Authorization code was already redeemed.","error_codes":{"x":1}}`,
			&Error{Err: "invalid_grant", Code: 54005, Description: "OAuth2 Authorization code was already redeemed.", HTTPStatus: 400},
			"AADSTS54005: OAuth2 Authorization code was already redeemed.", true, false},
		{"form-encoded body", 400, map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			`error=invalid_grant&error_description=AADSTS70008%3a+The+provided+authorization+code+or+refresh+token+has+expired.%0d%0aTrace+ID%3a+x`,
			&Error{Err: "invalid_grant", Code: 70008, Description: "The provided authorization code or refresh token has expired.", HTTPStatus: 400},
			"AADSTS70008: The provided authorization code", true, false},
		{"invalid_grant on a 500 is not transient", 500, jsonType,
			`{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}`,
			&Error{Err: "invalid_grant", Code: 50173, Description: "The provided grant has expired due to it being revoked.", HTTPStatus: 500},
			"AADSTS50173", true, false},
		{"code only in error_uri", 400, jsonType,
			`{"error":"invalid_grant","error_description":"The refresh token has expired due to inactivity.","error_uri":"https://login.microsoftonline.com/error?code=700082"}`,
			&Error{Err: "invalid_grant", Code: 700082, Description: "The refresh token has expired due to inactivity.", HTTPStatus: 400},
			"AADSTS700082: The refresh token has expired", true, false},
		{"server_error", 400, jsonType,
			`{"error":"server_error","error_description":"AADSTS90033: A transient error has occurred. Please try again.","error_codes":[90033]}`,
			&Error{Err: "server_error", Code: 90033, Description: "A transient error has occurred. Please try again.", HTTPStatus: 400},
			"AADSTS90033", false, true},
	}
	for _, tt := range tests {
		got := FromRetrieveError(tokenFailure(t, tt.status, tt.header, tt.body))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
			continue
		}
		if msg := got.Error(); !strings.Contains(msg, tt.wantText) || strings.Contains(msg, "\n") || strings.Contains(msg, "Trace ID") {
			t.Errorf("%s: Error() = %q, want one line containing %q", tt.name, msg, tt.wantText)
		}
		if strings.Contains(got.Error(), msaCode) {
			t.Errorf("%s: Error() contains the code", tt.name)
		}
		if got.NeedsInteraction() != tt.wantInteraction {
			t.Errorf("%s: NeedsInteraction() = %v, want %v", tt.name, got.NeedsInteraction(), tt.wantInteraction)
		}
		if got.Transient() != tt.wantRetry {
			t.Errorf("%s: Transient() = %v, want %v", tt.name, got.Transient(), tt.wantRetry)
		}
	}
	if FromRetrieveError(nil) != nil {
		t.Error("FromRetrieveError(nil) != nil")
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

func TestFromQuery(t *testing.T) {
	tests := []struct {
		query string
		want  *Error
	}{
		{"code=abc&state=s", nil},
		{"error=&error_description=x", nil},
		{consentDeclined, &Error{Err: "access_denied", Code: 65004, Description: "User declined to consent to access the app."}},
		{"error=access_denied&error_subcode=cancel&state=s", &Error{Err: "access_denied", Suberror: "cancel", Description: "the sign-in was cancelled on Microsoft's page"}},
		{"error=interaction_required&error_description=AADSTS50079%3a+Due+to+a+configuration+change+made+by+your+administrator%2c+you+must+enroll+in+multi-factor+authentication.&suberror=basic_action",
			&Error{Err: "interaction_required", Code: 50079, Description: "Due to a configuration change made by your administrator, you must enroll in multi-factor authentication.", Suberror: "basic_action"}},
		{"error=invalid_request&error_uri=https%3a%2f%2flogin.windows.net%2ferror%3fcode%3d90002", &Error{Err: "invalid_request", Code: 90002}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, FromQuery(q)); diff != "" {
			t.Errorf("FromQuery(%s) mismatch (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Err: "invalid_grant", Code: 50076, Description: "MFA required."}, "AADSTS50076: MFA required."},
		{Error{Err: "invalid_grant", Code: 50076}, "AADSTS50076: invalid_grant"},
		{Error{Err: "invalid_grant", Description: "Bad grant."}, "invalid_grant: Bad grant."},
		{Error{Err: "invalid_grant"}, "invalid_grant"},
		{Error{Description: "Something."}, "Something."},
		{Error{HTTPStatus: 502}, "unexpected HTTP status 502 from Entra"},
		{Error{}, "unknown Entra error"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestNeedsInteractionAndTransient(t *testing.T) {
	tests := []struct {
		e                   Error
		interact, transient bool
	}{
		{Error{Err: "invalid_grant"}, true, false},
		{Error{Err: "invalid_grant", HTTPStatus: 429}, true, false},
		{Error{Err: "interaction_required"}, true, false},
		{Error{Err: "login_required"}, true, false},
		{Error{Err: "consent_required"}, true, false},
		{Error{Err: "invalid_request", Code: 65001}, true, false},
		{Error{Code: 700084}, true, false},
		{Error{Err: "invalid_client", Code: 7000215, HTTPStatus: 401}, false, false},
		{Error{Err: "temporarily_unavailable"}, false, true},
		{Error{Err: "server_error"}, false, true},
		{Error{HTTPStatus: 429}, false, true},
		{Error{HTTPStatus: 500}, false, true},
		{Error{HTTPStatus: 499}, false, false},
		{Error{Err: "authorization_pending", Code: 70016, HTTPStatus: 400}, false, false},
		// A Conditional Access block needs a person whatever error value
		// carries it; Intune app protection needs none (MSAL).
		{Error{Err: "access_denied", Code: 53003}, true, false},
		{Error{Err: "invalid_grant", Code: 53005, Suberror: "protection_policy_required"}, false, false},
		{Error{Err: "invalid_grant", Suberror: "client_mismatch"}, true, false},
	}
	for _, tt := range tests {
		if got := tt.e.NeedsInteraction(); got != tt.interact {
			t.Errorf("%+v.NeedsInteraction() = %v, want %v", tt.e, got, tt.interact)
		}
		if got := tt.e.Transient(); got != tt.transient {
			t.Errorf("%+v.Transient() = %v, want %v", tt.e, got, tt.transient)
		}
	}
	for _, c := range []int{50076, 50079, 50058, 50158, 50173, 65001, 70043, 700082, 70008, 70000, 54005, 700084} {
		if e := (Error{Code: c}); !e.NeedsInteraction() {
			t.Errorf("code %d: NeedsInteraction() = false", c)
		}
	}
}

func TestRefreshTokenDead(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want bool
	}{
		{Error{Err: "invalid_request", Description: "Refresh token is invalid or has already been claimed by another client."}, true},
		{Error{Err: "invalid_request", Description: "Refresh token expired."}, true},
		{Error{Err: "invalid_grant", Description: "The refresh_token has already been used"}, true},
		{Error{Err: "invalid_grant", Description: "refresh token revoked"}, true},
		// Not about the refresh token itself, or not a grant error.
		{Error{Err: "invalid_request", Description: "Missing refresh token parameter"}, false},
		{Error{Err: "invalid_request", Description: "Invalid scope."}, false},
		{Error{Err: "invalid_client", Description: "Refresh token is invalid."}, false},
		{Error{Err: "server_error", Description: "Refresh token expired."}, false},
		// Entra's answers are judged by their AADSTS code.
		{Error{Err: "invalid_request", Code: 900144, Description: "The request body must contain the following parameter: 'refresh_token'. The refresh token is invalid."}, false},
		{Error{Err: "invalid_request", Code: 9002313, Description: "Invalid request. Request is malformed or invalid."}, false},
	} {
		if got := tt.e.RefreshTokenDead(); got != tt.want {
			t.Errorf("%v: RefreshTokenDead() = %v, want %v", &tt.e, got, tt.want)
		}
	}
}

func TestGrantDead(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want bool
	}{
		{Error{Err: "invalid_grant", Code: 50173}, true},
		{Error{Err: "invalid_grant", Code: 700082}, true},
		{Error{Err: "invalid_grant", Code: 70000}, true},
		{Error{Err: "invalid_grant", Code: 700084}, true},
		{Error{Err: "invalid_grant", Code: 9002313}, true},
		{Error{Err: "invalid_grant", Code: 50076, Suberror: "bad_token"}, true},
		{Error{Err: "invalid_grant", Suberror: "token_expired"}, true},
		{Error{Err: "invalid_request", Description: "Refresh token expired."}, true},
		// Refusals for one resource or by a policy leave the grant alive.
		{Error{Err: "invalid_grant", Code: 65001, Suberror: "consent_required"}, false},
		{Error{Err: "invalid_grant", Code: 50076, Suberror: "basic_action"}, false},
		{Error{Err: "invalid_grant", Code: 53003, Suberror: "message_only"}, false},
	} {
		if got := tt.e.GrantDead(); got != tt.want {
			t.Errorf("%v (suberror %q): GrantDead() = %v, want %v", &tt.e, tt.e.Suberror, got, tt.want)
		}
	}
}
