package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// aadError is an Entra error before it is rendered as a JSON body, a
// redirect or a page.
type aadError struct {
	status   int    // HTTP status for JSON answers: 400, or 401 for invalid_client
	err      string // the OAuth error value
	code     int    // the AADSTS number
	msg      string // text after "AADSTSnnnn: "
	suberror string
	claims   string
}

// timestampLayout is how Entra writes times in error descriptions.
const timestampLayout = "2006-01-02 15:04:05Z"

// errorMeta are the per-response identifiers Entra adds to every error.
type errorMeta struct {
	traceID, correlationID string
	at                     time.Time
}

// newMeta makes fresh identifiers. Entra echoes a client-request-id header as
// the correlation ID, which is how MSAL ties its logs to the server's.
func newMeta(r *http.Request, now time.Time) errorMeta {
	m := errorMeta{traceID: newGUID(), correlationID: newGUID(), at: now.UTC()}
	if id := r.Header.Get("client-request-id"); isGUID(id) {
		m.correlationID = id
	}
	return m
}

// description is the error_description: the message, then the trace lines
// separated by CRLF, as Entra writes it.
func (e *aadError) description(m errorMeta) string {
	return fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.code, e.msg, m.traceID, m.correlationID, m.at.Format(timestampLayout))
}

// errorBody is the JSON error body, with the fields in Entra's order.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror,omitempty"`
	Claims           string `json:"claims,omitempty"`
}

func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, e *aadError, retryAfter time.Duration) {
	if e.code == 0 {
		// Another server's answer (see AnswerDeadRefreshTokens): RFC 6749
		// 5.2's fields only.
		writeJSON(w, e.status, map[string]string{"error": e.err, "error_description": e.msg})
		return
	}
	m := newMeta(r, s.now())
	body := errorBody{
		Error:            e.err,
		ErrorDescription: e.description(m),
		ErrorCodes:       []int{e.code},
		Timestamp:        m.at.Format(timestampLayout),
		TraceID:          m.traceID,
		CorrelationID:    m.correlationID,
		ErrorURI:         s.errorURI(e.code),
		Suberror:         e.suberror,
		Claims:           e.claims,
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	w.Header().Set("x-ms-request-id", m.traceID)
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) errorURI(code int) string { return s.URL + "/error?code=" + strconv.Itoa(code) }

// Constructors for errors used in several places.

func errMissing(param string) *aadError {
	return &aadError{status: 400, err: "invalid_request", code: 900144,
		msg: fmt.Sprintf("The request body must contain the following parameter: '%s'.", param)}
}

func errTenantNotFound(seg string) *aadError {
	return &aadError{status: 400, err: "invalid_request", code: 90002,
		msg: fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", seg)}
}

func errAppNotFound(clientID, directory string) *aadError {
	return &aadError{status: 400, err: "unauthorized_client", code: 700016,
		msg: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, directory)}
}

func errNotMultiTenant(app *App) *aadError {
	return &aadError{status: 400, err: "invalid_request", code: 50194,
		msg: fmt.Sprintf("Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", app.ClientID, app.Name)}
}

func errNoConsumers(app *App) *aadError {
	return &aadError{status: 400, err: "invalid_request", code: 9002332,
		msg: fmt.Sprintf("Application '%s'(%s) is configured for use by Microsoft Entra users only. It is not supported on the /consumers endpoint; use the /common or a tenant-specific endpoint.", app.ClientID, app.Name)}
}

func errConsentRequired(app *App) *aadError {
	return &aadError{status: 400, err: "invalid_grant", code: 65001, suberror: "consent_required",
		msg: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", app.ClientID, app.Name)}
}

func errUserNotInTenant(u *User, directory string, app *App) *aadError {
	idp := "https://sts.windows.net/" + u.TenantID + "/"
	if u.TenantID == ConsumersTenantID {
		idp = "live.com"
	}
	return &aadError{status: 400, err: "access_denied", code: 50020,
		msg: fmt.Sprintf("User account '%s' from identity provider '%s' does not exist in tenant '%s' and cannot access the application '%s'(%s) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different account.", u.Username, idp, directory, app.ClientID, app.Name)}
}

// errorPageTexts gives /error?code=n something to say for codes the double uses.
var errorPageTexts = map[int]string{
	50011:   "The redirect URI in the request does not match a redirect URI registered for the application.",
	50020:   "The user account does not exist in the tenant and cannot access the application.",
	50076:   "Multi-factor authentication is required to access the resource. Sign in interactively.",
	50173:   "The grant was revoked (for example after a password change). Sign in again.",
	50194:   "The application is single-tenant; use a tenant-specific endpoint.",
	53003:   "Access has been blocked by Conditional Access policies.",
	70043:   "The session reached the sign-in frequency set by Conditional Access. Sign in again.",
	54005:   "The authorization code was already redeemed.",
	65001:   "The user has not consented to the scopes. Sign in interactively.",
	65004:   "The user declined to consent to the app.",
	70008:   "The authorization code or refresh token has expired.",
	70011:   "The scope requested by the app is not valid.",
	700016:  "The application was not found in the directory.",
	700025:  "The client is public; do not send a client secret.",
	700082:  "The refresh token has expired due to inactivity. Sign in again.",
	7000215: "The client secret is wrong; send the secret value, not its ID.",
	7000218: "A client secret or assertion is required.",
	7000222: "The client secret has expired.",
	9002327: "SPA tokens can only be redeemed cross-origin.",
	90002:   "The tenant was not found.",
	900144:  "A required parameter is missing.",
	501481:  "The code verifier does not match the code challenge.",
}
