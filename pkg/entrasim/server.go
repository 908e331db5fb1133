package entrasim

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server is a running Entra double. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, with no trailing slash.
	// The authority for tenant t is URL + "/" + t.
	URL string

	ln     net.Listener
	srv    *http.Server
	served chan struct{}
	base   *url.URL

	mu    sync.Mutex
	clock func() time.Time

	tenants  map[string]bool   // known tenant IDs, lower case
	domains  map[string]string // verified domain (lower case) -> tenant ID
	apps     map[string]*App   // by lower-case client ID
	users    map[string]*User  // by lower-case username
	signedIn string            // lower-case username the browser signs in as

	consent      map[string][]scope // user OID + "|" + client ID -> consented scopes
	codes        map[string]*authCode
	refresh      map[string]*refreshGrant
	devices      map[string]*deviceAuth // by device_code
	userCodes    map[string]*deviceAuth // by user_code
	accessTokens map[string]TokenInfo
	authorizeLog []url.Values
	deviceLog    []url.Values
	stats        Stats

	interactive bool
	signIns     map[string]*pendingSignIn // by flow token
	sessions    map[string]browserSession // by session cookie value

	atLifetime     time.Duration
	deviceLifetime time.Duration
	deviceInterval time.Duration
	denyConsent    bool
	wrongPlace     bool
	requireMFA     bool
	numbersAsText  bool
	tokenDelay     time.Duration
	slowDown       int
	// Conditional Access policies on sessions and flows (policy.go).
	signInFrequency time.Duration
	blockDeviceFlow bool

	// Refresh tokens carry a sequence number; revoking or expiring "all
	// existing" tokens remembers the highest number issued so far.
	rtSeq       uint64
	revokedUpTo uint64
	revokedAt   time.Time
	expiredUpTo uint64

	failN      int
	failStatus int
	failRetry  time.Duration
	refuseN    int
	refusal    *aadError

	misbehaveN   int
	misbehaviour Misbehaviour

	other otherServer // answers like another OpenID Connect server
}

// NewServer starts a Server on 127.0.0.1 at a random port. It panics if it
// cannot listen, as httptest.NewServer does. Call Close when done.
func NewServer() *Server {
	s, err := NewServerAt("127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("entrasim: %v", err))
	}
	return s
}

// NewServerAt starts a Server listening on addr (host:port).
func NewServerAt(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("could not listen on %s: %w", addr, err)
	}
	s := newServer("http://" + ln.Addr().String())
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

func newServer(base string) *Server {
	s := &Server{
		URL:            base,
		clock:          time.Now,
		tenants:        map[string]bool{DefaultTenantID: true},
		domains:        map[string]string{DefaultTenantDomain: DefaultTenantID},
		apps:           map[string]*App{},
		users:          map[string]*User{},
		consent:        map[string][]scope{},
		codes:          map[string]*authCode{},
		refresh:        map[string]*refreshGrant{},
		devices:        map[string]*deviceAuth{},
		userCodes:      map[string]*deviceAuth{},
		accessTokens:   map[string]TokenInfo{},
		signIns:        map[string]*pendingSignIn{},
		sessions:       map[string]browserSession{},
		atLifetime:     3599 * time.Second,
		deviceLifetime: 900 * time.Second,
		deviceInterval: 5 * time.Second,
	}
	s.base, _ = url.Parse(base)
	s.AddUser(User{Username: DefaultUsername, Name: DefaultName, Password: DefaultPassword, OID: DefaultUserOID, TenantID: DefaultTenantID})
	s.SignInAs(DefaultUsername)
	s.AddApp(App{
		ClientID: DefaultClientID, Name: "entrasim sandbox", MultiTenant: true, PersonalAccounts: true,
		AllowPublicClientFlows: true,
		Redirects: []Redirect{
			{URI: NativeClientRedirectURI, Platform: MobileDesktop},
			{URI: base + "/common/oauth2/nativeclient", Platform: MobileDesktop},
			{URI: "http://localhost", Platform: MobileDesktop},
		},
	})
	return s
}

// Close shuts the server down, closing open connections, and waits for it.
func (s *Server) Close() {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	<-s.served
}

