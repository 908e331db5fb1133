package entratest_test

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

	"github.com/ms365auth/ms365auth/pkg/entratest"
)

// deviceServer is a double whose device codes may be polled every second,
// the shortest interval x/oauth2 honours.
func deviceServer(t *testing.T) (*entratest.Server, *oauth2.Config) {
	t.Parallel() // each x/oauth2 poll waits a whole interval; overlap them
	s := newServer(t)
	s.SetDeviceInterval(time.Second)
	return s, config(s, "organizations", entratest.DefaultClientID, "", "openid", "profile", "offline_access", "User.Read")
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

func TestDeviceCodeApproved(t *testing.T) {
	s, cfg := deviceServer(t)
	ctx := context.Background()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice(strings.ToLower(da.UserCode)); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Error("want a refresh token and an ID token")
	}
	// The device code is single use, and a user code cannot be approved twice.
	poll := url.Values{"client_id": {cfg.ClientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	if resp, e, _ := postForm(t, cfg.Endpoint.TokenURL, poll); resp.StatusCode != 400 || e.Error != "invalid_grant" {
		t.Errorf("redeemed device code polled again: HTTP %d %q, want invalid_grant", resp.StatusCode, e.Error)
	}
	if err, ok := s.ApproveDevice(da.UserCode).(*entratest.PageError); !ok || err.Code != 90120 {
		t.Errorf("second approval: %v, want AADSTS90120", err)
	}
}

func TestDeviceCodeApprovedThroughThePage(t *testing.T) {
	_, cfg := deviceServer(t)
	ctx := context.Background()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page, err := http.Get(da.VerificationURI)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", da.VerificationURI, page.Status)
	}
	resp, err := http.PostForm(da.VerificationURI, url.Values{"code": {da.UserCode}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "signed in") {
		t.Fatalf("approve: %s %s", resp.Status, b)
	}
	if _, err := cfg.DeviceAccessToken(ctx, da); err != nil {
		t.Fatal(err)
	}
}

func TestDeviceCodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		act      func(s *entratest.Server, da *oauth2.DeviceAuthResponse)
		errValue string
		aadsts   int
	}{
		{"declined", func(s *entratest.Server, da *oauth2.DeviceAuthResponse) { s.DeclineDevice(da.UserCode) }, "authorization_declined", 65004},
		{"expired", func(s *entratest.Server, da *oauth2.DeviceAuthResponse) {
			later := time.Now().Add(16 * time.Minute)
			s.SetClock(func() time.Time { return later })
		}, "expired_token", 70020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cfg := deviceServer(t)
			ctx := context.Background()
			da, err := cfg.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tt.act(s, da)
			_, err = cfg.DeviceAccessToken(ctx, da)
			wantTokenError(t, err, 400, tt.errValue, tt.aadsts)
		})
	}
}

func TestDeviceCodePollingAnswers(t *testing.T) {
	// Polled by hand: x/oauth2 adds 5 s after slow_down, too slow for a test.
	s, cfg := deviceServer(t)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	poll := url.Values{"client_id": {cfg.ClientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	s.SlowDown(1)
	for i, want := range []string{"slow_down", "authorization_pending"} {
		resp, e, _ := postForm(t, cfg.Endpoint.TokenURL, poll)
		if resp.StatusCode != 400 || e.Error != want {
			t.Errorf("poll %d: HTTP %d %q, want 400 %q", i+1, resp.StatusCode, e.Error, want)
		}
	}
	poll.Set("device_code", "DAQABIQEAAADnot-a-real-one")
	if _, e, _ := postForm(t, cfg.Endpoint.TokenURL, poll); e.Error != "bad_verification_code" {
		t.Errorf("unknown device code: %q, want bad_verification_code", e.Error)
	}
	if st := s.Stats(); st.DevicePolls != 3 {
		t.Errorf("DevicePolls = %d, want 3", st.DevicePolls)
	}
}

func TestDeviceCodeNeedsPublicClientFlows(t *testing.T) {
	s, _ := deviceServer(t)
	s.AddApp(entratest.App{ClientID: noPublicID, MultiTenant: true,
		Secrets: []entratest.Secret{{ID: "id", Value: "value"}}})
	cfg := config(s, "organizations", noPublicID, "", "offline_access", "User.Read")
	ctx := context.Background()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	poll := url.Values{"client_id": {cfg.ClientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	if resp, e, _ := postForm(t, cfg.Endpoint.TokenURL, poll); resp.StatusCode != 401 || e.Error != "invalid_client" || e.ErrorCodes[0] != 7000218 {
		t.Errorf("public poll: HTTP %d %+v, want 401 invalid_client 7000218", resp.StatusCode, e)
	}

	cfg.ClientSecret = "value" // a confidential client may run the flow
	if _, err := cfg.DeviceAccessToken(ctx, da); err != nil {
		t.Errorf("with the secret: %v", err)
	}
}

func TestDeviceCodeRequestErrors(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name, tenant, clientID, scope string
		errValue                      string
		aadsts                        int
	}{
		{"unknown tenant", "nowhere.example", entratest.DefaultClientID, "User.Read", "invalid_request", 90002},
		{"unknown client", "organizations", "99999999-9999-4999-8999-999999999999", "User.Read", "unauthorized_client", 700016},
		{"no scope", "organizations", entratest.DefaultClientID, "", "invalid_request", 900144},
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
