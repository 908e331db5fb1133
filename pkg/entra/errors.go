package entra

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/retry"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Error is an Entra error from a token response or an error redirect.
type Error struct {
	Err         string // the OAuth "error" value, e.g. invalid_grant
	Code        int    // AADSTS number, 0 if none
	Description string // first line of error_description, no trace lines
	Suberror    string
	Claims      string
	HTTPStatus  int           // 0 for redirects
	RetryAfter  time.Duration // from a Retry-After header, 0 if none
	// TraceID and CorrelationID (GUIDs) and Timestamp identify the answer
	// in the tenant's sign-in logs, for an admin; "" when not sent.
	TraceID, CorrelationID, Timestamp string
}

// Error is "AADSTS50011: <description>" or "<error>: <description>". When
// there is no description the error value stands in for it.
func (e *Error) Error() string {
	var head string
	switch {
	case e.Code != 0:
		head = "AADSTS" + strconv.Itoa(e.Code)
	case e.Err != "":
		head = e.Err
	}
	desc := e.Description
	if desc == "" && e.Code != 0 {
		desc = e.Err
	}
	switch {
	case head != "" && desc != "":
		return head + ": " + desc
	case head != "":
		return head
	case desc != "":
		return desc
	case e.HTTPStatus != 0:
		return "unexpected HTTP status " + strconv.Itoa(e.HTTPStatus) + " from Entra"
	}
	return "unknown Entra error"
}

