package entrasim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// Client IDs used by the tests' own registrations.
const (
	webClientID    = "11111111-2222-4333-8444-555555555555"
	spaClientID    = "22222222-3333-4444-8555-666666666666"
	singleClientID = "33333333-4444-4555-8666-777777777777"
	loopClientID   = "44444444-5555-4666-8777-888888888888"
	noPublicID     = "55555555-6666-4777-8888-999999999999"
)

func newServer(t *testing.T) *entrasim.Server {
	t.Helper()
	s := entrasim.NewServer()
	t.Cleanup(s.Close)
	return s
}

// config is an x/oauth2 client for the double, as the CLI would build it.
func config(s *entrasim.Server, tenant, clientID, redirect string, scopes ...string) *oauth2.Config {
	base := s.URL + "/" + tenant + "/oauth2/v2.0/"
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL: base + "authorize", TokenURL: base + "token", DeviceAuthURL: base + "devicecode",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      scopes,
	}
}

// defaultConfig is the default public app with the native client redirect.
func defaultConfig(s *entrasim.Server, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "offline_access", "User.Read"}
	}
	return config(s, "common", entrasim.DefaultClientID, entrasim.NativeClientRedirectURI, scopes...)
}

// signIn runs the browser part of a PKCE sign-in and returns the code and
// the verifier.
func signIn(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier))
	returned, err := s.Authorize(context.Background(), cfg.AuthCodeURL("st4te", opts...))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	q := returnedParams(t, returned)
	if q.Get("error") != "" {
		t.Fatalf("sign-in failed: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != "st4te" {
		t.Fatalf("state = %q, want st4te", q.Get("state"))
	}
	return q.Get("code"), verifier
}

// login is signIn followed by the code exchange.
func login(t *testing.T, s *entrasim.Server, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	code, verifier := signIn(t, s, cfg, opts...)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// returnedParams reads the parameters of a returned URL from its query or
// its fragment.
func returnedParams(t *testing.T, returned string) url.Values {
	t.Helper()
	u, err := url.Parse(returned)
	if err != nil {
		t.Fatalf("returned URL %q: %v", returned, err)
	}
	if u.Fragment != "" {
		q, err := url.ParseQuery(u.Fragment)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	return u.Query()
}

// entraError is the JSON error body.
type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror"`
	Claims           string `json:"claims"`
}

// wantTokenError checks that err is the token endpoint's answer with the
// given status, error value and AADSTS code, and returns the body.
func wantTokenError(t *testing.T, err error, status int, errValue string, code int) entraError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *oauth2.RetrieveError", err)
	}
	var body entraError
	if jerr := json.Unmarshal(re.Body, &body); jerr != nil {
		t.Fatalf("error body %q: %v", re.Body, jerr)
	}
	if re.Response.StatusCode != status || body.Error != errValue || len(body.ErrorCodes) != 1 || body.ErrorCodes[0] != code {
		t.Fatalf("got HTTP %d %s %v, want HTTP %d %s [%d]\nbody: %s", re.Response.StatusCode, body.Error, body.ErrorCodes, status, errValue, code, re.Body)
	}
	return body
}

// jwtClaims decodes a JWT payload without verifying it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d JWT segments, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// postForm posts a token-endpoint form by hand, for requests x/oauth2 cannot
// make (a scope on refresh, a JSON body, ...).
func postForm(t *testing.T, endpoint string, form url.Values) (*http.Response, entraError, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw)
	var e entraError
	json.Unmarshal(b, &e)
	return resp, e, raw
}

// originTransport adds an Origin header, as a browser does for an SPA.
type originTransport struct{ origin string }

func (o originTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Origin", o.origin)
	return http.DefaultTransport.RoundTrip(r)
}
