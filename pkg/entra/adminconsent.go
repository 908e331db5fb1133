package entra

import (
	"errors"
	"net/url"
	"strings"
)

// AdminConsentURL is the link a person hands to an administrator when Entra
// answers "Need admin approval" (AADSTS90094, or 65001 where users may not
// consent): opened by an admin of the tenant, it grants scopes to clientID
// for everyone in it, then returns to redirectURI (which must be one
// registered for the app) with admin_consent=True. It is Microsoft identity
// platform's v2 admin consent endpoint,
// https://{host}/{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…
// (learn.microsoft.com/entra/identity-platform/v2-admin-consent).
//
// "common" becomes "organizations", as Microsoft asks (a personal account
// cannot consent for a tenant); for "consumers" there is no admin to ask.
func AdminConsentURL(a Authority, clientID, redirectURI string, scopes []string) (string, error) {
	tenant := a.Tenant
	switch strings.ToLower(tenant) {
	case "", "common":
		tenant = "organizations"
	case "consumers":
		return "", errors.New("personal Microsoft accounts have no administrator: admin consent needs a work or school tenant")
	}
	if clientID == "" || redirectURI == "" || len(scopes) == 0 {
		return "", errors.New("admin consent needs the app's client ID, a registered redirect URI and the scopes")
	}
	host := a.Host
	if host == "" {
		host = DefaultAuthorityHost
	}
	q := url.Values{
		"client_id":    {clientID},
		"scope":        {strings.Join(scopes, " ")},
		"redirect_uri": {redirectURI},
	}
	// ':' and '/' may stand unescaped in a query (RFC 3986 3.4): kept so,
	// the redirect URI and the scopes stay readable, and no long run of
	// escapes looks like a token to the redaction of error messages.
	query := strings.NewReplacer("%3A", ":", "%2F", "/").Replace(q.Encode())
	return strings.TrimRight(host, "/") + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + query, nil
}
