// Package flow runs the OAuth 2.0 sign-in methods against Entra ID: the
// authorization code grant with PKCE and state (redeemed from a pasted
// returned URL, or from a callback to a local listener), device code, and
// refresh, with the dialogue that reads a pasted returned URL back and the
// wait for a device code. It returns tokens; it never stores them (the
// command decides what to keep, and when) and it never talks to a terminal:
// a dialogue reads and writes through the functions and writers it is given.
package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/random"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Client is an app registration as seen from one authority.
type Client struct {
	Authority    entra.Authority
	ClientID     string
	ClientSecret string // empty for public clients
	Scopes       []string
	HTTPClient   *http.Client // nil means http.DefaultClient
}

// Result is what a successful token response gives.
type Result struct {
	Token  *oauth2.Token
	Scopes []string // granted: the response's scope field, else the requested scopes
	// ScopesAsRequested says the response had no scope field, which means
	// the scopes were granted as requested (RFC 6749 5.1).
	ScopesAsRequested bool
	Claims            entra.Claims // from the id_token, when one came back
	IDToken           bool
	// RefreshExpiresIn is how long the refresh token lives, where the
	// server said so (refresh_expires_in, sent by some OpenID Connect
	// servers, never by Entra); 0 when it did not.
	RefreshExpiresIn time.Duration
}

func (c Client) config(redirectURI string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     c.Authority.Endpoint(),
		RedirectURL:  redirectURI,
		Scopes:       scopes,
	}
}

func (c Client) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.endpointClient())
}

// endpointClient is the HTTP client for the token and device code
// endpoints. It never follows a redirect: the request carries a refresh
// token, a code or a client secret, and a 307 would have it re-sent to
// wherever the redirect points. It reads each answer whole inside the
// round trip, so that a connection dropped or stalled mid-answer fails as
// the network error it is (x/oauth2 would flatten it into text).
func (c Client) endpointClient() *http.Client {
	base := c.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	hc := *base
	hc.Transport = wholeAnswers{base: base.Transport}
	hc.CheckRedirect = RefuseRedirects
	return &hc
}

// RedirectError is an endpoint answering with a redirect, which is never
// followed.
type RedirectError struct {
	Endpoint string // the URL asked
	Status   int
	Location string // where it pointed, without query or fragment
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d, a redirect to %s, which was not followed (it would send the request, secrets included, elsewhere): check the authority host and any proxy in between",
		e.Endpoint, e.Status, e.Location)
}

// RefuseRedirects is an http.Client CheckRedirect that follows none and
// returns a *RedirectError.
func RefuseRedirects(req *http.Request, via []*http.Request) error {
	e := &RedirectError{Endpoint: via[0].URL.String(), Location: servertext.Clean((&url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}).String())}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	return e
}

// maxAnswer is how much of an answer is kept; x/oauth2 reads at most 1 MiB.
const maxAnswer = 1 << 20

// wholeAnswers reads each response body completely during the round trip.
type wholeAnswers struct{ base http.RoundTripper }

func (t wholeAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// Authorization is one authorization request in progress: its sign-in link
// and the PKCE verifier and state that only this process knows.
type Authorization struct {
	client      Client
	cfg         *oauth2.Config
	RedirectURI string
	State       string
	verifier    string
	URL         string // the sign-in link
}

// Options for an authorization request.
type Options struct {
	State        string // "" means a fresh one (see NewState)
	ResponseMode string // "" (query) or "form_post"
	Prompt       string // "", "select_account", "consent", "login"
	LoginHint    string
	Claims       string // a claims request (JSON), answering a claims challenge
}

// NewAuthorization prepares a sign-in link with a fresh state (32 random
// bytes) and a fresh PKCE S256 verifier.
func (c Client) NewAuthorization(redirectURI string, o Options) (*Authorization, error) {
	state := o.State
	if state == "" {
		var err error
		if state, err = NewState(); err != nil {
			return nil, err
		}
	}
	a := &Authorization{
		client:      c,
		cfg:         c.config(redirectURI, c.Scopes),
		RedirectURI: redirectURI,
		State:       state,
		verifier:    oauth2.GenerateVerifier(),
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier)}
	if o.ResponseMode != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", o.ResponseMode))
	}
	if o.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", o.Prompt))
	}
	if o.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", o.LoginHint))
	}
	if o.Claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", o.Claims))
	}
	a.URL = a.cfg.AuthCodeURL(state, opts...)
	return a, nil
}

