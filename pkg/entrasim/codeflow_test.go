package entrasim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func TestCodeFlowHappyPath(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("client_info", "1"), oauth2.SetAuthURLParam("nonce", "n0nce"))

	returned, err := s.Authorize(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(returned, entrasim.NativeClientRedirectURI+"?code=0.A") {
		t.Fatalf("returned URL %.80s..., want the nativeclient URL with a work-account code first", returned)
	}
	q := returnedParams(t, returned)
	code := q.Get("code")
	if len(code) < 1000 || len(code) > 1100 || strings.Count(code, ".") != 3 {
		t.Errorf("code is %d characters with %d dots, want 1000-1100 characters like 0.A<seg>.<seg>.<seg>", len(code), strings.Count(code, "."))
	}
	if q.Get("state") != "st4te" || len(q.Get("session_state")) != 36 {
		t.Errorf("state %q, session_state %q", q.Get("state"), q.Get("session_state"))
	}
	ci, err := base64.RawURLEncoding.DecodeString(q.Get("client_info"))
	if err != nil {
		t.Fatalf("client_info is not unpadded base64url: %v", err)
	}
	if diff := cmp.Diff(`{"uid":"`+entrasim.DefaultUserOID+`","utid":"`+entrasim.DefaultTenantID+`"}`, string(ci)); diff != "" {
		t.Errorf("client_info mismatch (-want +got):\n%s", diff)
	}
	got := s.AuthorizeRequests()
	if len(got) != 1 || got[0].Get("code_challenge_method") != "S256" || got[0].Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) {
		t.Errorf("recorded authorize requests %v, want one with the S256 challenge", got)
	}

	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || len(tok.AccessToken) < 1400 {
		t.Errorf("token type %q, refresh token set %v, access token %d characters", tok.TokenType, tok.RefreshToken != "", len(tok.AccessToken))
	}
	if d := time.Until(tok.Expiry); d < 3500*time.Second || d > 3600*time.Second {
		t.Errorf("expires in %v, want about 3599s", d)
	}
	if got := tok.Extra("scope"); got != "User.Read profile openid" {
		t.Errorf("scope = %q, want %q", got, "User.Read profile openid")
	}
	claims := jwtClaims(t, tok.Extra("id_token").(string))
	for k, want := range map[string]any{
		"iss": "https://login.microsoftonline.com/" + entrasim.DefaultTenantID + "/v2.0",
		"aud": entrasim.DefaultClientID, "tid": entrasim.DefaultTenantID, "oid": entrasim.DefaultUserOID,
		"name": entrasim.DefaultName, "preferred_username": entrasim.DefaultUsername, "ver": "2.0", "nonce": "n0nce",
	} {
		if claims[k] != want {
			t.Errorf("id_token %s = %v, want %v", k, claims[k], want)
		}
	}
	if _, ok := claims["sub"].(string); !ok {
		t.Error("id_token has no sub")
	}
	info, ok := s.LookupAccessToken(tok.AccessToken)
	if !ok || info.Resource != "https://graph.microsoft.com" || info.Username != entrasim.DefaultUsername {
		t.Errorf("LookupAccessToken = %+v, %v", info, ok)
	}
	if st := s.Stats(); st.AuthorizeRequests != 1 || st.TokenRequests != 1 || st.CodeRedemptions != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefreshTokenOnlyWithOfflineAccess(t *testing.T) {
	s := newServer(t)
	tok := login(t, s, defaultConfig(s, "openid", "profile", "User.Read"))
	if tok.RefreshToken != "" {
		t.Error("got a refresh token without offline_access")
	}
	tok = login(t, s, defaultConfig(s, "offline_access", "User.Read"))
	if tok.RefreshToken == "" {
		t.Error("no refresh token with offline_access")
	}
	if tok.Extra("id_token") != nil {
		t.Error("got an id_token without openid")
	}
}

