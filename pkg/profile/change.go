package profile

import "github.com/ms365auth/ms365auth/pkg/entra"

// DefaultAltRedirectURI is the alternate method's redirect URI; the port is
// chosen at run time (Entra ignores the port of loopback redirect URIs).
const DefaultAltRedirectURI = "http://localhost/api/ms365auth"

// Change is what a sign-in asks to change in a profile's settings. An
// empty field keeps what the profile has.
type Change struct {
	ClientID      string
	Tenant        string
	AuthorityHost string
	Scopes        []string // scopes or feature names (see entra.ResolveScopes)
	Method        string
	RedirectURI   string
	Listen        string
	TLSCert       string
	TLSKey        string
}

// Apply returns the settings p has after c; p itself is not changed. The
// rules:
//   - the authority host and tenant are checked and written in their
//     canonical form (entra.ParseAuthority);
//   - scopes asked for replace the profile's, resolved; a profile with
//     none gets User.Read;
//   - another method forgets the redirect URI, which belonged to the old
//     one; only the alternate method keeps Listen, TLSCert and TLSKey;
//   - a profile left without a redirect URI gets its method's default (the
//     native client URI, DefaultAltRedirectURI; none for device code).
//
// The store is the caller's to choose; Apply leaves it as it is.
func (p Profile) Apply(c Change) (*Profile, error) {
	if c.ClientID != "" {
		p.ClientID = c.ClientID
	}
	if c.Tenant != "" {
		p.Tenant = c.Tenant
	}
	if c.AuthorityHost != "" {
		p.AuthorityHost = c.AuthorityHost
	}
	auth, err := entra.ParseAuthority(p.AuthorityHost, p.Tenant)
	if err != nil {
		return nil, err
	}
	p.AuthorityHost, p.Tenant = auth.Host, auth.Tenant
	if len(c.Scopes) > 0 || len(p.Scopes) == 0 {
		requested := c.Scopes
		if len(requested) == 0 {
			requested = []string{"User.Read"}
		}
		if p.Scopes, err = entra.ResolveScopes(requested); err != nil {
			return nil, err
		}
	}
	if c.Method != "" && c.Method != p.Method {
		p.Method, p.RedirectURI = c.Method, ""
	}
	if c.RedirectURI != "" {
		p.RedirectURI = c.RedirectURI
	}
	if c.Listen != "" {
		p.Listen = c.Listen
	}
	if c.TLSCert != "" || c.TLSKey != "" {
		p.TLSCert, p.TLSKey = c.TLSCert, c.TLSKey
	}
	if p.Method != MethodAlt {
		p.Listen, p.TLSCert, p.TLSKey = "", "", ""
	}
	if p.RedirectURI == "" && (p.Method == MethodPaste || p.Method == MethodAlt) {
		p.RedirectURI = DefaultRedirectURI(p.Method)
	}
	return &p, nil
}

// DefaultRedirectURI is the redirect URI a sign-in method uses unless told
// otherwise: the alternate method's loopback one, else Microsoft's page for
// desktop apps (a device code sign-in uses none).
func DefaultRedirectURI(method string) string {
	if method == MethodAlt {
		return DefaultAltRedirectURI
	}
	return entra.NativeClientRedirectURI
}
