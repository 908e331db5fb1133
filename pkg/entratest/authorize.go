package entratest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
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
	s.mu.Lock()
	s.stats.AuthorizeRequests++
	s.authorizeLog = append(s.authorizeLog, cloneValues(q))
	out := s.decideAuthorizeLocked(seg, q)
	s.mu.Unlock()

	switch {
	case out.page != nil:
		s.writeErrorPage(w, r, out.page)
	case out.wrongPlace:
		http.Redirect(w, r, s.URL+"/common/wrongplace", http.StatusFound)
	default:
		params := out.params
		if out.errRedir != nil {
			m := newMeta(r, s.now())
			params = [][2]string{
				{"error", out.errRedir.err},
				{"error_description", out.errRedir.description(m)},
				{"error_uri", s.errorURI(out.errRedir.code)},
			}
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

// decideAuthorizeLocked validates an authorize request in Entra's order.
// Problems with the tenant, the app or the redirect URI are shown on a page,
// because the redirect URI cannot be trusted; everything after that goes
// back to the redirect URI.
func (s *Server) decideAuthorizeLocked(seg string, q url.Values) authorizeOutcome {
	t, ok := s.resolveTenantLocked(seg)
	if !ok {
		return authorizeOutcome{page: errTenantNotFound(seg)}
	}
	app, e := s.findAppLocked(q.Get("client_id"), t)
	if e != nil {
		return authorizeOutcome{page: e}
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		return authorizeOutcome{page: &aadError{err: "invalid_request", code: 900971, msg: "No reply address provided."}}
	}
	platform := Platform(0)
	for _, reg := range app.Redirects {
		if matchRedirect(reg.URI, redirectURI) {
			platform = reg.Platform
			break
		}
	}
	if platform == 0 {
		return authorizeOutcome{page: &aadError{err: "invalid_request", code: 50011,
			msg: fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirectURI, app.ClientID)}}
	}
	if e := audience(app, t); e != nil {
		return authorizeOutcome{page: e}
	}

	out := authorizeOutcome{target: redirectTarget(redirectURI), mode: "query"}
	if v, ok := q["state"]; ok && len(v) > 0 {
		out.state, out.hasState = stripHTML(v[0]), true
	}
	fail := func(e *aadError) authorizeOutcome { out.errRedir = e; return out }

	switch m := q.Get("response_mode"); m {
	case "", "query":
	case "fragment", "form_post":
		out.mode = m
	default:
		return fail(&aadError{err: "invalid_request", code: 70007,
			msg: fmt.Sprintf("The value '%s' of the input parameter 'response_mode' is not supported. Use query, fragment or form_post.", m)})
	}
	if e := checkResponseType(q.Get("response_type")); e != nil {
		return fail(e)
	}
	if strings.TrimSpace(q.Get("scope")) == "" {
		return fail(errMissing("scope"))
	}
	scopes, e := parseScopes(q.Get("scope"))
	if e != nil {
		return fail(e)
	}
	prompt := q.Get("prompt")
	switch prompt {
	case "", "login", "none", "consent", "select_account", "create":
	default:
		return fail(&aadError{err: "invalid_request", code: 90023, msg: fmt.Sprintf("Unsupported 'prompt' value '%s'.", prompt)})
	}
	if prompt == "select_account" && q.Get("login_hint") != "" {
		return fail(&aadError{err: "invalid_request", code: 90023, msg: "The 'login_hint' parameter cannot be used together with prompt=select_account."})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if method != "" && method != "S256" && method != "plain" {
		return fail(&aadError{err: "invalid_request", code: 50149,
			msg: fmt.Sprintf("The code_challenge_method '%s' is not valid. Supported values are 'S256' and 'plain'.", method)})
	}
	if challenge != "" {
		if !validPKCEString(challenge) {
			return fail(&aadError{err: "invalid_request", code: 501491, msg: "Invalid size of Code_Challenge parameter."})
		}
		if method == "" {
			method = "plain" // Entra's default when the method is left out
		}
	} else {
		method = ""
	}

	// The person signs in.
	user := s.users[s.signedIn]
	if e := userFits(user, t, app); e != nil {
		return fail(e)
	}
	if prompt == "none" && !s.consentedLocked(user, app, scopes) {
		return fail(&aadError{err: "consent_required", code: 65001, msg: errConsentRequired(app).msg})
	}
	if s.denyConsent {
		return fail(&aadError{err: "access_denied", code: 65004, msg: "User declined to consent to access the app."})
	}
	if s.wrongPlace {
		return authorizeOutcome{wrongPlace: true}
	}
	s.addConsentLocked(user, app, scopes)

	msa := user.TenantID == ConsumersTenantID
	code := newCode(msa)
	s.codes[code] = &authCode{
		app: app, redirectURI: redirectURI, platform: platform, tenant: t,
		challenge: challenge, method: method, scopes: scopes, user: *user,
		nonce: q.Get("nonce"), mfa: user.MFA || s.requireMFA, issued: s.clock(),
	}
	out.params = [][2]string{{"code", code}}
	if q.Get("client_info") == "1" {
		out.params = append(out.params, [2]string{"client_info", clientInfo(user)})
	}
	out.params = append(out.params, [2]string{"session_state", newGUID()})
	return out
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

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// stripHTML removes markup from state, as Entra does before echoing it.
func stripHTML(s string) string { return htmlTag.ReplaceAllString(s, "") }

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
