package entrasim

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Well-known values of the double.
const (
	// NativeClientRedirectURI is Microsoft's landing page for desktop apps.
	// The double cannot serve that host; Authorize returns such a target
	// without requesting it. {URL}/common/oauth2/nativeclient is the same page
	// served by the double.
	NativeClientRedirectURI = "https://login.microsoftonline.com/common/oauth2/nativeclient"

	// DefaultTenantID is the tenant of the default user and the default home
	// tenant of registered apps. Its verified domain is DefaultTenantDomain.
	DefaultTenantID     = "6f1c3b9e-2d4a-4c8e-9b7f-0a5d3e2c1b48"
	DefaultTenantDomain = "contoso.example"

	// ConsumersTenantID is the tenant of personal Microsoft accounts (MSA);
	// as a tenant segment it means the same as "consumers".
	ConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

	// The default user, who signs in unless SignInAs names another.
	DefaultUsername = "adele@contoso.example"
	DefaultName     = "Adele Vance"
	DefaultPassword = "sandbox-only-password"
	DefaultUserOID  = "2b7c9d41-5e6f-4a80-b1c2-d3e4f5a6b7c8"

	// DefaultClientID is an app every new Server has: a multi-tenant public
	// client that allows personal accounts and public client flows, with
	// Mobile & desktop redirects NativeClientRedirectURI,
	// {URL}/common/oauth2/nativeclient and http://localhost (any port).
	// AddApp with the same ClientID replaces it.
	DefaultClientID = "0d3f5a7c-9b1e-4d2f-8a6c-4e5b7d9f1a3c"
)

// graphResource is the resource a scope without a prefix belongs to.
const graphResource = "https://graph.microsoft.com"

// Platform is the platform a redirect URI is registered under. It decides
// how the token endpoint authenticates the client, not anything the client
// sends: Web is confidential (a secret is required), SPA must redeem
// cross-origin (an Origin header) with PKCE, and MobileDesktop is public
// (a secret is refused).
type Platform int

const (
	Web Platform = iota + 1
	SPA
	MobileDesktop
)

func (p Platform) String() string {
	switch p {
	case Web:
		return "Web"
	case SPA:
		return "SPA"
	case MobileDesktop:
		return "MobileDesktop"
	}
	return fmt.Sprintf("Platform(%d)", int(p))
}

// Redirect is one registered redirect URI.
type Redirect struct {
	URI      string
	Platform Platform
}

// Secret is a client secret. ID is what the portal lists as "Secret ID";
// clients must send Value (sending ID is the classic mistake, AADSTS7000215).
type Secret struct {
	ID, Value string
	Expired   bool
}

// App is an app registration.
type App struct {
	ClientID string // a GUID
	Name     string // display name used in messages; default "entrasim app"
	// HomeTenant is the tenant ID (GUID) the app is registered in; default
	// DefaultTenantID.
	HomeTenant string
	// MultiTenant false means single-tenant: /common and /organizations
	// answer AADSTS50194, and other tenants do not know the app (700016).
	MultiTenant bool
	// PersonalAccounts allows personal Microsoft accounts (/consumers and MSA
	// users on /common). It needs MultiTenant: personal-only apps are not
	// modelled.
	PersonalAccounts bool
	Redirects        []Redirect
	Secrets          []Secret
	// AllowPublicClientFlows lets device code and password grants run without
	// a secret ("Allow public client flows" in the portal).
	AllowPublicClientFlows bool
}

// User is a person who can sign in. A user whose TenantID is
// ConsumersTenantID is a personal Microsoft account.
type User struct {
	Username string // sign-in name, e.g. adele@contoso.example
	Name     string // display name
	Password string // only the password grant checks it
	OID      string // object ID; generated when empty
	TenantID string // home tenant; default DefaultTenantID
	// MFA means the user completes multi-factor authentication at every
	// interactive sign-in, so their tokens satisfy RequireMFA; the password
	// grant, which cannot do MFA, fails with AADSTS50076 for them.
	MFA bool
}

// Stats counts requests; see Server.Stats.
type Stats struct {
	AuthorizeRequests  int // requests to /authorize, valid or not
	TokenRequests      int // POSTs to /token, including failed ones
	TokenErrors        int // error answers from /token, injected ones included
	CodeRedemptions    int // successful authorization_code grants
	Refreshes          int // successful refresh_token grants
	DeviceCodeRequests int // requests to /devicecode, valid or not
	DevicePolls        int // device_code grant requests
	DeviceRedemptions  int // successful device_code grants
	PasswordGrants     int // successful password grants
}

// TokenInfo describes an access token the double issued, for fake resource
// servers (for example a Graph stand-in) that need to accept or refuse it.
type TokenInfo struct {
	ClientID  string
	Username  string
	OID       string
	TenantID  string
	Resource  string   // e.g. https://graph.microsoft.com
	Scopes    []string // as in the token response's scope field, OIDC scopes excluded
	IssuedAt  time.Time
	ExpiresAt time.Time // by the server clock
}

