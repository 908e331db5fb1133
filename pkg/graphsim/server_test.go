package graphsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/flow"
)

// signedIn gets a real token for scopes from the Entra double.
func signedIn(t *testing.T, scopes ...string) (*entrasim.Server, *Server, string) {
	t.Helper()
	e := entrasim.NewServer()
	t.Cleanup(e.Close)
	auth, _ := entra.ParseAuthority(e.URL, "common")
	c := flow.Client{Authority: auth, ClientID: entrasim.DefaultClientID, Scopes: append(scopes, "offline_access", "openid", "profile")}
	a, _ := c.NewAuthorization(entra.NativeClientRedirectURI, flow.Options{})
	returned, err := e.Authorize(context.Background(), a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.RedeemReturnedURL(context.Background(), returned)
	if err != nil {
		t.Fatal(err)
	}
	g := NewServer(e)
	t.Cleanup(g.Close)
	return e, g, res.Token.AccessToken
}

func get(t *testing.T, g *Server, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestTokenChecks(t *testing.T) {
	_, g, token := signedIn(t, "Calendars.Read")
	if resp, _ := get(t, g, "/v1.0/me/events", token); resp.StatusCode != 200 {
		t.Errorf("valid token: %s", resp.Status)
	}
	for _, tc := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"no token", "/v1.0/me/events", "", 401, "InvalidAuthenticationToken"},
		{"unknown token", "/v1.0/me/events", "eyJ0eXAiOiJKV1QifQ.e30.x", 401, "InvalidAuthenticationToken"},
		{"scope for another call", "/v1.0/me", token, 403, "ErrorAccessDenied"},
		{"bad version", "/v2/me", token, 400, "BadRequest"},
	} {
		resp, body := get(t, g, tc.path, tc.token)
		if resp.StatusCode != tc.status || errorCode(body) != tc.code {
			t.Errorf("%s: %s %v", tc.name, resp.Status, body)
		}
		if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
	g.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if resp, body := get(t, g, "/v1.0/me/events", token); resp.StatusCode != 401 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "expired") {
		t.Errorf("expired token: %s %v", resp.Status, body)
	}
}

func TestOutlookTokenIsTheWrongAudience(t *testing.T) {
	_, g, token := signedIn(t, "https://outlook.office.com/IMAP.AccessAsUser.All")
	if resp, body := get(t, g, "/v1.0/me", token); resp.StatusCode != 401 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "audience") {
		t.Errorf("%s %v", resp.Status, body)
	}
}

func TestKnobs(t *testing.T) {
	_, g, token := signedIn(t, "Calendars.Read")
	for i := range 5 {
		g.AddEvents(Event{ID: string(rune('a' + i)), Subject: "s", Start: time.Now(), End: time.Now()})
	}
	g.SetPageSize(2)
	resp, body := get(t, g, "/v1.0/me/events", token)
	next, _ := body["@odata.nextLink"].(string)
	if resp.StatusCode != 200 || len(body["value"].([]any)) != 2 || !strings.HasPrefix(next, g.URL+"/v1.0/me/events?") {
		t.Fatalf("page 1: %v", body)
	}
	_, body = get(t, g, strings.TrimPrefix(next, g.URL), token)
	_, body = get(t, g, strings.TrimPrefix(body["@odata.nextLink"].(string), g.URL), token)
	if len(body["value"].([]any)) != 1 || body["@odata.nextLink"] != nil {
		t.Errorf("last page: %v", body)
	}

	g.Throttle(1, 429, "3")
	if resp, body := get(t, g, "/v1.0/me/events", token); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || errorCode(body) != "TooManyRequests" {
		t.Errorf("throttle: %s %v", resp.Status, body)
	}

	claims := g.ChallengeOlderTokens()
	resp, _ = get(t, g, "/v1.0/me/events", token)
	www := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.Contains(www, `error="insufficient_claims"`) {
		t.Fatalf("challenge: %s %s", resp.Status, www)
	}
	_, encoded, _ := strings.Cut(www, `claims="`)
	if got, err := entra.DecodeClaims(strings.TrimSuffix(encoded, `"`)); err != nil || got != claims {
		t.Errorf("challenge claims %q, %v; want %q", got, err, claims)
	}
}
