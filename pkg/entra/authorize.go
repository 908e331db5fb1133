package entra

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// RedirectURIProblem applies Entra's rules for redirect URIs: absolute,
// https (or http on a loopback host), no fragment, at most 256 characters,
// none of ! $ ' ( ) , ; and not [::1]. See Microsoft's "Redirect URI
// (reply URL) restrictions and limitations". It returns "" when none is
// broken, otherwise what is wrong, for people.
func RedirectURIProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case strings.HasPrefix(strings.ToLower(raw), "urn:ietf:wg:oauth:2.0:oob"):
		return raw + " is the old out-of-band URI, which Entra refuses (AADSTS500119): use " + NativeClientRedirectURI
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Sprintf("%q is not an absolute URL", raw)
	case len(raw) > 256:
		return "it is longer than the 256 characters Entra allows"
	case strings.Contains(raw, "#"):
		return raw + " has a fragment (#), which Entra does not allow"
	case strings.ContainsAny(raw, "!$'(),;"):
		return raw + " contains one of ! $ ' ( ) , ; which Entra does not support"
	case u.Scheme == "https":
		return ""
	case u.Scheme != "http":
		return raw + " must use https (http only for localhost or 127.0.0.1)"
	case u.Hostname() == "::1":
		return raw + " uses [::1], which Entra does not support: use localhost or 127.0.0.1"
	case !IsLoopbackHost(u.Hostname()):
		return raw + " uses http on a host other than localhost: use https"
	}
	return ""
}

// AtRedirectURI reports whether u is at redirectURI: same scheme, host and
// path, ignoring the port of loopback hosts as Entra does (a native app's
// loopback redirect may use any port).
func AtRedirectURI(u *url.URL, redirectURI string) bool {
	r, err := url.Parse(redirectURI)
	if err != nil || redirectURI == "" {
		return false
	}
	if !strings.EqualFold(u.Scheme, r.Scheme) || !strings.EqualFold(u.Hostname(), r.Hostname()) {
		return false
	}
	if !IsLoopbackHost(r.Hostname()) && u.Port() != r.Port() {
		return false
	}
	return strings.TrimSuffix(u.EscapedPath(), "/") == strings.TrimSuffix(r.EscapedPath(), "/")
}

// AuthorizeAnswer is what the authorize endpoint's first answer, to a
// request made without a browser session, reveals about an app
// registration before anyone signs in.
type AuthorizeAnswer struct {
	Accepted bool   // a sign-in page, or a redirect onwards
	How      string // how it was accepted, for people
	Err      *Error // an error page, or an error sent to the redirect URI
}

// Personal-account (MSA) pages report an unregistered redirect URI without
// an AADSTS number.
var msaRedirectPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`redirect_uri'? is not valid`) })

// ReadAuthorizeAnswer classifies the authorize endpoint's answer (status,
// Location header, body) to a request for redirectURI. Decision rules, in
// order:
//
//  1. a redirect to the redirect URI: with error=, that error (the
//     registration was accepted but the request was not, e.g. a scope);
//     otherwise accepted (a test double signed in by itself);
//  2. a redirect elsewhere (another sign-in host, a federated identity
//     provider): accepted;
//  3. a page with "AADSTS<n>" in it: that error. Entra shows problems with
//     the tenant, the client ID and the redirect URI on its own page (HTTP
//     200 from Entra, 400 from the double), because it cannot trust the
//     redirect URI;
//  4. a personal-account page saying the redirect_uri is not valid: 50011;
//  5. any other 200 page: the sign-in page, accepted;
//  6. anything else: neither (Accepted false, Err nil).
func ReadAuthorizeAnswer(status int, location string, body []byte, redirectURI string) AuthorizeAnswer {
	if status >= 300 && status < 400 && location != "" {
		u, err := url.Parse(location)
		if err == nil && AtRedirectURI(u, redirectURI) {
			q := u.Query()
			if u.Fragment != "" {
				if fq, err := url.ParseQuery(u.Fragment); err == nil && fq.Get("error") != "" {
					q = fq
				}
			}
			if e := FromQuery(q); e != nil {
				return AuthorizeAnswer{Err: e}
			}
			return AuthorizeAnswer{Accepted: true, How: "the authorize endpoint sent the browser back to it"}
		}
		where := "another page"
		if err == nil && u.Host != "" {
			where = u.Host
		}
		return AuthorizeAnswer{Accepted: true, How: "the authorize endpoint sent the browser on to " + where + " to sign in"}
	}
	if n := CodeIn(string(body)); n != 0 {
		e := &Error{Code: n, HTTPStatus: status}
		if info, ok := LookupCode(n); ok {
			e.Description = info.Meaning
		}
		return AuthorizeAnswer{Err: e}
	}
	if msaRedirectPattern().Match(body) {
		return AuthorizeAnswer{Err: &Error{Code: 50011, HTTPStatus: status, Description: "The redirect URI is not valid for the app."}}
	}
	if status == http.StatusOK {
		return AuthorizeAnswer{Accepted: true, How: "the sign-in page is shown"}
	}
	return AuthorizeAnswer{}
}