// Handler returns the HTTP handler behind URL, for mounting the double in
// another server. Links it generates (error_uri, verification_uri,
// discovery) still point at URL.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/error":
		s.serveErrorPage(w, r)
		return
	case "/devicelogin":
		s.serveDeviceLogin(w, r)
		return
	case "/common/oauth2/nativeclient":
		serveBlank(w, r)
		return
	case "/common/wrongplace":
		serveWrongPlace(w, r)
		return
	}
	seg, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if ok && seg != "" {
		switch rest {
		case "oauth2/v2.0/authorize":
			s.serveAuthorize(w, r, seg)
			return
		case "login":
			s.serveLogin(w, r)
			return
		case "oauth2/v2.0/token":
			s.serveToken(w, r, seg)
			return
		case "oauth2/v2.0/devicecode":
			s.serveDeviceCode(w, r, seg)
			return
		case "v2.0/.well-known/openid-configuration":
			s.serveDiscovery(w, r, seg)
			return
		case "discovery/v2.0/keys":
			s.serveKeys(w, r, seg)
			return
		}
	}
	http.NotFound(w, r)
}

// now reads the server clock. Code that holds s.mu calls s.clock directly.
func (s *Server) now() time.Time {
	s.mu.Lock()
	c := s.clock
	s.mu.Unlock()
	return c()
}

