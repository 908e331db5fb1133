package flow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/internal/tokenscan"
)

// fuzzAnswer is what the fuzzed token endpoint says next.
type fuzzAnswer struct {
	status      int
	contentType string
	body        []byte
}

// FuzzTokenResponse answers code redemption and refresh with arbitrary
// token endpoint responses, through x/oauth2 and a real HTTP server. Our
// side (newResult, the ID token claims, explain, entra.FromRetrieveError,
// the refresh scope adder) must not panic, a success must carry an access
// token, and an error message must never quote a token from the body.
func FuzzTokenResponse(f *testing.F) {
	idToken := "eyJhbGciOiJub25lIn0.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJhZGVsZUBjb250b3NvLmV4YW1wbGUifQ."
	f.Add(200, "application/json; charset=utf-8", []byte(`{"token_type":"Bearer","scope":"User.Read profile openid","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln","refresh_token":"0.AXYZ-refresh-token-value","id_token":"`+idToken+`"}`))
	f.Add(200, "application/json", []byte(`{"token_type":"Bearer","expires_in":"3599","access_token":"at-as-string-numbers-000000000000","id_token":42,"scope":["not","a","string"]}`))
	f.Add(200, "application/json", []byte(`{"token_type":"Bearer","refresh_token":"refresh-only-000000000000000"}`))
	f.Add(200, "text/plain", []byte(`access_token=form-access-token-000000000&token_type=Bearer&expires_in=60&scope=User.Read`))
	f.Add(200, "application/json", []byte(`{"error":"invalid_grant","error_description":"AADSTS70008: expired","access_token":"leaked-access-token-0000000000"}`))
	f.Add(400, "application/json; charset=utf-8", []byte(`{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator...\r\nTrace ID: x","error_codes":[50076],"suberror":"basic_action","claims":"{}"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client","error_codes":["7000218"]}`))
	f.Add(429, "text/html", []byte(`<html>Too Many Requests</html>`))
	f.Add(200, "application/json", []byte(`not json`))
	f.Add(500, "application/x-www-form-urlencoded", []byte(`%zz`))

	var (
		mu   sync.Mutex
		next fuzzAnswer
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := next
		mu.Unlock()
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
	}))
	f.Cleanup(srv.Close)
	client := Client{
		Authority:  entra.Authority{Host: srv.URL, Tenant: "common"},
		ClientID:   "0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e",
		Scopes:     []string{"User.Read", "offline_access", "openid", "profile"},
		HTTPClient: srv.Client(),
	}
	verifier := strings.Repeat("v", 43)

	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		// net/http only writes three-digit statuses; informational ones are
		// not final answers.
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		if strings.ContainsAny(contentType, "\r\n\x00") {
			contentType = ""
		}
		mu.Lock()
		next = fuzzAnswer{status, contentType, body}
		mu.Unlock()

		auth := client.Resume("https://login.microsoftonline.com/common/oauth2/nativeclient", "state", verifier)
		res, err := auth.Redeem(context.Background(), "0.AXYZ-code")
		checkOutcome(t, body, res, err)
		res, err = client.Refresh(context.Background(), "0.AXYZ-old-refresh-token", nil)
		checkOutcome(t, body, res, err)
	})
}

func checkOutcome(t *testing.T, body []byte, res *Result, err error) {
	t.Helper()
	if err == nil {
		if res == nil || res.Token == nil || res.Token.AccessToken == "" {
			t.Fatalf("success without an access token: %+v", res)
		}
		return
	}
	if res != nil {
		t.Fatalf("a result with an error: %v", err)
	}
	msg := err.Error()
	tokens, quotable := tokenscan.Fields(body)
	for _, tok := range tokens {
		if strings.Contains(msg, tok) && !strings.Contains(quotable, tok) {
			t.Fatalf("the error quotes a token from the response: %q", msg)
		}
	}
}
