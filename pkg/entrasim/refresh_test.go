package entrasim_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
}

func TestRefreshErrors(t *testing.T) {
	tests := []struct {
		name     string
		knob     func(s *entrasim.Server)
		errValue string
		aadsts   int
	}{
		{"revoked", (*entrasim.Server).RevokeRefreshTokens, "invalid_grant", 50173},
		{"expired by knob", (*entrasim.Server).ExpireRefreshTokens, "invalid_grant", 700082},
		{"expired by the clock", func(s *entrasim.Server) {
			later := time.Now().Add(91 * 24 * time.Hour)
			s.SetClock(func() time.Time { return later })
		}, "invalid_grant", 700082},
		{"consent revoked", func(s *entrasim.Server) { s.RevokeConsent(entrasim.DefaultUsername, entrasim.DefaultClientID) }, "invalid_grant", 65001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			cfg := defaultConfig(s)
			tok := login(t, s, cfg)
			tt.knob(s)
			_, err := refresh(cfg, tok.RefreshToken)
			wantTokenError(t, err, 400, tt.errValue, tt.aadsts)

			// A new interactive sign-in always recovers.
			s.SetClock(nil)
			if _, err := refresh(cfg, login(t, s, cfg).RefreshToken); err != nil {
				t.Errorf("refresh after signing in again: %v", err)
			}
		})
	}
}

func TestMFARequired(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	tok := login(t, s, cfg)
	s.RequireMFA(true)
	_, err := refresh(cfg, tok.RefreshToken)
	body := wantTokenError(t, err, 400, "invalid_grant", 50076)
	if body.Suberror != "basic_action" || !strings.HasPrefix(body.Claims, `{"access_token":{"capolids":`) {
		t.Errorf("suberror %q claims %q, want basic_action and a capolids challenge", body.Suberror, body.Claims)
	}
	// Signing in while the policy is on includes MFA.
	if _, err := refresh(cfg, login(t, s, cfg).RefreshToken); err != nil {
		t.Errorf("refresh after an MFA sign-in: %v", err)
	}
}

func TestRefreshScopeNeedsConsent(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	tok := login(t, s, cfg)
	tokenURL := cfg.Endpoint.TokenURL
	form := url.Values{
		"client_id": {cfg.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"scope": {"openid profile offline_access Mail.Read"},
	}
	resp, e, _ := postForm(t, tokenURL, form)
	if resp.StatusCode != 400 || e.Error != "invalid_grant" || e.Suberror != "consent_required" || e.ErrorCodes[0] != 65001 {
		t.Fatalf("got HTTP %d %+v, want invalid_grant 65001 consent_required", resp.StatusCode, e)
	}

	// Incremental consent: a sign-in for Mail.Read adds it to the record.
	login(t, s, defaultConfig(s, "offline_access", "Mail.Read"))
	resp, e, raw := postForm(t, tokenURL, form)
	if resp.StatusCode != 200 {
		t.Fatalf("after consent: HTTP %d %+v", resp.StatusCode, e)
	}
	if got, want := raw["scope"], "User.Read Mail.Read profile openid"; got != want {
		t.Errorf("scope = %q, want %q (everything consented for Graph)", got, want)
	}

	// One access token is for one resource.
	form.Set("scope", "User.Read https://outlook.office.com/IMAP.AccessAsUser.All")
	resp, e, _ = postForm(t, tokenURL, form)
	if resp.StatusCode != 400 || e.Error != "invalid_scope" || e.ErrorCodes[0] != 700022 {
		t.Errorf("two resources: HTTP %d %+v, want invalid_scope 700022", resp.StatusCode, e)
	}
}

func TestOtherResourceScopes(t *testing.T) {
	s := newServer(t)
	imap := "https://outlook.office.com/IMAP.AccessAsUser.All"
	tok := login(t, s, defaultConfig(s, "offline_access", imap, "https://outlook.office.com/SMTP.Send"))
	if got, want := tok.Extra("scope"), imap+" https://outlook.office.com/SMTP.Send"; got != want {
		t.Errorf("scope = %q, want %q", got, want)
	}
	if info, _ := s.LookupAccessToken(tok.AccessToken); info.Resource != "https://outlook.office.com" {
		t.Errorf("resource = %q", info.Resource)
	}
	// What Exchange reads: the audience, the bare permission names, the user.
	claims := jwtClaims(t, tok.AccessToken)
	if claims["aud"] != "https://outlook.office.com" || claims["scp"] != "IMAP.AccessAsUser.All SMTP.Send" || claims["upn"] != entrasim.DefaultUsername {
		t.Errorf("access token claims aud %v, scp %v, upn %v", claims["aud"], claims["scp"], claims["upn"])
	}
}

func TestFailTokenRequests(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter time.Duration
		errValue   string
		aadsts     int
		header     string
	}{
		{http.StatusTooManyRequests, 7 * time.Second, "temporarily_unavailable", 90055, "7"},
		{http.StatusServiceUnavailable, 0, "temporarily_unavailable", 90006, ""},
		{http.StatusInternalServerError, 1500 * time.Millisecond, "server_error", 50000, "2"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := newServer(t)
			cfg := defaultConfig(s)
			tok := login(t, s, cfg)
			s.FailTokenRequests(1, tt.status, tt.retryAfter)
			_, err := refresh(cfg, tok.RefreshToken)
			wantTokenError(t, err, tt.status, tt.errValue, tt.aadsts)
			if got := err.(*oauth2.RetrieveError).Response.Header.Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After = %q, want %q", got, tt.header)
			}
			if _, err := refresh(cfg, tok.RefreshToken); err != nil {
				t.Errorf("the request after the injected failures: %v", err)
			}
		})
	}
}