// AddApp registers app, replacing a registration with the same ClientID. It
// panics if the registration breaks Entra's rules (ClientID not a GUID, http
// redirect URIs other than loopback, wildcards, [::1], a Redirect without a
// Platform, ...): the portal would refuse it, and it is a bug in the caller.
func (s *Server) AddApp(app App) {
	a, err := app.validate()
	if err != nil {
		panic("entrasim: AddApp: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.ClientID] = &a
	s.tenants[a.HomeTenant] = true
}

// AddUser adds or replaces a user. An empty TenantID means DefaultTenantID,
// an empty OID gets a random GUID, an empty Name defaults to Username. It
// panics if Username is empty.
func (s *Server) AddUser(u User) {
	if u.Username == "" {
		panic("entrasim: AddUser: empty Username")
	}
	if u.TenantID == "" {
		u.TenantID = DefaultTenantID
	}
	u.TenantID = strings.ToLower(u.TenantID)
	if u.OID == "" {
		u.OID = newGUID()
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[strings.ToLower(u.Username)] = &u
	if u.TenantID != ConsumersTenantID {
		s.tenants[u.TenantID] = true
	}
}

// AddTenantDomain makes domain a verified domain of tenantID, so that
// /{domain}/... works like /{tenantID}/..., and makes the tenant known.
func (s *Server) AddTenantDomain(domain, tenantID string) {
	if !isGUID(tenantID) {
		panic(fmt.Sprintf("entrasim: AddTenantDomain: %q is not a GUID", tenantID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants[strings.ToLower(tenantID)] = true
	s.domains[strings.ToLower(domain)] = strings.ToLower(tenantID)
}

// SignedIn is the username the browser signs in as now (lower case).
func (s *Server) SignedIn() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signedIn
}

// SignInAs chooses who the browser step signs in as, for /authorize and for
// approving device codes. It panics if no such user was added.
func (s *Server) SignInAs(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[strings.ToLower(username)] == nil {
		panic(fmt.Sprintf("entrasim: SignInAs: no user %q", username))
	}
	s.signedIn = strings.ToLower(username)
}

// RevokeConsent forgets what username consented to for clientID, as if the
// user removed the app at myapps.microsoft.com: later refreshes get
// AADSTS65001 until an interactive sign-in consents again.
func (s *Server) RevokeConsent(username, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[strings.ToLower(username)]; u != nil {
		delete(s.consent, u.OID+"|"+strings.ToLower(clientID))
	}
}

// SetAccessTokenLifetime sets expires_in of new access tokens (default 3599s).
func (s *Server) SetAccessTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atLifetime = d
}

// SetClock replaces the server clock (default time.Now) that decides code,
// device code and refresh token expiry and the times written into tokens
// and errors. nil restores time.Now.
func (s *Server) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// DenyConsent makes the person decline consent: /authorize redirects back
// with error=access_denied (AADSTS65004).
func (s *Server) DenyConsent(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyConsent = deny
}

// SendToWrongPlace makes /authorize, after sign-in, send the browser to
// {URL}/common/wrongplace instead of the redirect URI, a dead end some
// accounts meet in real life. No code is issued.
func (s *Server) SendToWrongPlace(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wrongPlace = on
}

// RevokeRefreshTokens revokes every refresh token issued so far (as a
// password reset or "revoke sessions" does): they answer invalid_grant
// AADSTS50173. Tokens issued later work.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedUpTo = s.rtSeq
	s.revokedAt = s.clock()
}

// ExpireRefreshTokens makes every refresh token issued so far expired from
// inactivity: they answer invalid_grant AADSTS700082. (Tokens also expire by
// themselves 90 days after issue by the server clock.)
func (s *Server) ExpireRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiredUpTo = s.rtSeq
}

// RequireMFA turns on a Conditional Access policy demanding MFA. Refreshing a
// token from a sign-in without MFA answers invalid_grant AADSTS50076 with
// suberror basic_action and a claims challenge. An interactive sign-in made
// while the policy is on includes MFA, so its tokens refresh fine.
func (s *Server) RequireMFA(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireMFA = on
}

// FailTokenRequests makes the next n POSTs to /token fail with the HTTP
// status given. 429 answers temporarily_unavailable (AADSTS90055), 503
// temporarily_unavailable (AADSTS90006), other statuses server_error
// (AADSTS50000). retryAfter > 0 adds a Retry-After header in whole seconds.
func (s *Server) FailTokenRequests(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.failRetry = n, status, retryAfter
}

// TokenError is an error answer of the token endpoint, in Entra's body
// (the error response of learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow): error, error_description with the trace lines,
// error_codes, timestamp, trace_id, correlation_id, error_uri, and suberror
// and claims when set.
type TokenError struct {
	Status   int    // HTTP status; 0 means 400, or 401 for invalid_client
	Error    string // the OAuth error value, e.g. invalid_grant
	Code     int    // the AADSTS number; 0 sends RFC 6749's two fields only
	Message  string // the description after "AADSTSnnnn: "
	Suberror string // e.g. basic_action, message_only, bad_token
	Claims   string // a claims challenge (JSON)
}

// RefuseTokenRequests makes the next n valid requests to /token (after the
// client and grant are found, so that nothing is redeemed) answer e: the
// answers of Conditional Access, password expiry, Intune and other policies
// the double does not model. n = 0 turns it off.
func (s *Server) RefuseTokenRequests(n int, e TokenError) {
	a := &aadError{status: e.Status, err: e.Error, code: e.Code, msg: e.Message, suberror: e.Suberror, claims: e.Claims}
	if a.status == 0 {
		a.status = http.StatusBadRequest
		if e.Error == "invalid_client" {
			a.status = http.StatusUnauthorized
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseN, s.refusal = n, a
}

// SetTokenDelay delays every /token answer by d (or until the client gives up).
func (s *Server) SetTokenDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenDelay = d
}

// NumbersAsStrings makes token responses carry expires_in and ext_expires_in,
// and device code responses expires_in and interval, as JSON strings
// ("3599", "900", "5"), as v1 endpoints did.
func (s *Server) NumbersAsStrings(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbersAsText = on
}

// SetDeviceCodeLifetime sets expires_in of new device codes (default 900s).
func (s *Server) SetDeviceCodeLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceLifetime = d
}

// SetDeviceInterval sets the polling interval announced for new device codes
// (default 5s). It is sent in whole seconds, at least 1.
func (s *Server) SetDeviceInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceInterval = d
}

// SlowDown makes the next n device code polls answer slow_down.
func (s *Server) SlowDown(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowDown = n
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// AuthorizeRequests returns copies of the parameters of every request made
// to /authorize, oldest first, for assertions on PKCE, state, prompt, ...
func (s *Server) AuthorizeRequests() []url.Values { return s.copyLog(&s.authorizeLog) }

// DeviceCodeRequests returns copies of the forms of every request made to
// /devicecode, oldest first, for assertions on scope, claims, ...
func (s *Server) DeviceCodeRequests() []url.Values { return s.copyLog(&s.deviceLog) }

// copyLog copies a request log under the lock.
func (s *Server) copyLog(log *[]url.Values) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]url.Values, len(*log))
	for i, q := range *log {
		out[i] = cloneValues(q)
	}
	return out
}

// LookupAccessToken tells a fake resource server about a token the double
// issued. ok is false for tokens it never issued; expiry is the caller's to
// check against ExpiresAt.
func (s *Server) LookupAccessToken(token string) (info TokenInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok = s.accessTokens[token]
	info.Scopes = append([]string(nil), info.Scopes...)
	return info, ok
}

