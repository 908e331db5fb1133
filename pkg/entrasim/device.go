package entrasim

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDeclined
	deviceRedeemed
	deviceBlocked // signed in, then blocked by Conditional Access
)

// deviceAuth is one device code sign-in in progress.
type deviceAuth struct {
	app        *App
	tenant     tenantRef
	scopes     []scope
	deviceCode string
	userCode   string
	expires    time.Time
	status     deviceStatus
	user       *User
	mfa        bool
}

// deviceCodeResponse is the /devicecode answer, fields in Entra's order.
type deviceCodeResponse struct {
	UserCode        string `json:"user_code"`
	DeviceCode      string `json:"device_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       any    `json:"expires_in"` // int, or a string with NumbersAsStrings
	Interval        any    `json:"interval"`
	Message         string `json:"message"`
}

// serveDeviceCode is POST /{tenant}/oauth2/v2.0/devicecode. It checks the
// tenant, the app and the scopes; whether the app may run the flow without a
// secret is only checked when polling, as Entra does.
func (s *Server) serveDeviceCode(w http.ResponseWriter, r *http.Request, seg string) {
	if !s.requirePOST(w, r) || s.misbehaved(w, r) {
		return
	}
	form := url.Values{}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err == nil {
			form = r.PostForm
		}
	}
	s.mu.Lock()
	s.stats.DeviceCodeRequests++
	s.deviceLog = append(s.deviceLog, cloneValues(form))
	resp, e := s.startDeviceLocked(seg, form)
	s.mu.Unlock()
	if e != nil {
		s.writeJSONError(w, r, e, 0)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) startDeviceLocked(seg string, form url.Values) (*deviceCodeResponse, *aadError) {
	t, ok := s.resolveTenantLocked(seg)
	if !ok {
		return nil, errTenantNotFound(seg)
	}
	app, e := s.findAppLocked(form.Get("client_id"), t)
	if e != nil {
		return nil, e
	}
	if e := audience(app, t); e != nil {
		return nil, e
	}
	raw := form.Get("scope")
	if strings.TrimSpace(raw) == "" {
		return nil, errMissing("scope")
	}
	scopes, e := parseScopes(raw)
	if e != nil {
		return nil, e
	}
	d := &deviceAuth{
		app: app, tenant: t, scopes: scopes,
		deviceCode: newDeviceCode(), userCode: newUserCode(),
		expires: s.clock().Add(s.deviceLifetime),
	}
	for s.userCodes[d.userCode] != nil {
		d.userCode = newUserCode()
	}
	s.devices[d.deviceCode] = d
	s.userCodes[d.userCode] = d
	interval := int(s.deviceInterval / time.Second)
	if interval < 1 {
		interval = 1
	}
	verify := s.URL + "/devicelogin"
	resp := &deviceCodeResponse{
		UserCode: d.userCode, DeviceCode: d.deviceCode, VerificationURI: verify,
		ExpiresIn: int(s.deviceLifetime / time.Second), Interval: interval,
		Message: fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, d.userCode),
	}
	if s.numbersAsText {
		resp.ExpiresIn, resp.Interval = strconv.Itoa(int(s.deviceLifetime/time.Second)), strconv.Itoa(interval)
	}
	return resp, nil
}

// pollDeviceLocked is the device_code grant. Decision rules, in order: the
// client must be allowed the flow (public client flows, else a valid
// secret: 7000218/7000215); the device code must exist for this client
// (bad_verification_code) and tenant (700005); an expired code answers
// expired_token; then a pending SlowDown answers slow_down; then the state:
// pending (authorization_pending), declined (authorization_declined),
// already redeemed (invalid_grant), approved (tokens).
func (s *Server) pollDeviceLocked(r *http.Request, form url.Values, t tenantRef, app *App, cred credentials) (*tokenResponse, *aadError) {
	s.stats.DevicePolls++
	raw := form.Get("device_code")
	if raw == "" {
		return nil, errMissing("device_code")
	}
	kind := flowKind(app, cred)
	if e := checkClient(r, app, kind, cred); e != nil {
		return nil, e
	}
	d := s.devices[raw]
	if d == nil || d.app.ClientID != app.ClientID {
		return nil, &aadError{status: 400, err: "bad_verification_code", code: 70018,
			msg: "The provided value for the input parameter 'device_code' is not valid."}
	}
	if !d.tenant.same(t) {
		return nil, &aadError{status: 400, err: "invalid_grant", code: 700005,
			msg: "Provided device code is intended to use against other tenant, thus rejected."}
	}
	if d.status != deviceRedeemed && s.clock().After(d.expires) {
		return nil, &aadError{status: 400, err: "expired_token", code: 70020,
			msg: "The provided value for the input parameter 'device_code' is not valid. This device code has expired."}
	}
	if s.slowDown > 0 {
		s.slowDown--
		return nil, &aadError{status: 400, err: "slow_down", code: 70016,
			msg: "OAuth 2.0 device flow error. Polling too often; increase the interval."}
	}
	switch d.status {
	case devicePending:
		return nil, &aadError{status: 400, err: "authorization_pending", code: 70016,
			msg: "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
	case deviceDeclined:
		return nil, &aadError{status: 400, err: "authorization_declined", code: 65004,
			msg: "User declined to consent to access the app."}
	case deviceBlocked:
		return nil, errBlockedByPolicy()
	case deviceRedeemed:
		return nil, &aadError{status: 400, err: "invalid_grant", code: 70000,
			msg: "The provided value for the input parameter 'device_code' is not valid. It has already been redeemed."}
	}
	d.status = deviceRedeemed
	s.stats.DeviceRedemptions++
	return s.issueLocked(issue{
		app: app, user: d.user, kind: kind, grantScopes: d.scopes, requested: d.scopes, idScopes: d.scopes,
		wantRT: hasScope(d.scopes, "offline_access"), clientInfo: form.Get("client_info") == "1",
		mfa: d.mfa, firstIssued: s.clock(), deviceFlow: true,
	}), nil
}

// ApproveDevice is the person entering userCode at /devicelogin, signing in
// as the SignInAs user and consenting. Codes compare case-insensitively,
// ignoring spaces and dashes. It returns a *PageError for an unknown code
// (70018), an expired one (70019), one already used (90120), a user who
// does not fit the tenant (50020), or a sign-in BlockDeviceCodeFlow
// blocks (53003).
func (s *Server) ApproveDevice(userCode string) error { return s.finishDevice(userCode, true) }

// DeclineDevice is the person refusing at /devicelogin: polling then
// answers authorization_declined. Errors are as for ApproveDevice.
func (s *Server) DeclineDevice(userCode string) error { return s.finishDevice(userCode, false) }

func (s *Server) finishDevice(userCode string, approve bool) error {
	code := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(userCode))
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.userCodes[code]
	switch {
	case d == nil:
		return &PageError{Code: 70018, Message: "The code you entered was not recognised. Check the code and try again."}
	case s.clock().After(d.expires):
		return &PageError{Code: 70019, Message: "Verification code expired. Go back to the device and start the sign-in again."}
	case d.status != devicePending:
		return &PageError{Code: 90120, Message: "The request was already authorized or declined."}
	}
	if !approve {
		d.status = deviceDeclined
		return nil
	}
	user := s.users[s.signedIn]
	if e := userFits(user, d.tenant, d.app); e != nil {
		return &PageError{Code: e.code, Message: e.msg}
	}
	if s.blockDeviceFlow {
		// The person signs in; Conditional Access then refuses the flow.
		d.status = deviceBlocked
		return &PageError{Code: blockedByPolicy, Message: deviceBlockedPage}
	}
	s.addConsentLocked(user, d.app, d.scopes)
	u := *user
	d.user, d.mfa, d.status = &u, user.MFA || s.requireMFA, deviceApproved
	return nil
}
