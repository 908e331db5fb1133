package entrasim_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// page is one answer of the double as a person's browser sees it.
type page struct {
	status      int
	location    string // for redirects
	step        string // entrasim-step meta: credentials, mfa, consent
	action      string
	flowToken   string
	errorText   string   // p#error
	permissions []string // ul#permissions li data-scope
	body        string
}

var (
	reStep  = regexp.MustCompile(`<meta name="entrasim-step" content="(\w+)">`)
	reForm  = regexp.MustCompile(`<form method="POST" id="step-form" action="([^"]*)">`)
	reToken = regexp.MustCompile(`name="flowToken" value="([^"]*)"`)
	reError = regexp.MustCompile(`<p id="error"[^>]*>([^<]*)</p>`)
	rePerm  = regexp.MustCompile(`<li data-scope="([^"]*)">`)
)

// person is a browser with a cookie jar that does not follow redirects, so
// each step can be checked.
type person struct {
	t      *testing.T
	s      *entrasim.Server
	client *http.Client
}

func newPerson(t *testing.T, s *entrasim.Server) *person {
	jar, _ := cookiejar.New(nil)
	return &person{t: t, s: s, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (p *person) read(resp *http.Response, err error) page {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pg := page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
	if m := reStep.FindStringSubmatch(pg.body); m != nil {
		pg.step = m[1]
	}
	if m := reForm.FindStringSubmatch(pg.body); m != nil {
		pg.action = html.UnescapeString(m[1])
	}
	if m := reToken.FindStringSubmatch(pg.body); m != nil {
		pg.flowToken = m[1]
	}
	if m := reError.FindStringSubmatch(pg.body); m != nil {
		pg.errorText = html.UnescapeString(m[1])
	}
	for _, m := range rePerm.FindAllStringSubmatch(pg.body, -1) {
		pg.permissions = append(pg.permissions, html.UnescapeString(m[1]))
	}
	return pg
}

func (p *person) open(u string) page {
	p.t.Helper()
	return p.read(p.client.Get(u))
}

// submit posts the page's form with fields.
func (p *person) submit(pg page, fields ...string) page {
	p.t.Helper()
	if pg.action == "" {
		p.t.Fatalf("no form on the page (HTTP %d, step %q):\n%s", pg.status, pg.step, pg.body)
	}
	v := url.Values{"flowToken": {pg.flowToken}}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return p.read(p.client.PostForm(p.s.URL+pg.action, v))
}

func (p *person) wantStep(pg page, step string) {
	p.t.Helper()
	if pg.step != step {
		p.t.Fatalf("on step %q (HTTP %d, Location %q), want %q:\n%s", pg.step, pg.status, pg.location, step, pg.body)
	}
}

// backParams reads the parameters of the redirect back to the app.
func backParams(t *testing.T, pg page) url.Values {
	t.Helper()
	if pg.status != http.StatusFound {
		t.Fatalf("HTTP %d, want a redirect back:\n%s", pg.status, pg.body)
	}
	return returnedParams(t, pg.location)
}

func interactiveServer(t *testing.T) *entrasim.Server {
	s := newServer(t)
	s.SetInteractive(true)
	s.AddUser(entrasim.User{Username: "megan@contoso.example", Password: "megan-pw", MFA: true})
	return s
}

func TestInteractiveSignInPages(t *testing.T) {
	s := interactiveServer(t)
	cfg := defaultConfig(s, "openid", "profile", "offline_access", "User.Read")
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))
	p := newPerson(t, s)

	form := p.open(authURL)
	p.wantStep(form, "credentials")
	if !strings.Contains(form.body, `id="username"`) || !strings.Contains(form.body, `id="password"`) {
		t.Fatalf("sign-in form lacks username or password:\n%s", form.body)
	}

	bad := []struct{ username, password, want string }{
		{entrasim.DefaultUsername, "wrong", "AADSTS50126"},
		{"nobody@contoso.example", "x", "AADSTS50034"},
		{"", "", "AADSTS900144"},
	}
	for _, b := range bad {
		again := p.submit(form, "username", b.username, "password", b.password)
		p.wantStep(again, "credentials")
		if !strings.HasPrefix(again.errorText, b.want) {
			t.Errorf("%s/%s: error %q, want %s", b.username, b.password, again.errorText, b.want)
		}
		form = again
	}

	consent := p.submit(form, "username", strings.ToUpper(entrasim.DefaultUsername), "password", entrasim.DefaultPassword)
	p.wantStep(consent, "consent")
	if diff := cmp.Diff([]string{"openid", "profile", "offline_access", "User.Read"}, consent.permissions); diff != "" {
		t.Errorf("consent page permissions (-want +got):\n%s", diff)
	}
	q := backParams(t, p.submit(consent, "action", "accept"))
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("redirect back: %v", q)
	}
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Errorf("no refresh token")
	}

	// The flow is spent: posting its page again is an error page.
	stale := p.submit(consent, "action", "accept")
	if stale.status != http.StatusBadRequest || !strings.Contains(stale.body, "AADSTS9002313") {
		t.Errorf("stale flow token: HTTP %d\n%s", stale.status, stale.body)
	}
}

