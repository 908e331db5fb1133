package entrasim

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// codeLifetime is how long an authorization code can be redeemed.
const codeLifetime = 10 * time.Minute

// authCode is what an authorization code stands for.
type authCode struct {
	app         *App
	redirectURI string // exactly as sent to /authorize
	platform    Platform
	tenant      tenantRef
	challenge   string
	method      string // S256 or plain; "" when no challenge was sent
	scopes      []scope
	user        User
	nonce       string
	mfa         bool
	issued      time.Time
	used        bool
}

// authorizeOutcome is what /authorize decided, rendered after the lock is
// released.
type authorizeOutcome struct {
	page       *aadError // shown on the double's own page
	wrongPlace bool
	target     string      // redirect URI to send the browser to
	mode       string      // query, fragment or form_post
	params     [][2]string // in order
	errRedir   *aadError   // error sent back to the redirect URI
	state      string
	hasState   bool
}

// serveAuthorize is GET (or POST) /{tenant}/oauth2/v2.0/authorize.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request, seg string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.ParseForm()
	q := r.Form
	var rep reply
	s.mu.Lock()
	s.stats.AuthorizeRequests++
	s.authorizeLog = append(s.authorizeLog, cloneValues(q))
	req, out := s.checkAuthorizeLocked(seg, q)
	switch {
	case req == nil:
		rep.out = out
	case s.interactive:
		rep = s.startSignInLocked(req, s.sessionLocked(r))
	default:
		rep.out = s.autoSignInLocked(req)
	}
	s.mu.Unlock()
	s.writeReply(w, r, rep)
}

// writeOutcome renders what /authorize (or a sign-in page) decided.
func (s *Server) writeOutcome(w http.ResponseWriter, r *http.Request, out authorizeOutcome) {
	switch {
	case out.page != nil:
		s.writeErrorPage(w, r, out.page)
	case out.wrongPlace:
		http.Redirect(w, r, s.URL+"/common/wrongplace", http.StatusFound)
	default:
		params := out.params
		if out.errRedir != nil {
			m := newMeta(r, s.now())
			params = [][2]string{{"error", out.errRedir.err}}
			if out.errRedir.suberror != "" {
				params = append(params, [2]string{"error_subcode", out.errRedir.suberror})
			}
			params = append(params,
				[2]string{"error_description", out.errRedir.description(m)},
				[2]string{"error_uri", s.errorURI(out.errRedir.code)})
		}
		if out.hasState {
			params = insertState(params, out.state, out.errRedir == nil)
		}
		s.sendBack(w, r, out.target, out.mode, params)
	}
}

// insertState puts state where Entra puts it: after code and client_info on
// success, last on errors.
func insertState(params [][2]string, state string, success bool) [][2]string {
	st := [2]string{"state", state}
	if !success {
		return append(params, st)
	}
	for i, p := range params {
		if p[0] == "session_state" {
			return append(params[:i:i], append([][2]string{st}, params[i:]...)...)
		}
	}
	return append(params, st)
}

// authRequest is an authorize request that passed validation: what the
// person's part of the sign-in works on.
type authRequest struct {
	seg         string
	tenant      tenantRef
	app         *App
	redirectURI string
	platform    Platform
	scopes      []scope
	challenge   string
	method      string
	nonce       string
	clientInfo  bool
	prompt      string
	loginHint   string
	back        authorizeOutcome // where and how to answer: target, mode, state
}

// fail answers the request with an error sent back to its redirect URI.
func (req *authRequest) fail(e *aadError) authorizeOutcome {
	out := req.back
	out.errRedir = e
	return out
}