func TestRefreshRotates(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	first := login(t, s, cfg)
	ctx := context.Background()

	expired := &oauth2.Token{AccessToken: first.AccessToken, RefreshToken: first.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	second, err := cfg.TokenSource(ctx, expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("refresh did not return a new refresh token and a new access token")
	}
	// The old refresh token stays valid after rotation.
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err != nil {
		t.Errorf("old refresh token: %v", err)
	}
	if got := s.Stats().Refreshes; got != 2 {
		t.Errorf("Refreshes = %d, want 2", got)
	}
}

// TestRetireUsedRefreshTokens: with the knob, only the newest refresh
// token works, as with Dex.
func TestRetireUsedRefreshTokens(t *testing.T) {
	s := newServer(t)
	s.RetireUsedRefreshTokens(true)
	cfg := defaultConfig(s)
	first := login(t, s, cfg)
	ctx := context.Background()
	second, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err == nil {
		t.Error("a used refresh token still worked")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: second.RefreshToken}).Token(); err != nil {
		t.Errorf("the rotated refresh token: %v", err)
	}
}

func TestCodeRedemptionErrors(t *testing.T) {
	tests := []struct {
		name     string
		redeem   func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, verifier string) error
		status   int
		errValue string
		aadsts   int
	}{
		{"verifier mismatch", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, _ string) error {
			_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, 400, "invalid_grant", 501481},
		{"verifier missing", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, _ string) error {
			_, err := cfg.Exchange(context.Background(), code)
			return err
		}, 400, "invalid_grant", 501481},
		{"code reused", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, verifier string) error {
			if _, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err != nil {
				t.Fatal(err)
			}
			_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			return err
		}, 400, "invalid_grant", 54005},
		{"code expired", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, verifier string) error {
			later := time.Now().Add(11 * time.Minute)
			s.SetClock(func() time.Time { return later })
			_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			return err
		}, 400, "invalid_grant", 70008},
		{"other redirect URI", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, verifier string) error {
			other := *cfg
			other.RedirectURL = s.URL + "/common/oauth2/nativeclient"
			_, err := other.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			return err
		}, 400, "invalid_grant", 500112},
		{"other tenant segment", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, code, verifier string) error {
			other := config(s, entrasim.DefaultTenantID, cfg.ClientID, cfg.RedirectURL)
			_, err := other.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			return err
		}, 400, "invalid_grant", 700005},
		{"garbage code", func(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, _, verifier string) error {
			_, err := cfg.Exchange(context.Background(), "not-a-code", oauth2.VerifierOption(verifier))
			return err
		}, 400, "invalid_grant", 9002313},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			cfg := defaultConfig(s)
			code, verifier := signIn(t, s, cfg)
			err := tt.redeem(t, s, cfg, code, verifier)
			wantTokenError(t, err, tt.status, tt.errValue, tt.aadsts)
		})
	}
}

func TestAuthorizeErrorPages(t *testing.T) {
	s := newServer(t)
	s.AddApp(entrasim.App{ClientID: singleClientID, Redirects: []entrasim.Redirect{
		{URI: "http://localhost/callback", Platform: entrasim.MobileDesktop},
	}})
	s.AddApp(entrasim.App{ClientID: webClientID, MultiTenant: true, Redirects: []entrasim.Redirect{
		{URI: "https://app.example/auth", Platform: entrasim.Web},
	}})
	native := entrasim.NativeClientRedirectURI
	tests := []struct {
		name, tenant, clientID, redirect string
		code                             int
		msgHas                           string
	}{
		{"unknown tenant", "00000000-1111-4222-8333-444444444444", entrasim.DefaultClientID, native, 90002, "Tenant '00000000-1111-4222-8333-444444444444' not found"},
		{"unknown domain", "fabrikam.example", entrasim.DefaultClientID, native, 90002, "not found"},
		{"unknown client", "common", "99999999-9999-4999-8999-999999999999", native, 700016,
			"Application with identifier '99999999-9999-4999-8999-999999999999' was not found in the directory"},
		{"unregistered redirect", "common", entrasim.DefaultClientID, "https://evil.example/cb", 50011,
			"The redirect URI 'https://evil.example/cb' specified in the request does not match the redirect URIs configured for the application '" + entrasim.DefaultClientID + "'."},
		{"trailing slash differs", "common", webClientID, "https://app.example/auth/", 50011, "does not match"},
		{"path case differs", "common", webClientID, "https://app.example/Auth", 50011, "does not match"},
		{"http outside loopback", "common", webClientID, "http://app.example/auth", 50011, "does not match"},
		{"loopback host differs", entrasim.DefaultTenantID, singleClientID, "http://127.0.0.1:8080/callback", 50011, "does not match"},
		{"single-tenant on common", "common", singleClientID, "http://localhost/callback", 50194, "is not configured as a multi-tenant application"},
		{"single-tenant on organizations", "organizations", singleClientID, "http://localhost/callback", 50194, "multi-tenant"},
		{"work-only app on consumers", "consumers", webClientID, "https://app.example/auth", 9002332, "/consumers"},
		{"no redirect URI", "common", entrasim.DefaultClientID, "", 900971, "No reply address provided."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authURL := config(s, tt.tenant, tt.clientID, tt.redirect, "User.Read").AuthCodeURL("st4te")
			_, err := s.Authorize(context.Background(), authURL)
			var pe *entrasim.PageError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PageError", err)
			}
			if pe.Code != tt.code || !strings.Contains(pe.Message, tt.msgHas) {
				t.Errorf("got AADSTS%d %q, want AADSTS%d containing %q", pe.Code, pe.Message, tt.code, tt.msgHas)
			}
			// A page, never a redirect: the redirect URI cannot be trusted.
			resp, err := noRedirectClient().Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("HTTP %d Location %q Content-Type %q, want a 400 HTML page", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"))
			}
		})
	}
}

func noRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestAuthorizeErrorRedirects(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]string // overrides of the authorize parameters
		setup    func(s *entrasim.Server)
		errValue string
		aadsts   int
	}{
		{"token response type", map[string]string{"response_type": "token"}, nil, "unsupported_response_type", 700051},
		{"id_token response type", map[string]string{"response_type": "code id_token"}, nil, "unsupported_response_type", 700054},
		{"unknown response type", map[string]string{"response_type": "magic"}, nil, "unsupported_response_type", 70005},
		{"missing scope", map[string]string{"scope": ""}, nil, "invalid_request", 900144},
		{".default mixed", map[string]string{"scope": "https://graph.microsoft.com/.default User.Read"}, nil, "invalid_scope", 70011},
		{"bad challenge method", map[string]string{"code_challenge_method": "S512"}, nil, "invalid_request", 50149},
		{"short challenge", map[string]string{"code_challenge": "tooshort"}, nil, "invalid_request", 501491},
		{"bad response mode", map[string]string{"response_mode": "web_message"}, nil, "invalid_request", 70007},
		{"unknown prompt", map[string]string{"prompt": "sometimes"}, nil, "invalid_request", 90023},
		{"consent denied", nil, func(s *entrasim.Server) { s.DenyConsent(true) }, "access_denied", 65004},
		{"silent without consent", map[string]string{"prompt": "none"}, nil, "consent_required", 65001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			u, _ := url.Parse(defaultConfig(s).AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			q := u.Query()
			for k, v := range tt.params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			returned, err := s.Authorize(context.Background(), u.String())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(returned, entrasim.NativeClientRedirectURI+"?error=") {
				t.Fatalf("returned %q, want an error redirect to the redirect URI", returned)
			}
			got := returnedParams(t, returned)
			desc := got.Get("error_description")
			prefix := "AADSTS" + itoa(tt.aadsts) + ": "
			if got.Get("error") != tt.errValue || !strings.HasPrefix(desc, prefix) {
				t.Errorf("error=%q description=%q, want %s %s...", got.Get("error"), desc, tt.errValue, prefix)
			}
			for _, part := range []string{"\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "} {
				if !strings.Contains(desc, part) {
					t.Errorf("description lacks %q", part)
				}
			}
			if wantSub := map[int]string{65004: "cancel"}[tt.aadsts]; got.Get("error_subcode") != wantSub {
				t.Errorf("error_subcode %q, want %q", got.Get("error_subcode"), wantSub)
			}
			if got.Get("error_uri") != s.URL+"/error?code="+itoa(tt.aadsts) || got.Get("state") != "st4te" || got.Get("code") != "" {
				t.Errorf("error_uri %q state %q code %q", got.Get("error_uri"), got.Get("state"), got.Get("code"))
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestLoopbackRedirects(t *testing.T) {
	s := newServer(t)
	s.AddApp(entrasim.App{ClientID: loopClientID, Redirects: []entrasim.Redirect{
		{URI: "http://localhost/callback", Platform: entrasim.MobileDesktop},
		{URI: "http://127.0.0.1", Platform: entrasim.MobileDesktop},
	}})
	tests := []struct{ redirect, wantPrefix string }{
		{"http://localhost:54321/callback", "http://localhost:54321/callback?code="},
		{"http://localhost/callback", "http://localhost/callback?code="},
		{"http://127.0.0.1:4000", "http://127.0.0.1:4000/?code="}, // no path comes back as "/"
		{"http://127.0.0.1:4000/", "http://127.0.0.1:4000/?code="},
	}
	for _, tt := range tests {
		t.Run(tt.redirect, func(t *testing.T) {
			cfg := config(s, entrasim.DefaultTenantID, loopClientID, tt.redirect, "User.Read")
			returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("x"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(returned, tt.wantPrefix) {
				t.Errorf("returned %.60s..., want prefix %s", returned, tt.wantPrefix)
			}
		})
	}
}

// callbackServer is a loopback listener like the CLI's: it hands over the
// parameters of the first request that reaches /callback.
func callbackServer(t *testing.T) (*httptest.Server, <-chan url.Values) {
	got := make(chan url.Values, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		q := r.Form
		q.Set("method", r.Method)
		select {
		case got <- q:
		default:
		}
		w.Write([]byte("This window can be closed."))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestFollowSignInToLoopbackListener(t *testing.T) {
	for _, mode := range []string{"query", "form_post"} {
		t.Run(mode, func(t *testing.T) {
			s := newServer(t)
			s.AddApp(entrasim.App{ClientID: loopClientID, Redirects: []entrasim.Redirect{
				{URI: "http://127.0.0.1/callback", Platform: entrasim.MobileDesktop},
			}})
			listener, got := callbackServer(t)
			cfg := config(s, entrasim.DefaultTenantID, loopClientID, listener.URL+"/callback", "offline_access", "User.Read")
			verifier := oauth2.GenerateVerifier()
			authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", mode))
			if mode == "form_post" {
				if _, err := s.Authorize(context.Background(), authURL); !errors.Is(err, entrasim.ErrFormPost) {
					t.Errorf("Authorize err = %v, want ErrFormPost", err)
				}
			}
			resp, err := s.FollowSignIn(context.Background(), authURL, listener.Client())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var q url.Values
			select {
			case q = <-got:
			default:
				t.Fatal("the listener received nothing")
			}
			wantMethod := map[string]string{"query": "GET", "form_post": "POST"}[mode]
			if q.Get("method") != wantMethod || q.Get("state") != "st4te" || q.Get("session_state") == "" {
				t.Errorf("listener got %s state=%q session_state=%q, want %s", q.Get("method"), q.Get("state"), q.Get("session_state"), wantMethod)
			}
			if _, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Errorf("Exchange: %v", err)
			}
		})
	}
}

func TestFragmentResponseMode(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("st4te", oauth2.SetAuthURLParam("response_mode", "fragment")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(returned, entrasim.NativeClientRedirectURI+"#code=") {
		t.Errorf("returned %.80s..., want the parameters after #", returned)
	}
}

func TestSandboxNativeClientPage(t *testing.T) {
	// The double serves its own nativeclient page, so a browser can land on
	// it; the address bar then holds the code.
	s := newServer(t)
	redirect := s.URL + "/common/oauth2/nativeclient"
	cfg := config(s, "common", entrasim.DefaultClientID, redirect, "offline_access", "User.Read")
	returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(returned, redirect+"?code=") {
		t.Errorf("returned %.80s..., want the double's nativeclient page", returned)
	}
	resp, err := http.Get(returned)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("nativeclient page: HTTP %d", resp.StatusCode)
	}
}

func TestWrongPlace(t *testing.T) {
	s := newServer(t)
	s.SendToWrongPlace(true)
	returned, err := s.Authorize(context.Background(), defaultConfig(s).AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if returned != s.URL+"/common/wrongplace" {
		t.Errorf("returned %q, want the wrong place", returned)
	}
}

func TestClientAuthenticationByPlatform(t *testing.T) {
	const origin = "https://spa.example"
	tests := []struct {
		name     string
		clientID string
		redirect string
		secret   string
		style    oauth2.AuthStyle
		origin   bool
		status   int // 0: success
		errValue string
		aadsts   int
	}{
		{"web without secret", webClientID, "https://app.example/auth", "", oauth2.AuthStyleInParams, false, 401, "invalid_client", 7000218},
		{"web with secret ID", webClientID, "https://app.example/auth", "secret-id-guid", oauth2.AuthStyleInParams, false, 401, "invalid_client", 7000215},
		{"web with expired secret", webClientID, "https://app.example/auth", "old-value", oauth2.AuthStyleInParams, false, 401, "invalid_client", 7000222},
		{"web with secret in body", webClientID, "https://app.example/auth", "good-value", oauth2.AuthStyleInParams, false, 0, "", 0},
		{"web with secret in Basic", webClientID, "https://app.example/auth", "good-value", oauth2.AuthStyleInHeader, false, 0, "", 0},
		{"desktop with secret", webClientID, "http://localhost/desktop", "good-value", oauth2.AuthStyleInParams, false, 401, "invalid_client", 700025},
		{"desktop without secret", webClientID, "http://localhost/desktop", "", oauth2.AuthStyleInParams, false, 0, "", 0},
		{"desktop with Origin", webClientID, "http://localhost/desktop", "", oauth2.AuthStyleInParams, true, 400, "invalid_request", 9002326},
		{"spa without Origin", spaClientID, "http://localhost/spa", "", oauth2.AuthStyleInParams, false, 400, "invalid_request", 9002327},
		{"spa with Origin", spaClientID, "http://localhost/spa", "", oauth2.AuthStyleInParams, true, 0, "", 0},
	}
	s := newServer(t)
	s.AddApp(entrasim.App{ClientID: webClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{
			{URI: "https://app.example/auth", Platform: entrasim.Web},
			{URI: "http://localhost/desktop", Platform: entrasim.MobileDesktop},
		},
		Secrets: []entrasim.Secret{{ID: "secret-id-guid", Value: "good-value"}, {ID: "old-id", Value: "old-value", Expired: true}},
	})
	s.AddApp(entrasim.App{ClientID: spaClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: "http://localhost/spa", Platform: entrasim.SPA}}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s, "organizations", tt.clientID, tt.redirect, "offline_access", "User.Read")
			cfg.ClientSecret = tt.secret
			cfg.Endpoint.AuthStyle = tt.style
			code, verifier := signIn(t, s, cfg)
			ctx := context.Background()
			if tt.origin {
				ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: originTransport{origin}})
			}
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if tt.status != 0 {
				wantTokenError(t, err, tt.status, tt.errValue, tt.aadsts)
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			// The refresh token keeps the rules of the original platform.
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Errorf("refresh with the same client authentication: %v", err)
			}
			if tt.secret != "" {
				bare := *cfg
				bare.ClientSecret = ""
				_, err := bare.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
				wantTokenError(t, err, 401, "invalid_client", 7000218)
			}
		})
	}
}

func TestSPACodeNeedsPKCE(t *testing.T) {
	s := newServer(t)
	s.AddApp(entrasim.App{ClientID: spaClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: "http://localhost/spa", Platform: entrasim.SPA}}})
	cfg := config(s, "common", spaClientID, "http://localhost/spa", "User.Read")
	returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("x"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: originTransport{"https://spa.example"}})
	_, err = cfg.Exchange(ctx, returnedParams(t, returned).Get("code"))
	wantTokenError(t, err, 400, "invalid_request", 9002325)
}

func TestPKCEIsOptionalForDesktop(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(context.Background(), returnedParams(t, returned).Get("code")); err != nil {
		t.Errorf("Exchange without PKCE: %v", err)
	}
	if got := s.AuthorizeRequests()[0]; got.Has("code_challenge") {
		t.Errorf("recorded a challenge that was not sent: %v", got)
	}
}
