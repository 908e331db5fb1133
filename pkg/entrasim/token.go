package entrasim

import (
	"crypto/sha256"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Refresh token lifetimes: a sliding 90-day inactivity window, and a fixed
// 24 hours for tokens redeemed by single-page apps.
const (
	refreshInactivity = 90 * 24 * time.Hour
	spaRefreshLife    = 24 * time.Hour
)

// mfaPolicyID is the Conditional Access policy named in MFA claims challenges.
const mfaPolicyID = "4c2e8b1a-7d3f-4e96-a5b0-1f8c9d2e3a47"

const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// clientKind is how the token endpoint authenticates a client.
type clientKind int

const (
	confidential clientKind = iota + 1
	public
	spa
)

func kindFor(p Platform) clientKind {
	switch p {
	case Web:
		return confidential
	case SPA:
		return spa
	}
	return public
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	app         *App
	username    string
	kind        clientKind
	scopes      []scope // the scopes of the original grant
	mfa         bool
	seq         uint64
	issued      time.Time
	firstIssued time.Time // the sign-in: start of the fixed SPA lifetime and of a sign-in frequency
	// deviceFlow marks a grant from a device code sign-in, and its
	// rotations: Entra tracks the flow a session began with ("protocol
	// tracking"), so a policy blocking device code flow refuses them too.
	deviceFlow bool
}

// credentials are what a client presented to authenticate itself.
type credentials struct {
	secret    string
	secretSet bool
	assertion bool
}

// tokenResponse is a successful token answer, fields in Entra's order.
// expires_in and ext_expires_in are numbers, or strings with NumbersAsStrings.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    any    `json:"expires_in"`
	ExtExpiresIn any    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// RefreshExpiresIn is never sent by Entra (AnnounceRefreshLifetime).
	RefreshExpiresIn int    `json:"refresh_expires_in,omitempty"`
	IDToken          string `json:"id_token,omitempty"`
	ClientInfo       string `json:"client_info,omitempty"`
}

// requirePOST answers anything but POST as Entra's token and device code
// endpoints do (AADSTS900561), and reports whether the request may go on.
func (s *Server) requirePOST(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	s.writeJSONError(w, r, &aadError{status: 400, err: "invalid_request", code: 900561,
		msg: fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method)}, 0)
	return false
}

// serveToken is POST /{tenant}/oauth2/v2.0/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, seg string) {
	if !s.requirePOST(w, r) {
		return
	}
	if s.misbehaved(w, r) {
		return
	}
	s.mu.Lock()
	s.stats.TokenRequests++
	delay := s.tokenDelay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	s.mu.Lock()
	if s.failN > 0 {
		s.failN--
		s.stats.TokenErrors++
		status, retry := s.failStatus, s.failRetry
		s.mu.Unlock()
		s.writeJSONError(w, r, injectedError(status), retry)
		return
	}
	s.mu.Unlock()

	// Entra reads only form bodies; a JSON body reads as empty.
	form := url.Values{}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err == nil {
			form = r.PostForm
		}
	}
	s.mu.Lock()
	resp, e := s.decideTokenLocked(r, seg, form)
	if e != nil {
		s.stats.TokenErrors++
	}
	s.mu.Unlock()
	if e != nil {
		s.writeJSONError(w, r, e, 0)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func injectedError(status int) *aadError {
	e := &aadError{status: status, err: "server_error", code: 50000, msg: "There was an error issuing a token. Try again later."}
	switch status {
	case http.StatusTooManyRequests:
		e.err, e.code, e.msg = "temporarily_unavailable", 90055, "There are too many incoming requests. Try again later."
	case http.StatusServiceUnavailable:
		e.err, e.code, e.msg = "temporarily_unavailable", 90006, "The service is temporarily unavailable. Try again later."
	}
	return e
}

// decideTokenLocked validates the request common to all grants (tenant,
// grant type, client) and hands over to the grant.
func (s *Server) decideTokenLocked(r *http.Request, seg string, form url.Values) (*tokenResponse, *aadError) {
	t, ok := s.resolveTenantLocked(seg)
	if !ok {
		return nil, errTenantNotFound(seg)
	}
	gt := form.Get("grant_type")
	if gt == "" {
		return nil, errMissing("grant_type")
	}
	clientID, cred := clientCredentials(r, form)
	app, e := s.findAppLocked(clientID, t)
	if e != nil {
		return nil, e
	}
	if e := audience(app, t); e != nil {
		return nil, e
	}
	if s.refuseN > 0 {
		s.refuseN--
		e := *s.refusal
		return nil, &e
	}
	switch gt {
	case "authorization_code":
		return s.redeemCodeLocked(r, form, t, app, cred)
	case "refresh_token":
		resp, e := s.refreshLocked(r, form, t, app, cred)
		return resp, s.deadRefreshTokenLocked(e)
	case deviceGrantType:
		return s.pollDeviceLocked(r, form, t, app, cred)
	case "password":
		return s.passwordLocked(r, form, t, app, cred)
	}
	return nil, &aadError{status: 400, err: "unsupported_grant_type", code: 70003,
		msg: fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)}
}