// checkAuthorizeLocked validates an authorize request in Entra's order.
// Problems with the tenant, the app or the redirect URI are shown on a page,
// because the redirect URI cannot be trusted; everything after that goes
// back to the redirect URI. It returns a nil request and the outcome when
// the request fails before anyone signs in.
func (s *Server) checkAuthorizeLocked(seg string, q url.Values) (*authRequest, authorizeOutcome) {
	t, ok := s.resolveTenantLocked(seg)
	if !ok {
		return nil, authorizeOutcome{page: errTenantNotFound(seg)}
	}
	app, e := s.findAppLocked(q.Get("client_id"), t)
	if e != nil {
		return nil, authorizeOutcome{page: e}
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		return nil, authorizeOutcome{page: &aadError{err: "invalid_request", code: 900971, msg: "No reply address provided."}}
	}
	platform := Platform(0)
	for _, reg := range app.Redirects {
		if matchRedirect(reg.URI, redirectURI) {
			platform = reg.Platform
			break
		}
	}
	if platform == 0 {
		return nil, authorizeOutcome{page: &aadError{err: "invalid_request", code: 50011,
			msg: fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirectURI, app.ClientID)}}
	}
	if e := audience(app, t); e != nil {
		return nil, authorizeOutcome{page: e}
	}

	req := &authRequest{
		seg: seg, tenant: t, app: app, redirectURI: redirectURI, platform: platform,
		nonce: q.Get("nonce"), clientInfo: q.Get("client_info") == "1",
		prompt: q.Get("prompt"), loginHint: q.Get("login_hint"),
		back: authorizeOutcome{target: redirectTarget(redirectURI), mode: "query"},
	}
	if v, ok := q["state"]; ok && len(v) > 0 {
		req.back.state, req.back.hasState = stripHTML(v[0]), true
	}

	switch m := q.Get("response_mode"); m {
	case "", "query":
	case "fragment", "form_post":
		req.back.mode = m
	default:
		return nil, req.fail(&aadError{err: "invalid_request", code: 70007,
			msg: fmt.Sprintf("The value '%s' of the input parameter 'response_mode' is not supported. Use query, fragment or form_post.", m)})
	}
	if e := checkResponseType(q.Get("response_type")); e != nil {
		return nil, req.fail(e)
	}
	if strings.TrimSpace(q.Get("scope")) == "" {
		return nil, req.fail(errMissing("scope"))
	}
	if req.scopes, e = parseScopes(q.Get("scope")); e != nil {
		return nil, req.fail(e)
	}
	switch req.prompt {
	case "", "login", "none", "consent", "select_account", "create":
	default:
		return nil, req.fail(&aadError{err: "invalid_request", code: 90023, msg: fmt.Sprintf("Unsupported 'prompt' value '%s'.", req.prompt)})
	}
	if req.prompt == "select_account" && req.loginHint != "" {
		return nil, req.fail(&aadError{err: "invalid_request", code: 90023, msg: "The 'login_hint' parameter cannot be used together with prompt=select_account."})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if method != "" && method != "S256" && method != "plain" {
		return nil, req.fail(&aadError{err: "invalid_request", code: 50149,
			msg: fmt.Sprintf("The code_challenge_method '%s' is not valid. Supported values are 'S256' and 'plain'.", method)})
	}
	if challenge != "" {
		if !validPKCEString(challenge) {
			return nil, req.fail(&aadError{err: "invalid_request", code: 501491, msg: "Invalid size of Code_Challenge parameter."})
		}
		if method == "" {
			method = "plain" // Entra's default when the method is left out
		}
	} else {
		method = ""
	}
	req.challenge, req.method = challenge, method
	return req, authorizeOutcome{}
}

// autoSignInLocked is the person's part without pages: the SignInAs user
// signs in (with MFA when they or the policy need it) and consents, unless
// a knob says otherwise.
func (s *Server) autoSignInLocked(req *authRequest) authorizeOutcome {
	user := s.users[s.signedIn]
	if e := userFits(user, req.tenant, req.app); e != nil {
		return req.fail(e)
	}
	if req.prompt == "none" && !s.consentedLocked(user, req.app, req.scopes) {
		return req.fail(consentRequiredRedirect(req.app))
	}
	return s.consentGivenLocked(req, user, user.MFA || s.requireMFA)
}