// RedeemReturnedURL checks a URL pasted back from the browser (see
// entra.ParseReturnedURL) and redeems its code.
func (a *Authorization) RedeemReturnedURL(ctx context.Context, raw string) (*Result, error) {
	code, err := entra.ParseReturnedURL(raw, a.RedirectURI, a.State)
	if err != nil {
		return nil, err
	}
	return a.Redeem(ctx, code)
}

// Redeem exchanges an authorization code (with the PKCE verifier) for tokens.
func (a *Authorization) Redeem(ctx context.Context, code string) (*Result, error) {
	tok, err := a.cfg.Exchange(a.client.context(ctx), code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		return nil, explain("could not redeem the authorization code", err)
	}
	return a.client.newResult("sign-in", tok, a.cfg.Scopes)
}

// Refresh redeems a refresh token. scopes nil means the client's scopes.
// The result carries the rotated refresh token when the server sent one,
// otherwise the one given.
func (c Client) Refresh(ctx context.Context, refreshToken string, scopes []string) (*Result, error) {
	if scopes == nil {
		scopes = c.Scopes
	}
	// x/oauth2 never sends scope with a refresh; Entra needs it to pick the
	// resource (one access token per resource), as MSAL always sends it.
	scoped := c.endpointClient()
	scoped.Transport = scopeAdder{base: scoped.Transport, scope: strings.Join(scopes, " ")}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, scoped)
	src := c.config("", scopes).TokenSource(ctx, &oauth2.Token{
		RefreshToken: refreshToken,
		Expiry:       time.Unix(1, 0), // expired: forces the refresh
	})
	tok, err := src.Token()
	if err != nil {
		return nil, explain("could not refresh the token", err)
	}
	return c.newResult("refresh", tok, scopes)
}

// StartDevice asks for a device code and the text to show the person.
// Of o, only Claims applies: Entra takes it on the device code request as
// on the authorize request.
func (c Client) StartDevice(ctx context.Context, o Options) (*oauth2.DeviceAuthResponse, error) {
	var opts []oauth2.AuthCodeOption
	if o.Claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", o.Claims))
	}
	hc := c.endpointClient()
	hc.Transport = numbersAsNumbers{base: hc.Transport, fields: []string{"expires_in", "interval"}}
	da, err := c.config("", c.Scopes).DeviceAuth(context.WithValue(ctx, oauth2.HTTPClient, hc), opts...)
	if err != nil {
		return nil, explain("could not start device code sign-in", err)
	}
	// Shown to the person as they are: nothing in them may act on a terminal.
	for _, v := range []*string{&da.UserCode, &da.VerificationURI, &da.VerificationURIComplete} {
		*v = servertext.Clean(*v)
	}
	return da, nil
}

// PollDevice waits, at the server's pace, until the person approves or
// declines the device code or it expires.
func (c Client) PollDevice(ctx context.Context, da *oauth2.DeviceAuthResponse) (*Result, error) {
	tok, err := c.config("", c.Scopes).DeviceAccessToken(c.context(ctx), da)
	if err != nil {
		return nil, explain("device code sign-in did not complete", err)
	}
	return c.newResult("sign-in", tok, c.Scopes)
}

// scopeAdder adds the scope parameter to refresh_token grant requests.
type scopeAdder struct {
	base  http.RoundTripper
	scope string
}

