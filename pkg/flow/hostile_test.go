package flow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// linkedClient is a client holding a fresh refresh token.
func linkedClient(t *testing.T) (*entrasim.Server, Client, string) {
	t.Helper()
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
	return srv, c, res.Token.RefreshToken
}

// TestRedirectsAreNotFollowed: a token or device code endpoint answering
// 307 would have the refresh token and client secret POSTed elsewhere.
func TestRedirectsAreNotFollowed(t *testing.T) {
	srv, c, rt := linkedClient(t)
	c.ClientSecret = "client-secret-that-must-stay-home"
	var elsewhere atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.Copy(io.Discard, r.Body)
	}))
	defer evil.Close()
	srv.Misbehave(2, entrasim.Misbehaviour{RedirectTo: evil.URL + "/steal"})

	_, refreshErr := c.Refresh(context.Background(), rt, nil)
	_, deviceErr := c.StartDevice(context.Background(), Options{})
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests followed the redirect", n)
	}
	for _, tc := range []struct {
		err      error
		endpoint string
	}{{refreshErr, c.Authority.Endpoint().TokenURL}, {deviceErr, c.Authority.Endpoint().DeviceAuthURL}} {
		var re *RedirectError
		if !errors.As(tc.err, &re) || !strings.Contains(tc.err.Error(), tc.endpoint) {
			t.Errorf("error %v: want a RedirectError naming %s", tc.err, tc.endpoint)
		}
		var ue *url.Error
		if errors.As(tc.err, &ue) {
			t.Errorf("a redirect reads as a network error (retried): %v", tc.err)
		}
	}
}

// TestCutAnswersAreNetworkErrors: a body cut short or stalled must come back
// as a network error (*url.Error), which callers treat as transient, not as
// x/oauth2's flattened text.
func TestCutAnswersAreNetworkErrors(t *testing.T) {
	srv, c, rt := linkedClient(t)
	for _, m := range []entrasim.Misbehaviour{{Truncate: true}, {StallBody: true}} {
		srv.Misbehave(1, m)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Refresh(ctx, rt, nil)
		cancel()
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("%+v: %v (%T), want a *url.Error", m, err, errors.Unwrap(err))
		}
	}
	if _, err := c.Refresh(context.Background(), rt, nil); err != nil {
		t.Errorf("refresh after the failures: %v", err)
	}
}

// TestDeviceTextIsCleaned: the device code fields are shown as they come;
// escape sequences and bidi overrides in them must not reach the terminal.
func TestDeviceTextIsCleaned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"device_code":"dc","user_code":"AB\u001b[2JCD\u202e","verification_uri":"https://microsoft.com/devicelogin\u001b]8;;https://evil/\u0007","expires_in":900,"interval":5,"message":"x"}`)
	}))
	defer srv.Close()
	auth, _ := entra.ParseAuthority(srv.URL, "common")
	da, err := Client{Authority: auth, ClientID: entrasim.DefaultClientID}.StartDevice(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{da.UserCode, da.VerificationURI} {
		if strings.ContainsAny(v, "\x1b\x07\u202e") {
			t.Errorf("control characters kept: %q", v)
		}
	}
}

// TestTokensOutsideB64TokenAreRefused: an access or refresh token with ESC,
// BEL or a line break would be printed by token and pasted into an
// Authorization header; RFC 6750 allows only b64token characters.
func TestTokensOutsideB64TokenAreRefused(t *testing.T) {
	const good = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln-_~+/=="
	for _, tc := range []struct{ name, access, refresh string }{
		{"ESC in the access token", "abc\x1b]52;c;ZXZpbA==\x07def", "rt"},
		{"CR LF in the access token", "abc\r\nX-Injected: 1", "rt"},
		{"a space in the access token", "abc def", "rt"},
		{"BEL in the refresh token", good, "rt\x07"},
		{"a line break in the refresh token", good, "rt\nmore"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": tc.access, "refresh_token": tc.refresh,
				"token_type": "Bearer", "expires_in": 3600, "scope": "Calendars.Read"})
		}))
		auth, _ := entra.ParseAuthority(srv.URL, "common")
		c := Client{Authority: auth, ClientID: entrasim.DefaultClientID, Scopes: []string{"Calendars.Read"}}
		res, err := c.Refresh(context.Background(), "old-refresh-token", nil)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "RFC 6750") || !strings.Contains(err.Error(), "--authority-host") {
			t.Errorf("%s: result %v, error %v; want a refusal naming RFC 6750", tc.name, res != nil, err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x1b\x07\r") || strings.Contains(err.Error(), "X-Injected") {
			t.Errorf("%s: the error quotes the token: %q", tc.name, err)
		}
	}
	for _, s := range []string{good, "a", "A-._~+/9", "x=="} {
		if !IsBearerToken(s) {
			t.Errorf("IsBearerToken(%q) = false", s)
		}
	}
	for _, s := range []string{"", "=", "a=b", "a b", "a\x1b", "é"} {
		if IsBearerToken(s) {
			t.Errorf("IsBearerToken(%q) = true", s)
		}
	}
}