// consentGivenLocked ends a sign-in whose user has consented: it records
// the consent and issues the code, unless DenyConsent or SendToWrongPlace
// say otherwise.
func (s *Server) consentGivenLocked(req *authRequest, user *User, mfa bool) authorizeOutcome {
	if s.denyConsent {
		return req.fail(errDeclined())
	}
	if s.wrongPlace {
		return authorizeOutcome{wrongPlace: true}
	}
	s.addConsentLocked(user, req.app, req.scopes)

	msa := user.TenantID == ConsumersTenantID
	code := newCode(msa)
	s.codes[code] = &authCode{
		app: req.app, redirectURI: req.redirectURI, platform: req.platform, tenant: req.tenant,
		challenge: req.challenge, method: req.method, scopes: req.scopes, user: *user,
		nonce: req.nonce, mfa: mfa, issued: s.clock(),
	}
	out := req.back
	out.params = [][2]string{{"code", code}}
	if req.clientInfo {
		out.params = append(out.params, [2]string{"client_info", clientInfo(user)})
	}
	out.params = append(out.params, [2]string{"session_state", newGUID()})
	return out
}

// consentRequiredRedirect is AADSTS65001 as /authorize sends it back for
// prompt=none (the token endpoint's variant says invalid_grant).
func consentRequiredRedirect(app *App) *aadError {
	return &aadError{err: "consent_required", code: 65001, msg: errConsentRequired(app).msg}
}

func errDeclined() *aadError {
	// error_subcode=cancel is how the redirect marks a person's Cancel
	// (MSAL reads it as the user cancelling).
	return &aadError{err: "access_denied", code: 65004, suberror: "cancel", msg: "User declined to consent to access the app."}
}

// checkResponseType accepts exactly what a confidential or public client
// using the code flow may ask for. The hybrid flow needs implicit grant
// settings the double's apps do not have.
func checkResponseType(rt string) *aadError {
	if rt == "" {
		return errMissing("response_type")
	}
	types := strings.Fields(rt)
	for _, t := range types {
		switch t {
		case "token":
			return &aadError{err: "unsupported_response_type", code: 700051,
				msg: "response_type 'token' is not enabled for the application."}
		case "id_token":
			return &aadError{err: "unsupported_response_type", code: 700054,
				msg: "response_type 'id_token' is not enabled for the application."}
		}
	}
	if len(types) != 1 || types[0] != "code" {
		return &aadError{err: "unsupported_response_type", code: 70005,
			msg: fmt.Sprintf("The response_type '%s' is not supported; use 'code'.", rt)}
	}
	return nil
}

// validPKCEString checks RFC 7636's rule for challenges and verifiers:
// 43 to 128 characters from [A-Za-z0-9-._~].
func validPKCEString(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

var htmlTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<[^>]*>`) })

// stripHTML removes markup from state, as Entra does before echoing it.
func stripHTML(s string) string { return htmlTag().ReplaceAllString(s, "") }

// redirectTarget is the URI the browser is sent to: the one the client sent,
// with "/" added when it has no path (Entra returns http://localhost:1234/
// for http://localhost:1234).
func redirectTarget(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	web := err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"))
	if web && u.Path == "" && u.Host != "" {
		u.Path = "/"
		return u.String()
	}
	return redirectURI
}

// sendBack delivers parameters to the redirect URI in the response mode.
func (s *Server) sendBack(w http.ResponseWriter, r *http.Request, target, mode string, params [][2]string) {
	if mode == "form_post" {
		writeFormPost(w, target, params)
		return
	}
	var enc []string
	for _, p := range params {
		enc = append(enc, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	sep := "?"
	switch {
	case mode == "fragment":
		sep = "#"
	case strings.Contains(target, "?"):
		sep = "&"
	}
	w.Header().Set("Location", target+sep+strings.Join(enc, "&"))
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(http.StatusFound)
}