func (a scopeAdder) RoundTrip(r *http.Request) (*http.Response, error) {
	base := a.base
	if base == nil {
		base = http.DefaultTransport
	}
	if r.Method != http.MethodPost || r.Body == nil || a.scope == "" {
		return base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err == nil && form.Get("grant_type") == "refresh_token" && form.Get("scope") == "" {
		form.Set("scope", a.scope)
		body = []byte(form.Encode())
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return base.RoundTrip(r)
}

// RefusedError is a token response refused because its ID token failed a
// check: its access token and claims must not be used. It still carries
// the refresh token the answer brought, which the caller of a refresh
// decides about: a server that rotates refresh tokens (Dex does; Entra
// keeps the old one valid) has already retired the one that was sent.
type RefusedError struct {
	What         string // "sign-in" or "refresh"
	Err          error  // why the ID token was refused
	RefreshToken string // the answer's refresh token; "" when it had none
	// Claims are the ID token's, when it could be parsed at all.
	Claims entra.Claims
	Parsed bool
}

func (e *RefusedError) Error() string {
	if e.What == "refresh" { // the caller says what became of the refresh token
		return fmt.Sprintf("refused the tokens of this refresh: %v", e.Err)
	}
	return fmt.Sprintf("refused the tokens of this %s (none are kept): %v", e.What, e.Err)
}
func (e *RefusedError) Unwrap() error { return e.Err }

// newResult reads a token response to a request for requested scopes. Its
// ID token, when there is one, must pass CheckIDToken: otherwise the
// response is refused with a *RefusedError, so that the caller uses none
// of its tokens unless it decides to keep the refresh token.
func (c Client) newResult(what string, tok *oauth2.Token, requested []string) (*Result, error) {
	if tok.AccessToken == "" {
		return nil, errors.New("the token response had no access_token")
	}
	// The tokens are printed, put in Authorization headers and stored: a
	// control character or line break in one would act on a terminal or
	// inject a header (curl -H "Authorization: Bearer $(ms365auth token)").
	for _, t := range []struct{ name, value string }{{"access_token", tok.AccessToken}, {"refresh_token", tok.RefreshToken}} {
		if t.value != "" && !IsBearerToken(t.value) {
			return nil, fmt.Errorf("refused the tokens of this %s (none are kept): the server sent a %s with characters no OAuth token has (RFC 6750 section 2.1); the sign-in server is faulty or not the one intended: check --authority-host", what, t.name)
		}
	}
	r := &Result{Token: tok}
	if s, ok := tok.Extra("scope").(string); ok {
		r.Scopes = strings.Fields(s)
	} else {
		r.Scopes, r.ScopesAsRequested = slices.Clone(requested), true
	}
	if tok.RefreshToken != "" {
		r.RefreshExpiresIn = lifetime(tok.Extra("refresh_expires_in"))
	}
	if idt, ok := tok.Extra("id_token").(string); ok && idt != "" {
		claims, err := entra.ParseIDToken(idt)
		parsed := err == nil
		if parsed {
			err = c.Authority.CheckIDToken(claims, c.ClientID, time.Now())
		}
		if err != nil {
			return nil, &RefusedError{What: what, Err: err, RefreshToken: tok.RefreshToken, Claims: claims, Parsed: parsed}
		}
		r.Claims, r.IDToken = claims, true
	}
	return r, nil
}

// IsBearerToken says whether s is an RFC 6750 b64token: letters, digits,
// "-._~+/", then any number of "=".
func IsBearerToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// explain turns token endpoint failures into *entra.Error (wrapped), so that
// callers can branch on them and show the hint.
func explain(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %w", what, entra.FromRetrieveError(re))
	}
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		return fmt.Errorf("%s: %w", what, redirect) // not the *url.Error around it: a redirect is no network failure
	}
	return fmt.Errorf("%s: %w", what, err)
}

// NewState returns a fresh state: 32 random bytes, base64url. A callback
// listener needs it before the authorization request can be built.
func NewState() (string, error) { return random.URLSafe(32), nil }

// Verifier is the PKCE verifier, for a caller that finishes the sign-in in
// another process (see Resume). Treat it as a secret.
func (a *Authorization) Verifier() string { return a.verifier }

// Resume rebuilds an authorization started earlier, from its redirect URI,
// state and PKCE verifier.
func (c Client) Resume(redirectURI, state, verifier string) *Authorization {
	return &Authorization{
		client:      c,
		cfg:         c.config(redirectURI, c.Scopes),
		RedirectURI: redirectURI,
		State:       state,
		verifier:    verifier,
	}
}

// Loopback is an authorization whose redirect URI is served by a local
// callback listener (link --alt).
type Loopback struct {
	*Authorization
	Listener *callback.Listener
}

// StartLoopback binds the callback listener described by cfg and prepares
// the authorization for the redirect URI it actually serves (a loopback
// URI without a port gets the port just bound). The listener checks the
// authorization's fresh state; cfg.State is set here. The caller closes
// the listener.
func (c Client) StartLoopback(cfg callback.Config, o Options) (*Loopback, error) {
	state, err := NewState()
	if err != nil {
		return nil, err
	}
	cfg.State, o.State = state, state
	l, err := callback.Listen(cfg)
	if err != nil {
		return nil, err
	}
	auth, err := c.NewAuthorization(l.RedirectURI(), o)
	if err != nil {
		l.Close()
		return nil, err
	}
	return &Loopback{Authorization: auth, Listener: l}, nil
}