// PageError is an error Entra shows to the person on its own page instead
// of redirecting back to the app, because the redirect cannot be trusted
// (unknown tenant or app, unregistered redirect URI, ...). Authorize,
// FollowSignIn, ApproveDevice and DeclineDevice return it.
type PageError struct {
	Code    int    // the AADSTS number
	Message string // the text after "AADSTSnnnn: "
}

func (e *PageError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.Code, e.Message) }

// validate checks a registration the way the portal and manifest do, and
// fills in defaults. Entra refuses such registrations, so the double does
// too, loudly: a broken App is a bug in the test that builds it.
func (a App) validate() (App, error) {
	if !isGUID(a.ClientID) {
		return a, fmt.Errorf("ClientID %q is not a GUID", a.ClientID)
	}
	a.ClientID = strings.ToLower(a.ClientID)
	if a.Name == "" {
		a.Name = "entrasim app"
	}
	if a.HomeTenant == "" {
		a.HomeTenant = DefaultTenantID
	}
	if !isGUID(a.HomeTenant) || strings.EqualFold(a.HomeTenant, ConsumersTenantID) {
		return a, fmt.Errorf("HomeTenant %q is not a tenant GUID", a.HomeTenant)
	}
	a.HomeTenant = strings.ToLower(a.HomeTenant)
	if a.PersonalAccounts && !a.MultiTenant {
		return a, fmt.Errorf("PersonalAccounts needs MultiTenant: personal-only apps are not modelled")
	}
	limit := 256
	if a.PersonalAccounts {
		limit = 100
	}
	if len(a.Redirects) > limit {
		return a, fmt.Errorf("%d redirect URIs; at most %d are allowed", len(a.Redirects), limit)
	}
	for _, r := range a.Redirects {
		if err := validateRedirect(r, a.PersonalAccounts); err != nil {
			return a, err
		}
	}
	a.Redirects = append([]Redirect(nil), a.Redirects...)
	a.Secrets = append([]Secret(nil), a.Secrets...)
	return a, nil
}

// validateRedirect applies Entra's registration rules for redirect URIs.
func validateRedirect(r Redirect, personal bool) error {
	if r.Platform < Web || r.Platform > MobileDesktop {
		return fmt.Errorf("redirect URI %q: no platform", r.URI)
	}
	if len(r.URI) > 256 {
		return fmt.Errorf("redirect URI %q: longer than 256 characters", r.URI)
	}
	if strings.ContainsAny(r.URI, "!$'(),;*#") {
		return fmt.Errorf("redirect URI %q: wildcards, fragments and the characters ! $ ' ( ) , ; are not supported", r.URI)
	}
	u, err := url.Parse(r.URI)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("redirect URI %q: not an absolute URI", r.URI)
	}
	if u.RawQuery != "" && personal {
		return fmt.Errorf("redirect URI %q: query strings are not allowed for apps that accept personal accounts", r.URI)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if u.Hostname() == "[::1]" || u.Hostname() == "::1" {
			return fmt.Errorf("redirect URI %q: [::1] is not supported; use 127.0.0.1 or localhost", r.URI)
		}
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("redirect URI %q: http is allowed only for localhost and 127.0.0.1", r.URI)
		}
		return nil
	default:
		if r.Platform != MobileDesktop {
			return fmt.Errorf("redirect URI %q: custom schemes are allowed only for Mobile and desktop", r.URI)
		}
		return nil
	}
}

func isLoopbackHost(h string) bool {
	h = strings.ToLower(h)
	return h == "localhost" || h == "127.0.0.1"
}

// matchRedirect reports whether the redirect_uri a client sent matches a
// registered one. Decision rules: scheme and host compare case-insensitively;
// for http://localhost and http://127.0.0.1 the port is ignored, elsewhere it
// must be equal; the path compares exactly and case-sensitively, except that
// an empty path equals "/"; the query must be equal; a fragment or user info
// never matches.
func matchRedirect(registered, sent string) bool {
	if strings.Contains(sent, "#") {
		return false
	}
	reg, err1 := url.Parse(registered)
	got, err2 := url.Parse(sent)
	if err1 != nil || err2 != nil || got.User != nil || got.Opaque != "" {
		return false
	}
	if !strings.EqualFold(reg.Scheme, got.Scheme) || !strings.EqualFold(reg.Hostname(), got.Hostname()) {
		return false
	}
	loopback := strings.EqualFold(got.Scheme, "http") && isLoopbackHost(got.Hostname())
	if !loopback && reg.Port() != got.Port() {
		return false
	}
	return slashPath(reg.EscapedPath()) == slashPath(got.EscapedPath()) && reg.RawQuery == got.RawQuery
}

func slashPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