func TestInteractiveConsentIsIncremental(t *testing.T) {
	s := interactiveServer(t)
	first := defaultConfig(s, "openid", "profile", "offline_access", "User.Read")
	login(t, s, first) // Authorize fills the pages in and accepts

	cases := []struct {
		name   string
		scopes []string
		prompt string
		want   []string // nil: no consent page
	}{
		{"nothing new", []string{"openid", "profile", "offline_access", "User.Read"}, "", nil},
		{"new scopes only", []string{"openid", "profile", "offline_access", "User.Read", "Calendars.ReadWrite", "Mail.Send"}, "", []string{"Calendars.ReadWrite", "Mail.Send"}},
		{"prompt=consent asks for all", []string{"openid", "User.Read"}, "consent", []string{"openid", "User.Read"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPerson(t, s)
			var opts []oauth2.AuthCodeOption
			if c.prompt != "" {
				opts = append(opts, oauth2.SetAuthURLParam("prompt", c.prompt))
			}
			form := p.open(defaultConfig(s, c.scopes...).AuthCodeURL("x", opts...))
			next := p.submit(form, "username", entrasim.DefaultUsername, "password", entrasim.DefaultPassword)
			if c.want == nil {
				if q := backParams(t, next); q.Get("code") == "" {
					t.Fatalf("no code: %v", q)
				}
				return
			}
			p.wantStep(next, "consent")
			if diff := cmp.Diff(c.want, next.permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInteractiveCancelAndDenyConsent(t *testing.T) {
	s := interactiveServer(t)
	p := newPerson(t, s)
	form := p.open(defaultConfig(s).AuthCodeURL("st4te"))
	consent := p.submit(form, "username", entrasim.DefaultUsername, "password", entrasim.DefaultPassword)
	p.wantStep(consent, "consent")
	q := backParams(t, p.submit(consent, "action", "cancel"))
	if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65004:") || q.Get("state") != "st4te" {
		t.Errorf("cancel: %v", q)
	}

	s.DenyConsent(true)
	returned, err := s.Authorize(context.Background(), defaultConfig(s).AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if q := returnedParams(t, returned); q.Get("error") != "access_denied" {
		t.Errorf("Authorize with DenyConsent: %v", q)
	}
	p = newPerson(t, s)
	form = p.open(defaultConfig(s).AuthCodeURL("st4te"))
	q = backParams(t, p.submit(form, "username", entrasim.DefaultUsername, "password", entrasim.DefaultPassword))
	if q.Get("error") != "access_denied" {
		t.Errorf("DenyConsent: %v", q)
	}
}

func TestInteractiveMFA(t *testing.T) {
	s := interactiveServer(t)
	const redirect = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
	s.AddApp(entrasim.App{ClientID: loopClientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: redirect, Platform: entrasim.MobileDesktop}}})
	cfg := config(s, "organizations", loopClientID, redirect, "openid", "profile", "offline_access", "User.Read")
	verifier := oauth2.GenerateVerifier()
	p := newPerson(t, s)
	form := p.open(cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)))
	mfa := p.submit(form, "username", "megan@contoso.example", "password", "megan-pw")
	p.wantStep(mfa, "mfa")
	wrong := p.submit(mfa, "otp", "000000")
	p.wantStep(wrong, "mfa")
	if !strings.HasPrefix(wrong.errorText, "AADSTS500121") {
		t.Errorf("wrong code: error %q", wrong.errorText)
	}
	consent := p.submit(wrong, "otp", entrasim.MFACode)
	p.wantStep(consent, "consent")
	q := backParams(t, p.submit(consent, "action", "accept"))
	if !strings.HasPrefix(q.Get("code"), "0.A") {
		t.Fatalf("redirect back: %v", q)
	}
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	amr, _ := jwtClaims(t, tok.AccessToken)["amr"].([]any)
	if len(amr) != 2 || amr[1] != "mfa" {
		t.Errorf("amr = %v, want pwd and mfa", amr)
	}
}

func TestInteractiveSession(t *testing.T) {
	s := interactiveServer(t)
	cfg := defaultConfig(s)
	p := newPerson(t, s)

	if q := backParams(t, p.open(cfg.AuthCodeURL("x", oauth2.SetAuthURLParam("prompt", "none")))); q.Get("error") != "login_required" || !strings.HasPrefix(q.Get("error_description"), "AADSTS50058:") {
		t.Errorf("prompt=none without a session: %v", q)
	}

	form := p.open(cfg.AuthCodeURL("x"))
	consent := p.submit(form, "username", entrasim.DefaultUsername, "password", entrasim.DefaultPassword)
	backParams(t, p.submit(consent, "action", "accept"))

	cases := []struct {
		name     string
		opts     []oauth2.AuthCodeOption
		wantStep string // "" means straight back with a code
	}{
		{"session skips the form", nil, ""},
		{"prompt=none uses the session", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none")}, ""},
		{"prompt=login asks again", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login")}, "credentials"},
		{"another login_hint asks again", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("login_hint", "megan@contoso.example")}, "credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pg := p.open(cfg.AuthCodeURL("x", c.opts...))
			if c.wantStep != "" {
				p.wantStep(pg, c.wantStep)
				return
			}
			if q := backParams(t, pg); q.Get("code") == "" {
				t.Errorf("no code: %v", q)
			}
		})
	}
	// A fresh browser has no session.
	p2 := newPerson(t, s)
	p2.wantStep(p2.open(cfg.AuthCodeURL("x")), "credentials")
}

func TestInteractiveAuthorizeFillsThePagesIn(t *testing.T) {
	s := interactiveServer(t)
	s.SignInAs("megan@contoso.example")
	tok := login(t, s, defaultConfig(s))
	if amr, _ := jwtClaims(t, tok.AccessToken)["amr"].([]any); len(amr) != 2 {
		t.Errorf("amr = %v, want MFA done", amr)
	}

	// A user without a password cannot get past the sign-in form.
	s.AddUser(entrasim.User{Username: "nopw@contoso.example"})
	s.SignInAs("nopw@contoso.example")
	_, err := s.Authorize(context.Background(), defaultConfig(s).AuthCodeURL("x"))
	var pe *entrasim.PageError
	if !errors.As(err, &pe) || pe.Code != 50126 {
		t.Errorf("err = %v, want AADSTS50126", err)
	}

	// Errors Entra shows on its own page are unchanged.
	_, err = s.Authorize(context.Background(), config(s, "common", entrasim.DefaultClientID, "http://localhost/unregistered", "User.Read").AuthCodeURL("x"))
	if !errors.As(err, &pe) || pe.Code != 50011 {
		t.Errorf("err = %v, want AADSTS50011", err)
	}
}
