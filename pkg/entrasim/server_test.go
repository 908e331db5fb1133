package entrasim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func TestDiscovery(t *testing.T) {
	s := newServer(t)
	for _, tt := range []struct{ tenant, issuer string }{
		{"common", "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{entrasim.DefaultTenantDomain, "https://login.microsoftonline.com/" + entrasim.DefaultTenantID + "/v2.0"},
		{"consumers", "https://login.microsoftonline.com/" + entrasim.ConsumersTenantID + "/v2.0"},
	} {
		t.Run(tt.tenant, func(t *testing.T) {
			resp, err := http.Get(s.URL + "/" + tt.tenant + "/v2.0/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			base := s.URL + "/" + tt.tenant
			want := map[string]any{
				"issuer":                        tt.issuer,
				"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
				"token_endpoint":                base + "/oauth2/v2.0/token",
				"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
				"jwks_uri":                      base + "/discovery/v2.0/keys",
			}
			got := map[string]any{}
			for k := range want {
				got[k] = doc[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("discovery mismatch (-want +got):\n%s", diff)
			}
		})
	}
	resp, err := http.Get(s.URL + "/nowhere.example/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("unknown tenant: HTTP %d, want 400", resp.StatusCode)
	}
}

func TestTokenEndpointRequestShape(t *testing.T) {
	s := newServer(t)
	tokenURL := s.URL + "/common/oauth2/v2.0/token"

	// JSON bodies are not read: grant_type is missing.
	resp, err := http.Post(tokenURL, "application/json", strings.NewReader(`{"grant_type":"refresh_token"}`))
	if err != nil {
		t.Fatal(err)
	}
	var e entraError
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || e.Error != "invalid_request" || e.ErrorCodes[0] != 900144 {
		t.Errorf("JSON body: HTTP %d %+v, want invalid_request 900144", resp.StatusCode, e)
	}

	// The error body has Entra's fields, and echoes client-request-id.
	const requestID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_magic&client_id="+entrasim.DefaultClientID))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("client-request-id", requestID)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	e = entraError{}
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if e.Error != "unsupported_grant_type" || e.CorrelationID != requestID || e.ErrorURI != s.URL+"/error?code=70003" {
		t.Errorf("got %+v", e)
	}
	descRE := regexp.MustCompile(`^AADSTS70003: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: ` + requestID + `\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)
	if !descRE.MatchString(e.ErrorDescription) || e.TraceID == "" || !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`).MatchString(e.Timestamp) {
		t.Errorf("description %q timestamp %q", e.ErrorDescription, e.Timestamp)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}

	resp, err = http.Get(tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET /token: HTTP %d, want 400", resp.StatusCode)
	}
	for _, path := range []string{"/", "/common/oauth2/v2.0/nothing", "/common/oauth2/authorize"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err = http.Get(s.URL + "/error?code=50011")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("error page: HTTP %d", resp.StatusCode)
	}
}

func TestPersonalAccounts(t *testing.T) {
	s := newServer(t)
	s.AddUser(entrasim.User{Username: "pat@outlook.example", Name: "Pat", TenantID: entrasim.ConsumersTenantID})
	s.SignInAs("pat@outlook.example")
	cfg := config(s, "consumers", entrasim.DefaultClientID, entrasim.NativeClientRedirectURI, "openid", "profile", "offline_access", "User.Read")
	code, verifier := signIn(t, s, cfg)
	if !strings.HasPrefix(code, "M.C") || len(code) > 60 {
		t.Errorf("code %q, want a short M.C... personal-account code", code)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tid := jwtClaims(t, tok.Extra("id_token").(string))["tid"]; tid != entrasim.ConsumersTenantID {
		t.Errorf("tid = %v", tid)
	}

	// A personal account cannot use /organizations, nor a work account /consumers.
	for _, tt := range []struct{ user, tenant string }{
		{"pat@outlook.example", "organizations"},
		{entrasim.DefaultUsername, "consumers"},
	} {
		s.SignInAs(tt.user)
		c := config(s, tt.tenant, entrasim.DefaultClientID, entrasim.NativeClientRedirectURI, "User.Read")
		returned, err := s.Authorize(context.Background(), c.AuthCodeURL("x"))
		if err != nil {
			t.Fatal(err)
		}
		q := returnedParams(t, returned)
		if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS50020: ") {
			t.Errorf("%s on %s: %s %q, want access_denied AADSTS50020", tt.user, tt.tenant, q.Get("error"), q.Get("error_description"))
		}
	}
}

func TestTenantSegments(t *testing.T) {
	s := newServer(t)
	const fabrikam = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	s.AddTenantDomain("fabrikam.example", fabrikam)
	s.AddApp(entrasim.App{ClientID: singleClientID, HomeTenant: fabrikam, Redirects: []entrasim.Redirect{
		{URI: "http://localhost", Platform: entrasim.MobileDesktop},
	}})
	s.AddUser(entrasim.User{Username: "megan@fabrikam.example", TenantID: fabrikam})
	s.SignInAs("megan@fabrikam.example")
	for _, tenant := range []string{fabrikam, "fabrikam.example", "FABRIKAM.example"} {
		tok := login(t, s, config(s, tenant, singleClientID, "http://localhost:9999", "openid", "User.Read"))
		if tid := jwtClaims(t, tok.Extra("id_token").(string))["tid"]; tid != fabrikam {
			t.Errorf("%s: tid %v", tenant, tid)
		}
	}
	// Another tenant does not know a single-tenant app.
	_, err := s.Authorize(context.Background(), config(s, entrasim.DefaultTenantID, singleClientID, "http://localhost", "User.Read").AuthCodeURL("x"))
	if pe, ok := err.(*entrasim.PageError); !ok || pe.Code != 700016 {
		t.Errorf("err = %v, want AADSTS700016", err)
	}
}

func TestPasswordGrant(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	ctx := context.Background()
	_, err := cfg.PasswordCredentialsToken(ctx, entrasim.DefaultUsername, entrasim.DefaultPassword)
	wantTokenError(t, err, 400, "invalid_grant", 65001) // the grant cannot ask for consent

	login(t, s, cfg)
	if _, err := cfg.PasswordCredentialsToken(ctx, entrasim.DefaultUsername, entrasim.DefaultPassword); err != nil {
		t.Errorf("after consent: %v", err)
	}
	_, err = cfg.PasswordCredentialsToken(ctx, entrasim.DefaultUsername, "wrong")
	wantTokenError(t, err, 400, "invalid_grant", 50126)

	s.AddUser(entrasim.User{Username: "mfa@contoso.example", Password: "pw", MFA: true})
	_, err = cfg.PasswordCredentialsToken(ctx, "mfa@contoso.example", "pw")
	wantTokenError(t, err, 400, "invalid_grant", 50076)
}

func TestAddAppRejectsInvalidRegistrations(t *testing.T) {
	tests := []struct {
		name string
		app  entrasim.App
	}{
		{"client ID not a GUID", entrasim.App{ClientID: "my-app"}},
		{"http outside loopback", entrasim.App{ClientID: webClientID, Redirects: []entrasim.Redirect{{URI: "http://app.example/cb", Platform: entrasim.Web}}}},
		{"IPv6 loopback", entrasim.App{ClientID: webClientID, Redirects: []entrasim.Redirect{{URI: "http://[::1]/cb", Platform: entrasim.MobileDesktop}}}},
		{"wildcard", entrasim.App{ClientID: webClientID, Redirects: []entrasim.Redirect{{URI: "https://*.example/cb", Platform: entrasim.Web}}}},
		{"no platform", entrasim.App{ClientID: webClientID, Redirects: []entrasim.Redirect{{URI: "https://app.example/cb"}}}},
		{"custom scheme on web", entrasim.App{ClientID: webClientID, Redirects: []entrasim.Redirect{{URI: "myapp://cb", Platform: entrasim.Web}}}},
		{"query with personal accounts", entrasim.App{ClientID: webClientID, MultiTenant: true, PersonalAccounts: true,
			Redirects: []entrasim.Redirect{{URI: "https://app.example/cb?x=1", Platform: entrasim.Web}}}},
		{"personal without multi-tenant", entrasim.App{ClientID: webClientID, PersonalAccounts: true}},
	}
	s := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("AddApp accepted it")
				}
			}()
			s.AddApp(tt.app)
		})
	}
}

func TestConcurrentSignIns(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			verifier := oauth2.GenerateVerifier()
			returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Error(err)
				return
			}
			u, _ := url.Parse(returned)
			tok, err := cfg.Exchange(context.Background(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Error(err)
			}
			s.Stats()
		})
	}
	wg.Wait()
	if st := s.Stats(); st.CodeRedemptions != 8 || st.Refreshes != 8 {
		t.Errorf("stats %+v", st)
	}
}

func BenchmarkCodeFlow(b *testing.B) {
	s := entrasim.NewServer()
	defer s.Close()
	cfg := defaultConfig(s)
	ctx := context.Background()
	for b.Loop() {
		verifier := oauth2.GenerateVerifier()
		returned, err := s.Authorize(ctx, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(returned)
		if _, err := cfg.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			b.Fatal(err)
		}
	}
}