// clientCredentials reads the client ID and secret from the body or from
// HTTP Basic authentication (whose parts are form-encoded, RFC 6749 2.3.1).
func clientCredentials(r *http.Request, form url.Values) (string, credentials) {
	clientID := form.Get("client_id")
	var c credentials
	c.secret = form.Get("client_secret")
	c.assertion = form.Get("client_assertion") != ""
	if user, pass, ok := r.BasicAuth(); ok {
		user, _ = url.QueryUnescape(user)
		pass, _ = url.QueryUnescape(pass)
		if clientID == "" {
			clientID = user
		}
		if c.secret == "" {
			c.secret = pass
		}
	}
	// An empty secret (x/oauth2 sends "client_id:" in Basic for public
	// clients) counts as none.
	c.secretSet = c.secret != ""
	return clientID, c
}

// checkClient authenticates the client by the rules of its kind. Decision
// rules: a confidential client must send a secret (7000218) that is the
// value of one of its secrets (7000215) and not expired (7000222); a public
// or SPA client must send none (700025); an SPA client must redeem
// cross-origin, with an Origin header (9002327), and only it may (9002326).
func checkClient(r *http.Request, app *App, kind clientKind, c credentials) *aadError {
	origin := r.Header.Get("Origin")
	if kind == spa && origin == "" {
		return &aadError{status: 400, err: "invalid_request", code: 9002327,
			msg: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests."}
	}
	if kind != spa && origin != "" {
		return &aadError{status: 400, err: "invalid_request", code: 9002326,
			msg: fmt.Sprintf("Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '%s'.", origin)}
	}
	if kind != confidential {
		if c.secretSet || c.assertion {
			return &aadError{status: 401, err: "invalid_client", code: 700025,
				msg: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."}
		}
		return nil
	}
	switch {
	case c.assertion:
		return &aadError{status: 401, err: "invalid_client", code: 700027,
			msg: "Client assertion failed signature validation. (The double does not model certificate credentials.)"}
	case !c.secretSet:
		return &aadError{status: 401, err: "invalid_client", code: 7000218,
			msg: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	}
	for _, sec := range app.Secrets {
		if sec.Value == c.secret {
			if sec.Expired {
				return &aadError{status: 401, err: "invalid_client", code: 7000222,
					msg: fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app, or consider using certificate credentials for added security.", app.ClientID)}
			}
			return nil
		}
	}
	return &aadError{status: 401, err: "invalid_client", code: 7000215,
		msg: fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID)}
}

// flowKind is the client kind for grants without a redirect URI (device
// code, password): confidential when a credential is sent or public client
// flows are off, public otherwise.
func flowKind(app *App, c credentials) clientKind {
	if c.secretSet || c.assertion || !app.AllowPublicClientFlows {
		return confidential
	}
	return public
}

func errBadGrant(what, raw string) *aadError {
	// Values that do not even look like the double's are malformed requests;
	// ones that do are unknown grants.
	if strings.HasPrefix(raw, "0.A") || strings.HasPrefix(raw, "1.A") || strings.HasPrefix(raw, "M.C") {
		return &aadError{status: 400, err: "invalid_grant", code: 70000,
			msg: fmt.Sprintf("The provided value for the '%s' parameter is not valid.", what)}
	}
	return &aadError{status: 400, err: "invalid_grant", code: 9002313, msg: "Invalid request. Request is malformed or invalid."}
}

// redeemCodeLocked is the authorization_code grant. Decision rules, in
// order: the code must exist (70000), belong to this client (70000) and
// this tenant segment (700005), be unused (54005) and younger than ten
// minutes (70008); redirect_uri must equal the one sent to /authorize
// (500112); the client authenticates by the platform of that redirect URI;
// code_verifier must match the challenge (501481), and SPA codes need one
// (9002325). A failed attempt leaves the code usable.
func (s *Server) redeemCodeLocked(r *http.Request, form url.Values, t tenantRef, app *App, cred credentials) (*tokenResponse, *aadError) {
	raw := form.Get("code")
	if raw == "" {
		return nil, errMissing("code")
	}
	c := s.codes[raw]
	switch {
	case c == nil:
		return nil, errBadGrant("code", raw)
	case c.app.ClientID != app.ClientID:
		return nil, &aadError{status: 400, err: "invalid_grant", code: 70000,
			msg: "The provided value for the 'code' parameter is not valid. The code was issued to a different client."}
	case !c.tenant.same(t):
		return nil, &aadError{status: 400, err: "invalid_grant", code: 700005,
			msg: "Provided Authorization Code is intended to use against other tenant, thus rejected."}
	case c.used:
		return nil, &aadError{status: 400, err: "invalid_grant", code: 54005,
			msg: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	case s.clock().After(c.issued.Add(codeLifetime)):
		return nil, &aadError{status: 400, err: "invalid_grant", code: 70008,
			msg: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
	}
	ru := form.Get("redirect_uri")
	if ru == "" {
		return nil, errMissing("redirect_uri")
	}
	if ru != c.redirectURI {
		return nil, &aadError{status: 400, err: "invalid_grant", code: 500112,
			msg: fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", ru, c.redirectURI)}
	}
	kind := kindFor(c.platform)
	if e := checkClient(r, app, kind, cred); e != nil {
		return nil, e
	}
	if c.challenge != "" {
		if v := form.Get("code_verifier"); v == "" || !pkceMatches(c.method, c.challenge, v) {
			return nil, &aadError{status: 400, err: "invalid_grant", code: 501481,
				msg: "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
		}
	} else if kind == spa {
		return nil, &aadError{status: 400, err: "invalid_request", code: 9002325,
			msg: "Proof Key for Code Exchange is required for cross-origin authorization code redemption."}
	}
	requested := c.scopes
	if raw := form.Get("scope"); strings.TrimSpace(raw) != "" {
		sc, e := parseScopes(raw)
		if e != nil {
			return nil, e
		}
		if e := oneResource(raw, sc); e != nil {
			return nil, e
		}
		if !s.consentedLocked(&c.user, app, sc) {
			return nil, errConsentRequired(app)
		}
		requested = sc
	}
	c.used = true
	s.stats.CodeRedemptions++
	now := s.clock()
	return s.issueLocked(issue{
		app: app, user: &c.user, kind: kind, grantScopes: c.scopes, requested: requested,
		idScopes:   append(append([]scope(nil), c.scopes...), requested...),
		wantRT:     hasScope(c.scopes, "offline_access"),
		nonce:      c.nonce,
		clientInfo: form.Get("client_info") == "1",
		mfa:        c.mfa, firstIssued: now,
	}), nil
}

func pkceMatches(method, challenge, verifier string) bool {
	if method == "plain" {
		return verifier == challenge
	}
	h := sha256.Sum256([]byte(verifier))
	return b64.EncodeToString(h[:]) == challenge
}

// refreshLocked is the refresh_token grant. Decision rules, in order: the
// token must exist and belong to this client (70000); the user must fit the
// tenant segment; the client authenticates by the rules of the original
// sign-in; revoked tokens answer 50173, expired ones 700082 (700084 for the
// fixed SPA lifetime); a missing MFA under RequireMFA answers 50076; the
// scopes (the scope parameter, else the original ones) must be one resource
// (700022) and consented (65001). Success rotates: a new refresh token is
// returned and the old one stays valid (RetireUsedRefreshTokens: it dies).
func (s *Server) refreshLocked(r *http.Request, form url.Values, t tenantRef, app *App, cred credentials) (*tokenResponse, *aadError) {
	raw := form.Get("refresh_token")
	if raw == "" {
		return nil, errMissing("refresh_token")
	}
	g := s.refresh[raw]
	if g == nil {
		return nil, errBadGrant("refresh_token", raw)
	}
	if g.app.ClientID != app.ClientID {
		return nil, &aadError{status: 400, err: "invalid_grant", code: 70000,
			msg: "The provided value for the 'refresh_token' parameter is not valid. The refresh token was issued to a different client."}
	}
	user := s.users[g.username]
	if e := userFits(user, t, app); e != nil {
		e.err = "invalid_grant"
		return nil, e
	}
	if e := checkClient(r, app, g.kind, cred); e != nil {
		return nil, e
	}
	now := s.clock()
	switch {
	case g.seq <= s.revokedUpTo:
		return nil, &aadError{status: 400, err: "invalid_grant", code: 50173,
			msg: fmt.Sprintf("The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
				g.issued.UTC().Format(time.RFC3339Nano), s.revokedAt.UTC().Format(time.RFC3339Nano))}
	case g.seq <= s.expiredUpTo || now.After(g.issued.Add(refreshInactivity)):
		return nil, &aadError{status: 400, err: "invalid_grant", code: 700082,
			msg: fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on '%s' and was inactive for 90.00:00:00.", g.issued.UTC().Format(time.RFC3339Nano))}
	case g.kind == spa && now.After(g.firstIssued.Add(spaRefreshLife)):
		return nil, &aadError{status: 400, err: "invalid_grant", code: 700084,
			msg: fmt.Sprintf("The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on '%s'.", g.firstIssued.UTC().Format(time.RFC3339Nano))}
	}
	if e := s.sessionPolicyLocked(g, now); e != nil {
		return nil, e
	}
	requested := g.scopes
	if raw := form.Get("scope"); strings.TrimSpace(raw) != "" {
		sc, e := parseScopes(raw)
		if e != nil {
			return nil, e
		}
		requested = sc
		if e := oneResource(raw, sc); e != nil {
			return nil, e
		}
	}
	if s.requireMFA && !g.mfa {
		return nil, errMFARequired(resourceOf(requested))
	}
	if !s.consentedLocked(user, app, requested) {
		return nil, errConsentRequired(app)
	}
	s.stats.Refreshes++
	in := issue{
		app: app, user: user, kind: g.kind, grantScopes: g.scopes, requested: requested, idScopes: requested,
		wantRT: true, clientInfo: form.Get("client_info") == "1", mfa: g.mfa, firstIssued: g.firstIssued,
		deviceFlow: g.deviceFlow,
	}
	if s.other.bareRefresh {
		in.wantRT, in.noIDToken = false, true
	}
	if s.other.retireUsedRT && in.wantRT {
		delete(s.refresh, raw)
	}
	return s.issueLocked(in), nil
}

func errMFARequired(resource string) *aadError {
	return &aadError{status: 400, err: "invalid_grant", code: 50076, suberror: "basic_action",
		claims: `{"access_token":{"capolids":{"essential":true,"values":["` + mfaPolicyID + `"]}}}`,
		msg:    fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", resource)}
}

// passwordLocked is the resource owner password grant (ROPC). It needs
// public client flows or a secret, the right password, a user without MFA
// (50076: the grant cannot do MFA), and prior consent (65001: the grant
// cannot ask for it).
func (s *Server) passwordLocked(r *http.Request, form url.Values, t tenantRef, app *App, cred credentials) (*tokenResponse, *aadError) {
	for _, p := range []string{"username", "password", "scope"} {
		if form.Get(p) == "" {
			return nil, errMissing(p)
		}
	}
	if e := checkClient(r, app, flowKind(app, cred), cred); e != nil {
		return nil, e
	}
	u := s.users[strings.ToLower(form.Get("username"))]
	if u == nil || u.Password == "" || u.Password != form.Get("password") {
		return nil, &aadError{status: 400, err: "invalid_grant", code: 50126,
			msg: "Error validating credentials due to invalid username or password."}
	}
	if e := userFits(u, t, app); e != nil {
		e.err = "invalid_grant"
		return nil, e
	}
	raw := form.Get("scope")
	scopes, e := parseScopes(raw)
	if e != nil {
		return nil, e
	}
	if e := oneResource(raw, scopes); e != nil {
		return nil, e
	}
	if u.MFA || s.requireMFA {
		return nil, errMFARequired(resourceOf(scopes))
	}
	if !s.consentedLocked(u, app, scopes) {
		return nil, errConsentRequired(app)
	}
	s.stats.PasswordGrants++
	return s.issueLocked(issue{
		app: app, user: u, kind: flowKind(app, cred), grantScopes: scopes, requested: scopes, idScopes: scopes,
		wantRT: hasScope(scopes, "offline_access"), clientInfo: form.Get("client_info") == "1", firstIssued: s.clock(),
	}), nil
}

// issue describes tokens to mint.
type issue struct {
	app         *App
	user        *User
	kind        clientKind
	grantScopes []scope // carried by the new refresh token
	requested   []scope // decide the access token's resource
	idScopes    []scope // decide whether and what ID token
	wantRT      bool
	nonce       string
	clientInfo  bool
	mfa         bool
	firstIssued time.Time
	noIDToken   bool // even with openid (AnswerRefreshesBare)
	deviceFlow  bool // the session began with a device code sign-in
}

// issueLocked mints the tokens. The access token is for one resource, the
// first one requested; its scope field lists everything the user consented
// to for that resource (as Entra does), then profile, openid and email when
// requested. offline_access is left out, as Entra often does.
func (s *Server) issueLocked(in issue) *tokenResponse {
	now := s.clock()
	resource := resourceOf(in.requested)
	// granted is how the scope field spells them; scp, the access token's
	// claim, has the bare names, whatever the resource.
	var granted, scp []string
	for _, sc := range s.consent[in.user.OID+"|"+in.app.ClientID] {
		if !sc.isOIDC() && sc.name != ".default" && strings.EqualFold(sc.resource, resource) {
			granted, scp = append(granted, sc.display()), append(scp, sc.name)
		}
	}
	if len(granted) == 0 {
		for _, sc := range in.requested {
			if !sc.isOIDC() {
				granted, scp = append(granted, sc.display()), append(scp, sc.name)
			}
		}
	}
	scopeField := granted
	for _, name := range []string{"profile", "openid", "email"} {
		if hasScope(in.requested, name) || hasScope(in.idScopes, name) {
			scopeField = append(scopeField, name)
		}
	}
	exp := now.Add(s.atLifetime)
	at := newAccessToken(in.user, in.app, resource, strings.Join(scp, " "), in.mfa, now, exp)
	s.accessTokens[at] = TokenInfo{
		ClientID: in.app.ClientID, Username: in.user.Username, OID: in.user.OID, TenantID: in.user.TenantID,
		Resource: resource, Scopes: granted, IssuedAt: now, ExpiresAt: exp,
	}
	secs := int(s.atLifetime / time.Second)
	resp := &tokenResponse{
		TokenType: "Bearer", Scope: strings.Join(scopeField, " "),
		ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at,
	}
	if s.other.omitScope {
		resp.Scope = ""
	}
	if s.numbersAsText {
		resp.ExpiresIn, resp.ExtExpiresIn = strconv.Itoa(secs), strconv.Itoa(secs)
	}
	msa := in.user.TenantID == ConsumersTenantID
	if in.wantRT {
		s.rtSeq++
		rt := newRefreshToken(msa)
		s.refresh[rt] = &refreshGrant{
			app: in.app, username: strings.ToLower(in.user.Username), kind: in.kind, scopes: in.grantScopes,
			mfa: in.mfa, seq: s.rtSeq, issued: now, firstIssued: in.firstIssued, deviceFlow: in.deviceFlow,
		}
		resp.RefreshToken = rt
		resp.RefreshExpiresIn = s.other.refreshLife
	}
	if hasScope(in.idScopes, "openid") && !in.noIDToken {
		resp.IDToken = newIDToken(in.user, in.app.ClientID, in.idScopes, in.nonce, now, s.other)
	}
	if in.clientInfo {
		resp.ClientInfo = clientInfo(in.user)
	}
	return resp
}