var (
	aadstsRE       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`AADSTS(\d+)`) })
	aadstsPrefixRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^AADSTS\d+:\s*`) })
)

// firstLine keeps what a person needs from an error_description: Entra
// appends "\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ..." lines,
// and Error() puts the AADSTS number back in front itself. The rest is made
// safe to show (servertext.Safe): a server that echoes the request must not
// bring its refresh token into the message.
func firstLine(desc string) string {
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i]
	}
	desc = strings.TrimSpace(servertext.Safe(desc))
	return strings.TrimSpace(aadstsPrefixRE().ReplaceAllString(desc, ""))
}

// CodeIn returns the first AADSTS number in s (an error page, a
// description), or 0.
func CodeIn(s string) int {
	m := aadstsRE().FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// tokenErrorBody is the JSON error body of Entra's token endpoint. Fields are
// decoded one by one so that one oddly typed field does not lose the rest.
type tokenErrorBody map[string]json.RawMessage

func (b tokenErrorBody) str(key string) string {
	var s string
	if raw, ok := b[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// firstCode reads error_codes[0], which may be a number or, in v1-style
// bodies, a string holding one.
func (b tokenErrorBody) firstCode() int {
	var codes []json.Number
	if raw, ok := b["error_codes"]; ok && json.Unmarshal(raw, &codes) == nil && len(codes) > 0 {
		if n, err := strconv.Atoi(codes[0].String()); err == nil {
			return n
		}
	}
	return 0
}

// FromRetrieveError turns an x/oauth2 token-endpoint error into an *Error.
//
// It prefers the JSON body (error, error_description, error_codes, suberror,
// claims) and falls back to the fields x/oauth2 parsed. The AADSTS number is
// error_codes[0], else the first AADSTSnnnn in the description, else the
// code parameter of error_uri. HTTPStatus
// comes from the response, and RetryAfter from a Retry-After header (Entra
// sends whole seconds; dates are understood too). A nil argument gives nil.
func FromRetrieveError(re *oauth2.RetrieveError) *Error {
	if re == nil {
		return nil
	}
	var body tokenErrorBody
	_ = json.Unmarshal(re.Body, &body) // a non-JSON body leaves it empty
	e := &Error{
		Err:      body.str("error"),
		Suberror: body.str("suberror"),
		Claims:   serverClaims(body.str("claims")),
		Code:     body.firstCode(),
	}
	if e.Err == "" {
		e.Err = re.ErrorCode
	}
	e.Err, e.Suberror = servertext.Safe(e.Err), servertext.Safe(e.Suberror)
	desc := body.str("error_description")
	if desc == "" {
		desc = re.ErrorDescription
	}
	if e.Code == 0 {
		e.Code = CodeIn(desc)
	}
	if uri := body.str("error_uri"); e.Code == 0 {
		if uri == "" {
			uri = re.ErrorURI
		}
		e.Code = codeOfErrorURI(uri)
	}
	e.Description = firstLine(desc)
	if id := body.str("trace_id"); IsGUID(id) {
		e.TraceID = id
	}
	if id := body.str("correlation_id"); IsGUID(id) {
		e.CorrelationID = id
	}
	e.Timestamp = strings.TrimSpace(servertext.Clean(body.str("timestamp")))
	if r := re.Response; r != nil {
		e.HTTPStatus = r.StatusCode
		if wait, ok := retry.After(r.Header, time.Now()); ok {
			e.RetryAfter = wait
		}
	}
	return e
}

// FromQuery reads error, error_description, error_uri from a redirect or
// callback; nil when there is no error parameter. The AADSTS number comes
// from the description, else from error_uri's code parameter.
func FromQuery(q url.Values) *Error {
	errVal := strings.TrimSpace(servertext.Safe(q.Get("error")))
	if errVal == "" {
		return nil
	}
	desc := q.Get("error_description")
	e := &Error{
		Err:         errVal,
		Code:        CodeIn(desc),
		Description: firstLine(desc),
		Suberror:    q.Get("error_subcode"),
		Claims:      serverClaims(q.Get("claims")),
	}
	if e.Suberror == "" {
		e.Suberror = q.Get("suberror")
	}
	e.Suberror = servertext.Safe(e.Suberror)
	if e.Description == "" && e.Err == "access_denied" && e.Suberror == "cancel" {
		// What Entra sends when the person cancels, with nothing to read.
		e.Description = "the sign-in was cancelled on Microsoft's page"
	}
	if e.Code == 0 {
		e.Code = codeOfErrorURI(q.Get("error_uri"))
	}
	return e
}

// codeOfErrorURI reads the AADSTS number from an error_uri such as
// https://login.microsoftonline.com/error?code=50076, or 0.
func codeOfErrorURI(raw string) int {
	if u, err := url.Parse(raw); err == nil {
		if n, err := strconv.Atoi(u.Query().Get("code")); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// interactionErrs and interactionCodes are the errors only a person signing
// in can clear: MFA, consent, expired or revoked grants, a used code, a
// Conditional Access block (53003: told on the sign-in page; retrying
// silently will not help).
var (
	interactionErrs  = []string{"invalid_grant", "interaction_required", "login_required", "consent_required"}
	interactionCodes = []int{50076, 50079, 50058, 50158, 50173, 53003, 65001, 70043, 700082, 70008, 70000, 54005, 700084}
)

// Suberrors Entra adds to invalid_grant and interaction_required (MSAL's
// InvalidGrantClassification).
const (
	SubProtectionPolicy = "protection_policy_required" // Intune app protection: no sign-in helps
	subAdditionalAction = "additional_action"          // something to do outside the sign-in first
	subMessageOnly      = "message_only"               // the sign-in page can only explain a block
	subPasswordExpired  = "user_password_expired"
	subBadToken         = "bad_token"     // the refresh token is no good for anything
	subTokenExpired     = "token_expired" // likewise
)

// NeedsInteraction reports whether only an interactive sign-in can fix it:
// the error is invalid_grant, interaction_required, login_required or
// consent_required, or the AADSTS code is one of the MFA, consent, expiry,
// revocation and Conditional Access codes. protection_policy_required is
// the exception, as in MSAL: the app would have to be managed by Intune,
// which no sign-in changes.
func (e *Error) NeedsInteraction() bool {
	if e.Suberror == SubProtectionPolicy {
		return false
	}
	return slices.Contains(interactionErrs, e.Err) || slices.Contains(interactionCodes, e.Code)
}

// deadGrantCodes say a refresh token is revoked, expired, invalid or
// malformed (9002313, on a refresh request whose other fields are ours), so
// it serves no resource any more.
var deadGrantCodes = []int{50173, 700082, 70008, 70000, 700084, 9002313}

// GrantDead reports whether the refresh token itself is finished (revoked,
// expired, invalid, or bad_token / token_expired, after which MSAL drops
// it), as opposed to a refusal for one resource's scopes or policy.
func (e *Error) GrantDead() bool {
	return e.RefreshTokenDead() || slices.Contains(deadGrantCodes, e.Code) ||
		e.Suberror == subBadToken || e.Suberror == subTokenExpired
}

// Transient reports whether retrying later may succeed (5xx, 429,
// server_error, temporarily_unavailable). invalid_grant is never transient,
// whatever the status: retrying the same grant cannot help.
func (e *Error) Transient() bool {
	if e.Err == "invalid_grant" {
		return false
	}
	return e.HTTPStatus == 429 || e.HTTPStatus >= 500 ||
		e.Err == "server_error" || e.Err == "temporarily_unavailable"
}

// deadRefreshTokenRE matches a description saying the refresh token itself
// is invalid, expired, revoked or already used.
var deadRefreshTokenRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)refresh[ _-]?token\b.*\b(invalid|expired|revoked|(used|claimed|redeemed)\b)`)
})

// RefreshTokenDead reports whether a refresh_token grant was refused
// because the refresh token is invalid, expired or already used, as some
// servers other than Entra say: with invalid_request (against RFC 6749
// 5.2, which asks for invalid_grant) or invalid_grant, and a description.
// Entra's answers carry an AADSTS code, which decides instead
// (NeedsInteraction), so an answer with a code is never read this way.
func (e *Error) RefreshTokenDead() bool {
	if e.Code != 0 || (e.Err != "invalid_request" && e.Err != "invalid_grant") {
		return false
	}
	return deadRefreshTokenRE().MatchString(e.Description)
}
