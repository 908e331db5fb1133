package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
)

// Limits of the network checks.
const (
	httpTimeout  = 10 * time.Second
	maxClockSkew = 5 * time.Minute
	maxPageBytes = 2 << 20 // Entra's sign-in page is a few hundred KB
)

// discoveryFacts are the authority's answer to the tenant's OpenID
// configuration request.
type discoveryFacts struct {
	auth entra.Authority
	err  error          // no answer
	resp *http.Response // its body read into body
	body []byte
}

// authorityAskable reports whether the settings let the authority be
// asked (valid, and not the sandbox, whose stand-in for Entra ID lives only
// while `link --sandbox` runs), and if not, the skip that says why.
func (x *Examination) authorityAskable() (Result, bool) {
	p := x.profile()
	switch {
	case p == nil:
		return skip("needs valid settings"), false
	case p.Sandbox:
		return skip("the sandbox's stand-in runs only during `ms365auth link --sandbox`"), false
	}
	return Result{}, true
}

// discover fetches the tenant's OpenID configuration, once.
func (x *Examination) discover(ctx context.Context) *discoveryFacts {
	if x.discovery != nil {
		return x.discovery
	}
	p := x.profile()
	auth, _ := entra.ParseAuthority(p.AuthorityHost, p.Tenant) // validated by Merge
	f := &discoveryFacts{auth: auth}
	x.discovery = f
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, auth.String()+"/v2.0/.well-known/openid-configuration", nil)
	if err != nil {
		f.err = err
		return f
	}
	client := x.httpClient(auth, "")
	client.CheckRedirect = flow.RefuseRedirects // the tenant's own answer, or none
	resp, err := client.Do(req)
	if err != nil {
		f.err = err
		return f
	}
	defer resp.Body.Close()
	f.resp = resp
	f.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	return f
}

// configured reports whether the answer is an OpenID configuration.
func (f *discoveryFacts) configured() bool {
	var doc struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	return f.err == nil && f.resp.StatusCode == http.StatusOK && json.Unmarshal(f.body, &doc) == nil &&
		doc.AuthorizationEndpoint != "" && doc.TokenEndpoint != ""
}

// refusedTenant reports an answer that is Entra refusing the tenant.
func (f *discoveryFacts) refusedTenant() bool {
	return f.err == nil && f.resp.StatusCode >= 400 && f.resp.StatusCode < 500
}

// httpClient is Env's HTTP client with the doctor's timeout. Redirects are
// followed only while they stay on the authority host and do not lead to
// the redirect URI: reaching the redirect URI (or another host, such as a
// federated sign-in) already answers the question, and the doctor must not
// deliver an authorization code anywhere.
func (x *Examination) httpClient(auth entra.Authority, redirectURI string) *http.Client {
	c := &http.Client{Timeout: httpTimeout}
	if x.env.HTTPClient != nil {
		c.Transport, c.Jar = x.env.HTTPClient.Transport, x.env.HTTPClient.Jar
	}
	host, _ := url.Parse(auth.Host)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 || !strings.EqualFold(req.URL.Host, host.Host) || entra.AtRedirectURI(req.URL, redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

// AuthorityGroup fetches the tenant's OpenID configuration: the host
// answers, the tenant exists, and the server's Date header shows how far
// the local clock is off.
func AuthorityGroup() Group {
	return Group{Name: "authority", Checks: []Check{
		{ID: "authority", Title: "authority host", Run: checkAuthority},
		{ID: "tenant", Title: "tenant", Run: checkTenant},
		{ID: "clock", Title: "clock", Run: checkClock},
	}}
}

func checkAuthority(ctx context.Context, x *Examination) Result {
	if r, ok := x.authorityAskable(); !ok {
		return r
	}
	f := x.discover(ctx)
	var redirect *flow.RedirectError
	switch {
	case errors.As(f.err, &redirect):
		return failure(redirect)
	case f.err != nil:
		r := failure(f.err)
		r.Summary = fmt.Sprintf("%s did not answer: %s", f.auth.Host, oneLine(f.err.Error()))
		r.Fix = "check the network, DNS and proxy (HTTPS_PROXY) of this machine, and the authority host (--authority-host or MS365AUTH_AUTHORITY_HOST; " + entra.DefaultAuthorityHost + " for the global cloud)"
		return r
	case f.configured(), f.refusedTenant():
		return Result{Status: OK, Summary: f.auth.Host + " answers"}
	}
	return Result{Status: Fail,
		Summary: fmt.Sprintf("%s answered HTTP %d without an OpenID configuration for %s", f.auth.Host, f.resp.StatusCode, f.auth.Tenant),
		Fix:     "check that the authority host is Entra ID's (" + entra.DefaultAuthorityHost + " for the global cloud) and that no proxy rewrites its answers"}
}

func checkTenant(ctx context.Context, x *Examination) Result {
	if _, ok := x.authorityAskable(); !ok {
		return Result{}
	}
	f := x.discover(ctx)
	switch {
	case f.configured():
		return Result{Status: OK, Summary: f.auth.Tenant + " is known to " + f.auth.Host}
	case !f.refusedTenant():
		return Result{}
	}
	e := entra.FromRetrieveError(&oauth2.RetrieveError{Response: f.resp, Body: f.body})
	r := Result{Status: Fail, AADSTS: e.Code, Cause: e,
		Summary: fmt.Sprintf("%s refused tenant %s: %s", f.auth.Host, f.auth.Tenant, e.Error())}
	if r.Fix = entra.Hint(e.Code, entra.HintContext{Tenant: f.auth.Tenant}); r.Fix == "" {
		r.Fix = "check --tenant (a tenant ID or verified domain, or common/organizations/consumers) and that the authority host matches your cloud"
	}
	return r
}

// checkClock compares the local clock with the authority's Date header
// (1-second resolution). Beyond maxClockSkew, token lifetimes computed here
// are off by as much, and a refresh may come too late.
func checkClock(ctx context.Context, x *Examination) Result {
	if _, ok := x.authorityAskable(); !ok {
		return Result{}
	}
	f := x.discover(ctx)
	if f.err != nil {
		return Result{}
	}
	server, err := http.ParseTime(f.resp.Header.Get("Date"))
	if err != nil {
		return Result{Status: Warn, Summary: "the server sent no usable Date header, so the clock was not compared"}
	}
	skew := x.now().Sub(server)
	dir := "ahead of"
	if skew < 0 {
		skew, dir = -skew, "behind"
	}
	skew = skew.Round(time.Second)
	if skew > maxClockSkew {
		return Result{Status: Warn, Summary: fmt.Sprintf("the local clock is %s %s the server's", skew, dir),
			Fix: "synchronise the clock (e.g. `timedatectl set-ntp true`); until then token expiry times are off by as much"}
	}
	return Result{Status: OK, Summary: fmt.Sprintf("within %s of the server's", max(skew, time.Second))}
}
