package entrasim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// TestSignInFrequency: a 10-hour sign-in frequency refuses a refresh 11
// hours after the sign-in, however recently the token rotated, with
// Entra's words and N in seconds; a new sign-in starts a new session.
func TestSignInFrequency(t *testing.T) {
	s := newServer(t)
	cfg := defaultConfig(s)
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	signedIn := now
	tok := login(t, s, cfg)
	s.RequireSignInFrequency(36000 * time.Second)

	now = signedIn.Add(9 * time.Hour)
	rotated, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh within the frequency: %v", err)
	}
	now = signedIn.Add(11 * time.Hour)
	_, err = refresh(cfg, rotated.RefreshToken)
	body := wantTokenError(t, err, 400, "invalid_grant", 70043)
	want := "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on " +
		signedIn.UTC().Format("2006-01-02T15:04:05.0000000Z") + " and the maximum allowed lifetime for this request is 36000.\r\nTrace ID: "
	if !strings.HasPrefix(body.ErrorDescription, want) || body.Suberror != "token_expired" {
		t.Errorf("description %q suberror %q\nwant prefix %q and token_expired", body.ErrorDescription, body.Suberror, want)
	}

	fresh := login(t, s, cfg)
	now = now.Add(9 * time.Hour)
	if _, err := refresh(cfg, fresh.RefreshToken); err != nil {
		t.Errorf("refresh 9 h after signing in again: %v", err)
	}
	s.RequireSignInFrequency(0)
	if _, err := refresh(cfg, rotated.RefreshToken); err != nil {
		t.Errorf("refresh with the policy off: %v", err)
	}
}

// TestBlockDeviceCodeFlow: the person signs in and is shown 53003; the
// device's poll gets invalid_grant 53003; sessions begun with a device code
// are refused on refresh too, other sessions are not.
func TestBlockDeviceCodeFlow(t *testing.T) {
	s, cfg := deviceServer(t)
	before, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice(before.UserCode); err != nil {
		t.Fatal(err)
	}
	resp, _, raw := postForm(t, cfg.Endpoint.TokenURL, devicePoll(cfg, before.DeviceCode))
	if resp.StatusCode != 200 {
		t.Fatalf("device sign-in before the policy: HTTP %d", resp.StatusCode)
	}
	deviceRT, _ := raw["refresh_token"].(string)
	codeCfg := defaultConfig(s)
	codeRT := login(t, s, codeCfg).RefreshToken

	s.BlockDeviceCodeFlow(true)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatalf("starting a device code under the policy: %v (Entra blocks at sign-in, not at the start)", err)
	}
	pe, ok := s.ApproveDevice(da.UserCode).(*entrasim.PageError)
	if !ok || pe.Code != 53003 || !strings.Contains(pe.Message, "authentication flow that is restricted by your admin") {
		t.Fatalf("approval under the policy: %v, want the 53003 page", pe)
	}
	_, e, _ := postForm(t, cfg.Endpoint.TokenURL, devicePoll(cfg, da.DeviceCode))
	if e.Error != "invalid_grant" || len(e.ErrorCodes) != 1 || e.ErrorCodes[0] != 53003 ||
		!strings.HasPrefix(e.ErrorDescription, "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.") {
		t.Errorf("poll after the block: %+v", e)
	}

	_, err = refresh(cfg, deviceRT)
	wantTokenError(t, err, 400, "invalid_grant", 53003)
	if _, err := refresh(codeCfg, codeRT); err != nil {
		t.Errorf("a browser sign-in's refresh under the device code policy: %v", err)
	}
	s.BlockDeviceCodeFlow(false)
	if _, err := refresh(cfg, deviceRT); err != nil {
		t.Errorf("device session's refresh with the policy off: %v", err)
	}
}

func TestExpireDeviceCodes(t *testing.T) {
	s, cfg := deviceServer(t)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.ExpireDeviceCodes()
	_, e, _ := postForm(t, cfg.Endpoint.TokenURL, devicePoll(cfg, da.DeviceCode))
	if e.Error != "expired_token" {
		t.Errorf("poll after ExpireDeviceCodes: %+v, want expired_token", e)
	}
	if pe, ok := s.ApproveDevice(da.UserCode).(*entrasim.PageError); !ok || pe.Code != 70019 {
		t.Errorf("entering an expired code: %v, want AADSTS70019", pe)
	}
	later, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice(later.UserCode); err != nil {
		t.Errorf("a code issued after ExpireDeviceCodes: %v", err)
	}
}
