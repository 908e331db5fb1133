package flow

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func newClient(t *testing.T, scopes ...string) (*entrasim.Server, Client) {
	t.Helper()
	srv := entrasim.NewServer()
	t.Cleanup(srv.Close)
	auth, err := entra.ParseAuthority(srv.URL, "common")
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{"Calendars.Read", "offline_access", "openid", "profile"}
	}
	return srv, Client{Authority: auth, ClientID: entrasim.DefaultClientID, Scopes: scopes}
}

func TestAuthorizationCarriesPKCEAndFreshState(t *testing.T) {
	_, c := newClient(t)
	a, err := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	u, _ := url.Parse(a.URL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("no S256 challenge: %v", q)
	}
	if q.Get("state") != a.State || len(a.State) != 43 || a.State == b.State || a.Verifier() == b.Verifier() {
		t.Errorf("state and verifier must be fresh per authorization")
	}
	if strings.Contains(a.URL, a.Verifier()) {
		t.Errorf("the verifier leaked into the sign-in link")
	}
}

func TestRedeemReturnedURLAndRefresh(t *testing.T) {
	srv, c := newClient(t)
	a, _ := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	returned, err := srv.Authorize(context.Background(), a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.RedeemReturnedURL(context.Background(), returned)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IDToken || res.Claims.PreferredUsername == "" || res.Token.RefreshToken == "" {
		t.Fatalf("result lacks claims or refresh token: %+v", res.Claims)
	}
	if _, err := a.RedeemReturnedURL(context.Background(), returned); err == nil {
		t.Errorf("a code was redeemed twice")
	} else if ee := (*entra.Error)(nil); !errors.As(err, &ee) || ee.Code != 54005 {
		t.Errorf("second redemption: %v, want AADSTS54005", err)
	}

	// A refresh for another resource sends its scope and rotates the token.
	imap := []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}
	a2, _ := Client{Authority: c.Authority, ClientID: c.ClientID, Scopes: append(imap, "Calendars.Read")}.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	returned, _ = srv.Authorize(context.Background(), a2.URL) // consent to IMAP too
	if _, err := a2.RedeemReturnedURL(context.Background(), returned); err != nil {
		t.Fatal(err)
	}
	r2, err := c.Refresh(context.Background(), res.Token.RefreshToken, imap)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := srv.LookupAccessToken(r2.Token.AccessToken)
	if !ok || info.Resource != "https://outlook.office.com" {
		t.Errorf("refresh with IMAP scope gave a token for %q", info.Resource)
	}
	if r2.Token.RefreshToken == "" || r2.Token.RefreshToken == res.Token.RefreshToken {
		t.Errorf("refresh did not rotate the refresh token")
	}
}

func TestRefreshErrorsAreEntraErrors(t *testing.T) {
	srv, c, rt := linkedClient(t)
	srv.RevokeRefreshTokens()
	_, err := c.Refresh(context.Background(), rt, nil)
	var ee *entra.Error
	if !errors.As(err, &ee) || ee.Code != 50173 || !ee.NeedsInteraction() {
		t.Errorf("revoked refresh: %v", err)
	}
	if strings.Contains(err.Error(), rt) {
		t.Errorf("the error shows the refresh token")
	}
}

func TestDeviceCode(t *testing.T) {
	srv, c := newClient(t)
	srv.SetDeviceInterval(time.Second)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ApproveDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	res, err := c.PollDevice(context.Background(), da)
	if err != nil || res.Token.AccessToken == "" {
		t.Fatalf("device: %v", err)
	}
}

// TestDeviceCodeNumbersAsStrings: a device code answer with expires_in and
// interval as strings, as Entra's v1 endpoint wrote them, is read.
func TestDeviceCodeNumbersAsStrings(t *testing.T) {
	srv, c := newClient(t)
	srv.NumbersAsStrings(true)
	srv.SetDeviceInterval(time.Second)
	da, err := c.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(da.Expiry); da.Interval != 1 || d < 890*time.Second || d > 900*time.Second {
		t.Errorf("interval %d, expiry %v away; want 1 and about 900s", da.Interval, d)
	}
	if err := srv.ApproveDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	if res, err := c.PollDevice(context.Background(), da); err != nil || time.Until(res.Token.Expiry) < 3500*time.Second {
		t.Fatalf("device: %v", err)
	}
}

func TestLoopback(t *testing.T) {
	srv, c := newClient(t)
	const clientID, redirect = "f10e0000-0000-4000-8000-000000000001", "http://localhost/api/flowtest"
	srv.AddApp(entrasim.App{ClientID: clientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: redirect, Platform: entrasim.MobileDesktop}}})
	c.ClientID = clientID
	lb, err := c.StartLoopback(callback.Config{RedirectURI: redirect}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Listener.Close()
	if !strings.HasPrefix(lb.RedirectURI, "http://localhost:") || !strings.HasSuffix(lb.RedirectURI, "/api/flowtest") {
		t.Fatalf("redirect URI %q lacks the bound port", lb.RedirectURI)
	}
	resp, err := srv.FollowSignIn(context.Background(), lb.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := lb.Listener.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := lb.Redeem(context.Background(), cb.Code)
	if err != nil || res.Token.AccessToken == "" {
		t.Fatalf("redeem: %v", err)
	}
}

// TestAuthorizationCarriesClaims: a claims challenge's claims reach the
// authorize request, and the double still signs in.
func TestAuthorizationCarriesClaims(t *testing.T) {
	srv, c := newClient(t)
	const claims = `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`
	a, _ := c.NewAuthorization(entra.NativeClientRedirectURI, Options{Claims: claims})
	if _, err := srv.Authorize(context.Background(), a.URL); err != nil {
		t.Fatal(err)
	}
	if got := srv.AuthorizeRequests()[0].Get("claims"); got != claims {
		t.Errorf("authorize claims = %q", got)
	}
	b, _ := c.NewAuthorization(entra.NativeClientRedirectURI, Options{})
	if strings.Contains(b.URL, "claims=") {
		t.Errorf("claims sent unasked: %s", b.URL)
	}
	// Device code sign-in sends them on the device code request.
	if _, err := c.StartDevice(context.Background(), Options{Claims: claims}); err != nil {
		t.Fatal(err)
	}
	if got := srv.DeviceCodeRequests()[0].Get("claims"); got != claims {
		t.Errorf("device code claims = %q", got)
	}
}
