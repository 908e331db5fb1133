// Package graph sends Microsoft Graph requests for a signed-in profile:
// it picks the Graph host of the profile's cloud, refuses hosts a token
// must not go to, builds bodies and queries from key=value fields, retries
// throttled requests as Retry-After says, pages through @odata.nextLink and
// recognises claims challenges. Callers bring the HTTP client, the token
// source and the writers; it knows nothing of commands or terminals.
package graph

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// Cloud is the hosts of one Microsoft cloud a token may be sent to.
type Cloud struct {
	Graph   string   // the Graph root URL, e.g. https://graph.microsoft.com
	Allowed []string // hosts a token may go to: Graph's and Outlook's
}

// clouds maps Entra authority hosts to their cloud's Graph and Outlook
// hosts (learn.microsoft.com/graph/deployments). Both US Government
// Graph hosts share one authority; L5 (DoD) tenants use dod-graph, which
// MS365AUTH_GRAPH_URL selects.
var clouds = map[string]Cloud{
	"login.microsoftonline.com": {Graph: "https://graph.microsoft.com",
		Allowed: []string{"graph.microsoft.com", "outlook.office.com", "outlook.office365.com"}},
	"login.microsoftonline.us": {Graph: "https://graph.microsoft.us",
		Allowed: []string{"graph.microsoft.us", "dod-graph.microsoft.us", "outlook.office365.us"}},
	"login.chinacloudapi.cn": {Graph: "https://microsoftgraph.chinacloudapi.cn",
		Allowed: []string{"microsoftgraph.chinacloudapi.cn", "partner.outlook.cn"}},
}

func init() {
	// Other names of the same authorities.
	clouds["login.microsoft.com"] = clouds["login.microsoftonline.com"]
	clouds["login.windows.net"] = clouds["login.microsoftonline.com"]
	clouds["login.partner.microsoftonline.cn"] = clouds["login.chinacloudapi.cn"]
}

// CloudFor returns the cloud of an authority host (scheme://host[:port]).
// graphURL, when set, replaces the Graph root and is then the one Graph
// host allowed: for tests, proxies and clouds not listed here.
func CloudFor(authorityHost, graphURL string) (Cloud, error) {
	if graphURL != "" {
		u, err := url.Parse(strings.TrimRight(graphURL, "/"))
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
			return Cloud{}, fmt.Errorf("invalid Graph URL %q: give a URL such as https://graph.microsoft.com", servertext.Clean(graphURL))
		}
		// graph.microsoft.com%2F@evil.example is user info and the host
		// evil.example: refused, as in request URLs.
		if u.User != nil {
			return Cloud{}, fmt.Errorf("invalid Graph URL %s: user info in a URL is not allowed; give a URL such as https://graph.microsoft.com", u.Redacted())
		}
		// The bearer token would cross the network in clear text.
		if u.Scheme == "http" && !entra.IsLoopbackHost(u.Hostname()) {
			return Cloud{}, fmt.Errorf("invalid Graph URL %s: http sends the token in clear text, so it is allowed only for a loopback address (127.0.0.1, [::1], localhost); use https://%s", u.Redacted(), u.Host)
		}
		return Cloud{Graph: u.Scheme + "://" + u.Host + u.Path, Allowed: []string{strings.ToLower(u.Host)}}, nil
	}
	host := authorityHost
	if u, err := url.Parse(authorityHost); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	c, ok := clouds[strings.ToLower(host)]
	if !ok {
		return Cloud{}, fmt.Errorf("no Graph host is known for the authority %s: set MS365AUTH_GRAPH_URL (or --graph-url) to its Graph root URL", authorityHost)
	}
	return c, nil
}

// Resolve turns a path (relative to Graph's version root) or an absolute
// URL into the URL to request. An absolute URL must be on an allowed host,
// so that the token is never sent anywhere else.
func (c Cloud) Resolve(pathOrURL, version string) (*url.URL, error) {
	if hasScheme(pathOrURL) {
		u, err := url.Parse(pathOrURL)
		if err != nil {
			return nil, fmt.Errorf("invalid URL %q: %w", pathOrURL, err)
		}
		if err := c.check(u); err != nil {
			return nil, err
		}
		u.RawQuery = escapeQuery(u.RawQuery)
		return u, nil
	}
	u, err := url.Parse(c.Graph + "/" + version + "/" + strings.TrimLeft(pathOrURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("invalid path %q: %w", pathOrURL, err)
	}
	u.RawQuery = escapeQuery(u.RawQuery)
	return u, nil
}

// hasScheme says whether s starts with a URL scheme and "://": only then
// is it a URL. A path may carry "://" further on, in a query such as
// $filter=webLink eq 'https://outlook.office365.com/x'.
func hasScheme(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return false
	}
	for i, c := range scheme {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// escapeQuery percent-encodes what may not stand in a query as it is
// (RFC 3986 section 3.4), such as the spaces of $filter=isRead eq false,
// which would otherwise make the request line invalid. What is already
// escaped, and OData's $ ' ( ) , = &, stay as they are.
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '%' && i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2]),
			'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// check refuses a URL a token must not be sent to.
func (c Cloud) check(u *url.URL) error {
	if u.User != nil {
		return fmt.Errorf("refusing %s: user info in a URL is not allowed", u.Redacted())
	}
	graph, _ := url.Parse(c.Graph)
	host := strings.ToLower(u.Host)
	for _, h := range c.Allowed {
		if host == h && (u.Scheme == "https" || u.Scheme == graph.Scheme) {
			return nil
		}
	}
	return fmt.Errorf("refusing to send the token to %s://%s: only %s are allowed for this profile (set MS365AUTH_GRAPH_URL to use another Graph host)",
		u.Scheme, u.Host, strings.Join(c.Allowed, ", "))
}
