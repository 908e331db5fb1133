package entra

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Claims are the ID token claims ms365auth reads: who signed in, for status,
// and iss, aud, azp and exp, which CheckIDToken compares with the sign-in,
// and sub, tid and oid, which SameAccount compares with the linked account.
type Claims struct {
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	UPN               string   `json:"upn"`
	Name              string   `json:"name"`
	Sub               string   `json:"sub"`
	OID               string   `json:"oid"`
	TID               string   `json:"tid"`
	Iss               string   `json:"iss"`
	Aud               audience `json:"aud"`
	Azp               string   `json:"azp"` // the authorized party: the client the token was issued to
	Exp               float64  `json:"exp"` // seconds since the epoch
}

// Account names the signed-in account for people: the first claim of
// preferred_username, email, upn, name and sub that is set. Only
// preferred_username is Entra's; other OpenID Connect servers may send
// only some of the rest.
func (c Claims) Account() string {
	for _, v := range []string{c.PreferredUsername, c.Email, c.UPN, c.Name, c.Sub} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// audience is the aud claim: one string, or an array of them (OIDC Core 2).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// ParseIDToken decodes an ID token's payload without verifying it. Public
// clients need not verify ID tokens (they came straight from the token
// endpoint over TLS), and Entra issues both signed and alg=none tokens, so
// the header and signature are not looked at. The payload may be base64url
// with or without padding. Errors never quote the token.
func ParseIDToken(raw string) (Claims, error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 || parts[1] == "" {
		return Claims{}, errors.New("malformed ID token: want three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("malformed ID token: the payload is not base64url")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, errors.New("malformed ID token: the payload is not a JSON object of claims")
	}
	// The names are shown and stored, and iss and aud may be quoted in an
	// error: nothing in them may act on a terminal.
	for _, v := range []*string{&c.PreferredUsername, &c.Email, &c.UPN, &c.Name, &c.Sub, &c.OID, &c.TID, &c.Iss, &c.Azp} {
		*v = servertext.Clean(*v)
	}
	for i := range c.Aud {
		c.Aud[i] = servertext.Clean(c.Aud[i])
	}
	return c, nil
}

// IDTokenSkew is how far this computer's clock may be behind the server's
// when an ID token's exp is checked.
const IDTokenSkew = 5 * time.Minute

// ConsumersTenantID is the tenant of personal Microsoft accounts, named in
// their tokens' issuer whether they signed in at /consumers or /common.
const ConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// issuerHosts maps an alias authority host to the host Entra names in the
// issuer of its cloud's v2.0 tokens.
var issuerHosts = map[string]string{
	"https://login.windows.net":            DefaultAuthorityHost,
	"https://login.microsoft.com":          DefaultAuthorityHost,
	"https://sts.windows.net":              DefaultAuthorityHost,
	"https://login.usgovcloudapi.net":      "https://login.microsoftonline.us",
	"https://login-us.microsoftonline.com": "https://login.microsoftonline.us",
	"https://login.chinacloudapi.cn":       "https://login.partner.microsoftonline.cn",
}

// CheckIDToken makes the checks of OpenID Connect Core 3.1.3.7 that apply
// when the token came over TLS straight from the token endpoint: aud must
// name clientID; a token with several audiences must name clientID as its
// azp, and an azp, when present, must be clientID (steps 3 to 5); iss must
// be this authority's issuer; and exp must not have passed (allowing
// IDTokenSkew).
//
// The issuer is {host}/{tenant}/v2.0. For a tenant ID that is the tenant;
// for consumers, ConsumersTenantID; for common, organizations and domain
// names, the tid claim (Entra's {tenantid} issuer template), or the tenant
// segment itself when the token has no tid. The host is the authority's,
// or the issuer host of its cloud when it is an alias (login.windows.net
// issues as login.microsoftonline.com); a loopback authority, a local
// stand-in for Entra such as the sandbox, may issue as the global host.
func (a Authority) CheckIDToken(c Claims, clientID string, now time.Time) error {
	if !containsFold(c.Aud, clientID) {
		return fmt.Errorf("the ID token is meant for another app (aud %q), not client ID %s: check --client-id and that --authority-host is your sign-in server", strings.Join(c.Aud, " "), clientID)
	}
	// Several audiences: the token may have been issued to another of
	// them, and only azp says it was issued to this app.
	if len(c.Aud) > 1 && c.Azp == "" {
		return fmt.Errorf("the ID token names several audiences (%q) but no authorized party (azp), so it may have been issued to another app than client ID %s: check --client-id and that --authority-host is your sign-in server", strings.Join(c.Aud, " "), clientID)
	}
	if c.Azp != "" && !strings.EqualFold(c.Azp, clientID) {
		return fmt.Errorf("the ID token was issued to another app (azp %q), not client ID %s: check --client-id and that --authority-host is your sign-in server", c.Azp, clientID)
	}
	tenant := a.Tenant
	switch {
	case IsGUID(tenant):
	case tenant == "consumers":
		tenant = ConsumersTenantID
	case c.TID != "":
		tenant = c.TID
	}
	hosts := []string{a.Host}
	if h, ok := issuerHosts[a.Host]; ok {
		hosts = append(hosts, h)
	}
	if u, err := url.Parse(a.Host); err == nil && IsLoopbackHost(u.Hostname()) {
		hosts = append(hosts, DefaultAuthorityHost)
	}
	want := make([]string, len(hosts))
	for i, h := range hosts {
		want[i] = h + "/" + tenant + "/v2.0"
	}
	if !containsFold(want, c.Iss) {
		return fmt.Errorf("the ID token was issued by %q, but the authority %s issues as %s: check --authority-host and --tenant", c.Iss, a, want[0])
	}
	if c.Exp == 0 {
		return errors.New("the ID token has no expiry (exp): the sign-in server does not follow OpenID Connect")
	}
	if exp := time.Unix(int64(c.Exp), 0); now.After(exp.Add(IDTokenSkew)) {
		return fmt.Errorf("the ID token expired at %s, but this computer's clock says %s: correct the clock, then sign in again", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if s != "" && strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