func TestNumbersAsStrings(t *testing.T) {
	s := newServer(t)
	s.NumbersAsStrings(true)
	s.SetAccessTokenLifetime(2 * time.Hour)
	tok := login(t, s, defaultConfig(s))
	if got := tok.Extra("expires_in"); got != "7200" {
		t.Errorf("raw expires_in = %#v, want the string \"7200\"", got)
	}
	if d := time.Until(tok.Expiry); d < 7100*time.Second || d > 7200*time.Second {
		t.Errorf("x/oauth2 read an expiry %v away, want about 2h", d)
	}
	_, _, raw := postForm(t, s.URL+"/common/oauth2/v2.0/devicecode", url.Values{"client_id": {entrasim.DefaultClientID}, "scope": {"openid User.Read"}})
	if raw["expires_in"] != "900" || raw["interval"] != "5" {
		t.Errorf("device code expires_in %#v interval %#v, want the strings \"900\" and \"5\"", raw["expires_in"], raw["interval"])
	}
}

func TestTokenDelayHoldsTheAnswer(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	code, verifier := signIn(t, s, cfg)
	s.SetTokenDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if ctx.Err() == nil || err == nil {
		t.Fatalf("Exchange returned %v before the client gave up", err)
	}
	if st := s.Stats(); st.CodeRedemptions != 0 {
		t.Errorf("a delayed request was redeemed: %+v", st)
	}
}

func TestRefuseTokenRequests(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	tok := login(t, s, cfg)
	s.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 53003, Suberror: "message_only",
		Message: "Access has been blocked by Conditional Access policies.", Claims: `{"access_token":{"xms_cc":{"values":["CP1"]}}}`})
	before := s.Stats().Refreshes
	_, err := refresh(cfg, tok.RefreshToken)
	body := wantTokenError(t, err, 400, "invalid_grant", 53003)
	if body.Suberror != "message_only" || body.Claims == "" || !strings.HasPrefix(body.ErrorDescription, "AADSTS53003: Access has been blocked") ||
		!strings.Contains(body.ErrorDescription, "\r\nTrace ID: ") || body.TraceID == "" || body.CorrelationID == "" || body.Timestamp == "" {
		t.Errorf("refusal body %+v lacks Entra's fields", body)
	}
	if s.Stats().Refreshes != before {
		t.Error("a refused request redeemed the refresh token")
	}
	// invalid_client answers 401, as Entra does; after n answers it stops.
	s.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_client", Code: 7000222, Message: "The provided client secret keys are expired."})
	_, err = refresh(cfg, tok.RefreshToken)
	wantTokenError(t, err, 401, "invalid_client", 7000222)
	if _, err := refresh(cfg, tok.RefreshToken); err != nil {
		t.Errorf("refresh after the refusals: %v", err)
	}
}

func TestAnswerRefreshesBare(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	tok := login(t, s, cfg)
	s.AnswerRefreshesBare(true)
	for i := range 2 { // the refresh token used stays valid
		got, err := refresh(cfg, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if got.AccessToken == "" || got.Extra("id_token") != nil || got.Extra("refresh_token") != nil {
			t.Errorf("refresh %d: want an access token only, got id_token %v, refresh_token %v", i, got.Extra("id_token"), got.Extra("refresh_token"))
		}
	}
}
