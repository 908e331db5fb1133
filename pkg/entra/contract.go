// Package entra holds what is specific to Microsoft Entra ID (v2.0 endpoints):
// authorities and endpoints, scope names and feature bundles, parsing of the
// URL a person pastes back, AADSTS error codes with their fixes, and ID token
// claims. It performs no I/O of its own and knows nothing of terminals,
// commands or storage.
//
// CONTRACT FILE: signatures agreed between packages. The implementer replaces
// the panics with real code and may split this file up, but must keep every
// exported name and signature below.
package entra

import (
	"net/url"

	"golang.org/x/oauth2"
)

// Well-known values.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	// NativeClientRedirectURI is the seed's primary-method redirect URI.
	NativeClientRedirectURI = "https://login.microsoftonline.com/common/oauth2/nativeclient"
	// MFARedirectURI is the extra redirect URI some MFA accounts need.
	MFARedirectURI = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
	DefaultTenant  = "common"
)

// Authority is an authority host plus a tenant segment.
type Authority struct {
	Host   string // scheme://host[:port], no trailing slash
	Tenant string // common, organizations, consumers, a GUID or a domain
}

// ParseAuthority validates host (https, or http only for loopback hosts) and
// tenant, and normalises them.
func ParseAuthority(host, tenant string) (Authority, error) { panic("unimplemented") }

// Endpoint returns {host}/{tenant}/oauth2/v2.0/authorize|token|devicecode
// with AuthStyleInParams.
func (a Authority) Endpoint() oauth2.Endpoint { panic("unimplemented") }

// String is host/tenant.
func (a Authority) String() string { panic("unimplemented") }

// Features maps a feature name (calendar, calendar-write, calendar-shared,
// mail, mail-send, ...) to its scopes.
var Features map[string][]string

// ResolveScopes splits items on spaces and commas, expands feature names,
// keeps Graph short names and full URIs, always adds offline_access, openid
// and profile, removes duplicates, and rejects mixing .default with named
// scopes. The result is in a stable order.
func ResolveScopes(items []string) ([]string, error) { panic("unimplemented") }

// Problem says what is wrong with a pasted returned URL.
type Problem int

const (
	NotAURL        Problem = iota + 1 // not parseable / empty
	WrongPlace                        // .../common/wrongplace dead end
	AuthorizeURL                      // the sign-in link pasted back by mistake
	WrongRedirect                     // scheme/host/path differ from the redirect URI
	ErrorRedirect                     // error= in the URL (Err holds it)
	StateMismatch                     // state missing or different
	MissingCode                       // no code: most likely truncated
)

// ReturnedURLError is returned by ParseReturnedURL. Error() is one or two
// lines: the cause, then the fix. It never contains the code.
type ReturnedURLError struct {
	Problem     Problem
	RedirectURI string
	Err         *Error // set for ErrorRedirect
}

func (e *ReturnedURLError) Error() string { panic("unimplemented") }

// ParseReturnedURL checks a URL pasted from the browser's address bar against
// the redirect URI and the state that was sent, and returns the code.
// Surrounding spaces, quotes and angle brackets are tolerated.
func ParseReturnedURL(raw, redirectURI, wantState string) (code string, err error) {
	panic("unimplemented")
}

// Error is an Entra error from a token response or an error redirect.
type Error struct {
	Err         string // the OAuth "error" value, e.g. invalid_grant
	Code        int    // AADSTS number, 0 if none
	Description string // first line of error_description, no trace lines
	Suberror    string
	Claims      string
	HTTPStatus  int // 0 for redirects
	RetryAfter  int // seconds, from a Retry-After header, 0 if none
}

// Error is "AADSTS50011: <description>" or "<error>: <description>".
func (e *Error) Error() string { panic("unimplemented") }

// FromRetrieveError turns an x/oauth2 token-endpoint error into an *Error.
// It reads error_codes from the body, else the AADSTS number in the description.
func FromRetrieveError(re *oauth2.RetrieveError) *Error { panic("unimplemented") }

// FromQuery reads error, error_description, error_uri from a redirect or
// callback; nil when there is no error parameter.
func FromQuery(q url.Values) *Error { panic("unimplemented") }

// NeedsInteraction reports whether only an interactive sign-in can fix it.
func (e *Error) NeedsInteraction() bool { panic("unimplemented") }

// Transient reports whether retrying later may succeed (5xx, 429,
// server_error, temporarily_unavailable).
func (e *Error) Transient() bool { panic("unimplemented") }

// HintContext carries the values a hint names.
type HintContext struct {
	RedirectURI string
	Tenant      string
	ClientID    string
	Method      string // "paste", "alt", "device"
}

// CodeInfo is one row of the AADSTS table; the same table feeds the docs.
type CodeInfo struct {
	Code    int
	Error   string // usual OAuth error value, "" when unknown
	Meaning string
	Fix     string // may contain {redirect_uri}, {tenant}, {client_id}
}

// Codes is the AADSTS table, ordered by code.
var Codes []CodeInfo

// Hint returns the fix for code with the context filled in, "" if unknown.
func Hint(code int, c HintContext) string { panic("unimplemented") }

// Claims are the ID token claims status shows.
type Claims struct {
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	OID               string `json:"oid"`
	TID               string `json:"tid"`
	Email             string `json:"email"`
}

// ParseIDToken decodes an ID token's payload without verifying it.
func ParseIDToken(raw string) (Claims, error) { panic("unimplemented") }
