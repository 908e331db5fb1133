package entrasim_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// deviceServer is a double whose device codes may be polled every second,
// the shortest interval x/oauth2 honours.
func deviceServer(t *testing.T) (*entrasim.Server, *oauth2.Config) {
	s := newServer(t)
	s.SetDeviceInterval(time.Second)
	s.AddApp(entrasim.App{ClientID: noPublicID, MultiTenant: true, Secrets: []entrasim.Secret{{ID: "id", Value: "value"}}})
	return s, config(s, "organizations", entrasim.DefaultClientID, "", "openid", "profile", "offline_access", "User.Read")
}

func devicePoll(cfg *oauth2.Config, deviceCode string) url.Values {
	v := url.Values{"client_id": {cfg.ClientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}}
	if cfg.ClientSecret != "" {
		v.Set("client_secret", cfg.ClientSecret)
	}
	return v
}

func TestDeviceCodeStart(t *testing.T) {
	s, cfg := deviceServer(t)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z0-9]{9}$`).MatchString(da.UserCode) || da.DeviceCode == "" {
		t.Errorf("user code %q, device code %q", da.UserCode, da.DeviceCode)
	}
	if da.VerificationURI != s.URL+"/devicelogin" || da.Interval != 1 {
		t.Errorf("verification URI %q interval %d", da.VerificationURI, da.Interval)
	}
	if d := time.Until(da.Expiry); d < 890*time.Second || d > 900*time.Second {
		t.Errorf("expires in %v, want about 900s", d)
	}
	if st := s.Stats(); st.DeviceCodeRequests != 1 {
		t.Errorf("stats %+v", st)
	}
}

// approveThroughPage plays the person at /devicelogin with plain HTTP.
func approveThroughPage(t *testing.T, da *oauth2.DeviceAuthResponse) {
	page, err := http.Get(da.VerificationURI)
	if err != nil {
		t.Error(err)
		return
	}
	page.Body.Close()
	resp, err := http.PostForm(da.VerificationURI, url.Values{"code": {da.UserCode}, "action": {"approve"}})
	if err != nil {
		t.Error(err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if page.StatusCode != http.StatusOK || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "signed in") {
		t.Errorf("device login page: GET %s, POST %s %s", page.Status, resp.Status, b)
	}
}

// TestDeviceFlow drives x/oauth2's DeviceAccessToken, which waits a whole
// interval before each poll; the cases run at the same time to keep the
// test short, each against its own server.
func TestDeviceFlow(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		clientID string
		act      func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse)
		errValue string // "" for success
		aadsts   int
	}{
		{"approved", "", "", func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			if err := s.ApproveDevice(strings.ToLower(da.UserCode)); err != nil {
				t.Error(err)
			}
		}, "", 0},
		{"approved through the page", "", "", func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			approveThroughPage(t, da)
		}, "", 0},
		{"confidential client", "value", noPublicID, func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			s.ApproveDevice(da.UserCode)
		}, "", 0},
		{"declined", "", "", func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			s.DeclineDevice(da.UserCode)
		}, "authorization_declined", 65004},
		{"expired", "", "", func(t *testing.T, s *entrasim.Server, da *oauth2.DeviceAuthResponse) {
			later := time.Now().Add(16 * time.Minute)
			s.SetClock(func() time.Time { return later })
		}, "expired_token", 70020},
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	results := make([]chan result, len(tests))
	for i, tt := range tests {
		s, cfg := deviceServer(t)
		if tt.clientID != "" {
			cfg.ClientID, cfg.ClientSecret = tt.clientID, tt.secret
		}
		ctx := context.Background()
		da, err := cfg.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tt.act(t, s, da)
		results[i] = make(chan result, 1)
		go func(c chan<- result) {
			tok, err := cfg.DeviceAccessToken(ctx, da)
			c <- result{tok, err}
		}(results[i])
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r result
			select {
			case r = <-results[i]:
			case <-time.After(time.Minute):
				t.Fatal("DeviceAccessToken did not return")
			}
			if tt.errValue != "" {
				wantTokenError(t, r.err, 400, tt.errValue, tt.aadsts)
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.tok.RefreshToken == "" || r.tok.Extra("id_token") == nil {
				t.Error("want a refresh token and an ID token")
			}
		})
	}
}

func TestDeviceCodePollingAnswers(t *testing.T) {
	// Polled by hand: x/oauth2 waits 5 s more after slow_down.
	s, cfg := deviceServer(t)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := cfg.Endpoint.TokenURL
	s.SlowDown(1)
	for i, want := range []string{"slow_down", "authorization_pending"} {
		resp, e, _ := postForm(t, tokenURL, devicePoll(cfg, da.DeviceCode))
		if resp.StatusCode != 400 || e.Error != want {
			t.Errorf("poll %d: HTTP %d %q, want 400 %q", i+1, resp.StatusCode, e.Error, want)
		}
	}
	if err := s.ApproveDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	if err, ok := s.ApproveDevice(da.UserCode).(*entrasim.PageError); !ok || err.Code != 90120 {
		t.Errorf("second approval: %v, want AADSTS90120", err)
	}
	if resp, e, _ := postForm(t, tokenURL, devicePoll(cfg, da.DeviceCode)); resp.StatusCode != 200 {
		t.Fatalf("approved poll: HTTP %d %+v", resp.StatusCode, e)
	}
	if resp, e, _ := postForm(t, tokenURL, devicePoll(cfg, da.DeviceCode)); resp.StatusCode != 400 || e.Error != "invalid_grant" {
		t.Errorf("redeemed device code polled again: HTTP %d %q, want invalid_grant", resp.StatusCode, e.Error)
	}
	if _, e, _ := postForm(t, tokenURL, devicePoll(cfg, "DAQABIQEAAADnot-a-real-one")); e.Error != "bad_verification_code" {
		t.Errorf("unknown device code: %q, want bad_verification_code", e.Error)
	}
	if err, ok := s.ApproveDevice("NOPE12345").(*entrasim.PageError); !ok || err.Code != 70018 {
		t.Errorf("unknown user code: %v, want AADSTS70018", err)
	}
	if st := s.Stats(); st.DevicePolls != 5 || st.DeviceRedemptions != 1 {
		t.Errorf("stats %+v, want 5 polls and 1 redemption", st)
	}
}

func TestDeviceCodeNeedsPublicClientFlows(t *testing.T) {
	s, cfg := deviceServer(t)
	cfg.ClientID = noPublicID
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	resp, e, _ := postForm(t, cfg.Endpoint.TokenURL, devicePoll(cfg, da.DeviceCode))
	if resp.StatusCode != 401 || e.Error != "invalid_client" || e.ErrorCodes[0] != 7000218 {
		t.Errorf("public poll: HTTP %d %+v, want 401 invalid_client 7000218", resp.StatusCode, e)
	}
}

func TestDeviceCodeRequestErrors(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name, tenant, clientID, scope string
		errValue                      string
		aadsts                        int
	}{
		{"unknown tenant", "nowhere.example", entrasim.DefaultClientID, "User.Read", "invalid_request", 90002},
		{"unknown client", "organizations", "99999999-9999-4999-8999-999999999999", "User.Read", "unauthorized_client", 700016},
		{"no scope", "organizations", entrasim.DefaultClientID, "", "invalid_request", 900144},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s, tt.tenant, tt.clientID, "")
			if tt.scope != "" {
				cfg.Scopes = []string{tt.scope}
			}
			_, err := cfg.DeviceAuth(context.Background())
			wantTokenError(t, err, 400, tt.errValue, tt.aadsts)
		})
	}
}
