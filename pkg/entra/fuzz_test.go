package entra

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/internal/tokenscan"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Fuzz targets for the parsers of what Entra (or anything posing as it)
// sends: token endpoint error responses, error redirects and ID tokens. The
// seed corpora live in testdata/fuzz and run with every go test.

// checkOneLine enforces the message rules: not empty, and no control
// characters, so that a crafted response cannot add lines to what a person
// reads or hide text with escape sequences.
func checkOneLine(t *testing.T, msg string) {
	t.Helper()
	if msg == "" {
		t.Fatal("empty message")
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("message has a control character at %d: %q", i, msg)
	}
}

// FuzzFromRetrieveError feeds arbitrary token endpoint answers (body,
// status, Retry-After, and the fields x/oauth2 parsed itself) to
// FromRetrieveError: it must not panic, must keep to the message rules,
// must never quote a token from the body, and the hint lookup must cope
// with whatever code comes out.
func FuzzFromRetrieveError(f *testing.F) {
	f.Add([]byte(`{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2024-01-01 00:00:00Z","error_codes":[70008],"timestamp":"2024-01-01 00:00:00Z","trace_id":"1","correlation_id":"2"}`), 400, "", "", "")
	f.Add([]byte(`{"error":"invalid_grant","error_codes":["50076"],"suberror":"basic_action","claims":"{\"access_token\":{}}"}`), 400, "", "", "")
	f.Add([]byte(`<html>Service Unavailable</html>`), 503, "30", "", "")
	f.Add([]byte(`error=invalid_client&error_description=AADSTS7000215%3A+Invalid+client+secret`), 401, " 5 ", "invalid_client", "AADSTS7000215: Invalid client secret")
	f.Add([]byte(`{"error":"x\u001b[31m","error_description":"line one\nline two","access_token":"eyJ0eXAiOiJKV1QiLCJub25jZSI6InNlY3JldCJ9"}`), 200, "-1", "", "")
	f.Fuzz(func(t *testing.T, body []byte, status int, retryAfter, errorCode, errorDescription string) {
		re := &oauth2.RetrieveError{
			Response:         &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}},
			Body:             body,
			ErrorCode:        errorCode,
			ErrorDescription: errorDescription,
		}
		e := FromRetrieveError(re)
		if e == nil {
			t.Fatal("nil error for a non-nil RetrieveError")
		}
		msg := e.Error()
		checkOneLine(t, msg)
		if strings.ContainsAny(e.Description, "\r\n") {
			t.Fatalf("description keeps a line break: %q", e.Description)
		}
		if e.HTTPStatus != status || e.RetryAfter < 0 || e.Code < 0 {
			t.Fatalf("status %d, retry after %d, code %d", e.HTTPStatus, e.RetryAfter, e.Code)
		}
		tokens, quotable := tokenscan.Fields(body)
		quotable += "\n" + errorCode + "\n" + errorDescription
		for _, tok := range tokens {
			if strings.Contains(msg, tok) && !strings.Contains(quotable, tok) {
				t.Fatalf("message quotes a token from the body: %q", msg)
			}
		}
		e.Transient()
		e.NeedsInteraction()
		for _, method := range []string{"", "paste", "alt", "device"} {
			Hint(e.Code, HintContext{Method: method, RedirectURI: errorDescription, Tenant: errorCode})
		}
	})
}

// FuzzFromQuery feeds arbitrary redirect and callback queries to FromQuery:
// nil exactly when there is no error value, otherwise an error that keeps
// to the message rules.
func FuzzFromQuery(f *testing.F) {
	f.Add(consentDeclined + "&state=" + testState)
	f.Add("error=invalid_request&error_description=AADSTS50011%3A+The+redirect+URI&error_uri=https%3A%2F%2Flogin.microsoftonline.com%2Ferror%3Fcode%3D50011")
	f.Add("error=access_denied&error_uri=https%3A%2F%2Fx%2Ferror%3Fcode%3D-5")
	f.Add("error=%1b%5b2J&error_description=%0a%0d")
	f.Add("code=" + msaCode + "&state=" + testState)
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // keeps what it could parse, as callers do
		e := FromQuery(q)
		if strings.TrimSpace(servertext.Clean(q.Get("error"))) == "" {
			if e != nil {
				t.Fatalf("an error without an error value: %+v", e)
			}
			return
		}
		if e == nil {
			t.Fatalf("no error for error=%q", q.Get("error"))
		}
		checkOneLine(t, e.Error())
		if e.Code < 0 {
			t.Fatalf("negative code %d", e.Code)
		}
	})
}

// FuzzParseIDToken feeds arbitrary ID tokens to ParseIDToken: errors never
// quote the token, and decoded claims survive being encoded again.
func FuzzParseIDToken(f *testing.F) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"preferred_username":"adele@contoso.example","name":"Adele Vance","oid":"2b7c9d41-5e6f-4a80-b1c2-d3e4f5a6b7c8","tid":"6f1c3b9e-2d4a-4c8e-9b7f-0a5d3e2c1b48","email":"adele@contoso.example"}`))
	f.Add("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + payload + ".c2lnbmF0dXJl")
	f.Add("eyJhbGciOiJub25lIn0." + payload + "==.")
	f.Add("a.b")
	f.Add("..")
	f.Add("x.bm90IGpzb24.y")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseIDToken(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "malformed ID token: ") {
				t.Fatalf("unexpected message %q", err)
			}
			if len(raw) >= 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the message quotes the token: %q", err)
			}
			if !cmp.Equal(c, Claims{}) {
				t.Fatalf("claims with an error: %+v", c)
			}
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseIDToken("h." + base64.RawURLEncoding.EncodeToString(again) + ".s")
		if err != nil {
			t.Fatalf("re-encoded claims do not parse: %v", err)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("claims round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
