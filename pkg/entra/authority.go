// Package entra holds what is specific to Microsoft Entra ID (v2.0 endpoints):
// authorities and endpoints, scope names and feature bundles, parsing of the
// URL a person pastes back, AADSTS error codes with their fixes, and ID token
// claims. It performs no I/O of its own and knows nothing of terminals,
// commands or storage; callers bring the HTTP client and print the messages.
package entra

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// Well-known values.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	// NativeClientRedirectURI is the redirect URI of the default (paste)
	// method: Microsoft's landing page for native clients, offered under
	// "Mobile and desktop applications" when an app registers redirect URIs
	// (learn.microsoft.com/entra/identity-platform/scenario-desktop-app-registration).
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

var (
	guidRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
	dnsLabel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`) })
)

// ParseAuthority validates host and tenant and normalises them.
//
// Host rules: an empty host means DefaultAuthorityHost; a trailing slash is
// dropped; the scheme must be https, except that http is accepted for
// loopback hosts (localhost, 127.0.0.0/8, ::1) so that test doubles work; a
// path, query, fragment or user info is refused. Scheme and host are
// lower-cased.
//
// Tenant rules: an empty tenant means "common"; the accepted forms are
// common, organizations, consumers (any case, stored lower-case), a tenant
// GUID (stored lower-case) or a DNS domain name with at least one dot, such
// as contoso.onmicrosoft.com. A dot is required so that a typo like "comon"
// is caught here rather than by Entra's "tenant not found".
func ParseAuthority(host, tenant string) (Authority, error) {
	h, err := parseHost(host)
	if err != nil {
		return Authority{}, err
	}
	t, err := parseTenant(tenant)
	if err != nil {
		return Authority{}, err
	}
	return Authority{Host: h, Tenant: t}, nil
}

func parseHost(host string) (string, error) {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if host == "" {
		return DefaultAuthorityHost, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("invalid authority host %q: %s; use a URL such as %s (http only for localhost)", host, why, DefaultAuthorityHost)
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", bad("not a URL with a host name")
	}
	switch {
	case u.User != nil:
		return "", bad("user info is not allowed")
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", bad("it must not have a path, query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return "", bad("http is allowed only for loopback hosts")
	default:
		return "", bad("the scheme must be https")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func parseTenant(tenant string) (string, error) {
	t := strings.TrimSpace(tenant)
	if t == "" {
		return DefaultTenant, nil
	}
	switch lt := strings.ToLower(t); {
	case lt == "common" || lt == "organizations" || lt == "consumers":
		return lt, nil
	case guidRE().MatchString(t):
		return lt, nil
	case isDomain(t):
		return lt, nil
	}
	return "", fmt.Errorf("invalid tenant %q: pass --tenant common, organizations, consumers, a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com", tenant)
}

func isDomain(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !dnsLabel().MatchString(label) {
			return false
		}
	}
	return true
}

// isLoopback reports whether hostname (no brackets, no port) is localhost or
// a loopback IP address. Entra treats these specially for redirect URIs.
// IsLoopbackHost reports whether hostname is localhost or a loopback IP:
// the hosts where Entra allows http and ignores the port of a redirect URI.
func IsLoopbackHost(hostname string) bool {
	if strings.EqualFold(hostname, "localhost") {
		return true
	}
	ip := net.ParseIP(hostname)
	return ip != nil && ip.IsLoopback()
}

// Endpoint returns {host}/{tenant}/oauth2/v2.0/authorize|token|devicecode
// with AuthStyleInParams: public clients send client_id in the form, and
// confidential ones may send client_secret there too, which Entra accepts.
func (a Authority) Endpoint() oauth2.Endpoint {
	base := a.String() + "/oauth2/v2.0/"
	return oauth2.Endpoint{
		AuthURL:       base + "authorize",
		TokenURL:      base + "token",
		DeviceAuthURL: base + "devicecode",
		AuthStyle:     oauth2.AuthStyleInParams,
	}
}

// String is host/tenant.
func (a Authority) String() string {
	return a.Host + "/" + a.Tenant
}

// IsGUID reports whether s has the form of a GUID, as application (client)
// and tenant IDs do.
func IsGUID(s string) bool { return guidRE().MatchString(s) }

// IsMicrosoft reports whether the authority is Microsoft's Entra ID, whose
// documented rules (the 90-day refresh token inactivity) apply: one of its
// clouds' sign-in hosts, or a loopback host, where only a local stand-in
// for Entra runs (the sandbox). Other hosts are OpenID Connect servers
// whose refresh token lifetime is their own.
func (a Authority) IsMicrosoft() bool {
	u, err := url.Parse(a.Host)
	if err != nil {
		return false
	}
	if IsLoopbackHost(u.Hostname()) || slices.Contains(microsoftHosts, a.Host) {
		return true
	}
	for alias, issuer := range issuerHosts {
		if a.Host == alias || a.Host == issuer {
			return true
		}
	}
	return false
}

// microsoftHosts are Microsoft's own authority hosts: the global cloud,
// the national clouds and their aliases (Microsoft identity platform,
// "National clouds"). Every app registration there has a GUID for its
// application (client) ID.
var microsoftHosts = []string{
	DefaultAuthorityHost, "https://login.microsoftonline.us", "https://login.partner.microsoftonline.cn",
	"https://login.microsoftonline.de",
}

// IsMicrosoftHost reports whether host (canonical, as ParseAuthority
// writes it) is one of Microsoft's authority hosts, including Azure AD
// B2C's and External ID's tenant hosts. Other hosts (a stand-in, another
// OpenID Connect server) may give client IDs of any form.
func IsMicrosoftHost(host string) bool {
	if slices.Contains(microsoftHosts, host) {
		return true
	}
	if _, ok := issuerHosts[host]; ok {
		return true
	}
	u, err := url.Parse(host)
	if err != nil || u.Scheme != "https" {
		return false
	}
	name := strings.ToLower(u.Hostname())
	return strings.HasSuffix(name, ".b2clogin.com") || strings.HasSuffix(name, ".ciamlogin.com")
}

// ClientIDProblem says why clientID cannot be an app registration's at
// host ("" when it can): Microsoft's hosts know only GUIDs, so anything
// else (a secret pasted in the wrong place, a display name) would only
// end at an error page after the browser opened.
func ClientIDProblem(host, clientID string) string {
	if !IsMicrosoftHost(host) || IsGUID(clientID) {
		return ""
	}
	// Not echoed: a value in the wrong place may be a client secret.
	return fmt.Sprintf("the client ID (%d characters) is not a GUID: an application (client) ID looks like 00000000-0000-0000-0000-000000000000", len(clientID))
}