func cloneValues(q url.Values) url.Values {
	c := make(url.Values, len(q))
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// tenantKind is what a tenant segment selects.
type tenantKind int

const (
	kindCommon tenantKind = iota + 1
	kindOrganizations
	kindConsumers
	kindTenant
)

// tenantRef is a resolved tenant segment.
type tenantRef struct {
	kind tenantKind
	id   string // the tenant ID for kindTenant
	name string // the segment as sent, for messages
}

func (t tenantRef) same(o tenantRef) bool { return t.kind == o.kind && t.id == o.id }

// resolveTenantLocked resolves a tenant segment: common, organizations,
// consumers (or its GUID), a known tenant GUID or a verified domain.
func (s *Server) resolveTenantLocked(seg string) (tenantRef, bool) {
	l := strings.ToLower(seg)
	switch {
	case l == "common":
		return tenantRef{kind: kindCommon, name: seg}, true
	case l == "organizations":
		return tenantRef{kind: kindOrganizations, name: seg}, true
	case l == "consumers" || l == ConsumersTenantID:
		return tenantRef{kind: kindConsumers, name: seg}, true
	case s.tenants[l]:
		return tenantRef{kind: kindTenant, id: l, name: seg}, true
	case s.domains[l] != "":
		return tenantRef{kind: kindTenant, id: s.domains[l], name: seg}, true
	}
	return tenantRef{}, false
}

// findAppLocked finds the app for a request at tenant t. An unknown client
// ID, or a single-tenant app asked for at a tenant other than its home, is
// "not found in the directory" (AADSTS700016).
func (s *Server) findAppLocked(clientID string, t tenantRef) (*App, *aadError) {
	if clientID == "" {
		return nil, errMissing("client_id")
	}
	app := s.apps[strings.ToLower(clientID)]
	if app == nil || (t.kind == kindTenant && t.id != app.HomeTenant && !app.MultiTenant) {
		return nil, errAppNotFound(clientID, t.name)
	}
	return app, nil
}

// audience checks the app's supported account types against the tenant
// segment: a single-tenant app on /common or /organizations is AADSTS50194;
// an app without personal accounts on /consumers is AADSTS9002332.
func audience(app *App, t tenantRef) *aadError {
	switch {
	case (t.kind == kindCommon || t.kind == kindOrganizations) && !app.MultiTenant:
		return errNotMultiTenant(app)
	case t.kind == kindConsumers && !app.PersonalAccounts:
		return errNoConsumers(app)
	}
	return nil
}

// userFits says whether u may sign in to app through tenant segment t.
// Decision rules: /consumers takes only personal accounts; /organizations
// only work or school accounts; /common both, personal ones only if the app
// allows them; a tenant segment only that tenant's members; and a
// single-tenant app only its home tenant's members.
func userFits(u *User, t tenantRef, app *App) *aadError {
	msa := u.TenantID == ConsumersTenantID
	ok := true
	switch t.kind {
	case kindConsumers:
		ok = msa
	case kindOrganizations:
		ok = !msa
	case kindCommon:
		ok = !msa || app.PersonalAccounts
	case kindTenant:
		ok = u.TenantID == t.id
	}
	if !app.MultiTenant && u.TenantID != app.HomeTenant {
		ok = false
	}
	if !ok {
		return errUserNotInTenant(u, t.name, app)
	}
	return nil
}

// addConsentLocked records that u consented to scopes for app; consent
// accumulates across sign-ins (incremental consent).
func (s *Server) addConsentLocked(u *User, app *App, scopes []scope) {
	k := u.OID + "|" + app.ClientID
	have := s.consent[k]
	for _, sc := range scopes {
		found := false
		for _, h := range have {
			if h.key() == sc.key() {
				found = true
				break
			}
		}
		if !found {
			have = append(have, sc)
		}
	}
	s.consent[k] = have
}

// consentedLocked reports whether every resource scope in scopes was
// consented. OIDC scopes need no consent of their own; ".default" is
// covered by any consent for its resource.
func (s *Server) consentedLocked(u *User, app *App, scopes []scope) bool {
	for _, sc := range s.unconsentedLocked(u, app, scopes) {
		if !sc.isOIDC() {
			return false
		}
	}
	return true
}
