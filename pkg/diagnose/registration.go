package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ms365auth/ms365auth/pkg/callback"
	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/flow"
	"github.com/ms365auth/ms365auth/pkg/profile"
)

// RegistrationGroup checks the redirect URI the method will use, for --alt
// that its listener can bind, and what the authorize endpoint reveals about
// the app registration before anyone signs in.
func RegistrationGroup() Group {
	return Group{Name: "app registration", Checks: []Check{
		{ID: "redirect-uri", Title: "redirect URI", Run: checkRedirectURI},
		{ID: "listener", Title: "callback listener", Run: checkListener},
		{ID: appID, Title: appTitle, Run: checkApp},
	}}
}

const appID, appTitle = "app", "app registration"

// redirected is the profile when its method sends a redirect URI and the
// authority can be asked.
func (x *Examination) redirected() *profile.Profile {
	if _, ok := x.authorityAskable(); !ok {
		return nil
	}
	if p := x.profile(); p.Method != profile.MethodDevice {
		return p
	}
	return nil
}

func checkRedirectURI(_ context.Context, x *Examination) Result {
	p := x.redirected()
	if p == nil {
		return Result{}
	}
	x.redirectURI = p.RedirectURI
	if problem := entra.RedirectURIProblem(p.RedirectURI); problem != "" {
		return Result{Status: Fail, Summary: problem,
			Fix: "pass --redirect-uri with the exact URI registered under 'Mobile and desktop applications' (default " + x.env.DefaultRedirectURI(p.Method) + ")"}
	}
	return Result{Status: OK, Summary: p.RedirectURI}
}

// checkListener binds the callback listener of --alt exactly as link would
// (then closes it). A loopback redirect URI without a port gets the port
// the listener got, which is what link would send.
func checkListener(_ context.Context, x *Examination) Result {
	p := x.redirected()
	if p == nil || p.Method != profile.MethodAlt || x.Status("redirect-uri") != OK {
		return Result{}
	}
	l, err := callback.Listen(callback.Config{RedirectURI: p.RedirectURI, Listen: p.Listen, TLSCert: p.TLSCert, TLSKey: p.TLSKey, State: "doctor"})
	if err != nil {
		r := failure(err)
		r.Summary, r.Fix = "cannot listen", oneLine(err.Error())
		return r
	}
	defer l.Close()
	var addrs []string
	for _, a := range l.Addrs() {
		addrs = append(addrs, a.String())
	}
	x.redirectURI = l.RedirectURI()
	return Result{Status: OK, Summary: "can listen on " + strings.Join(addrs, " and ")}
}

func checkApp(ctx context.Context, x *Examination) Result {
	if r, ok := x.authorityAskable(); !ok {
		if p := x.profile(); p != nil && p.Sandbox {
			return skip("the sandbox registers its own app")
		}
		return r
	}
	p := x.profile()
	switch {
	case x.Status("authority") != OK:
		return skip("needs the authority host")
	case x.profileSettings().noClientID || !entra.IsGUID(p.ClientID):
		return skip("needs a valid client ID")
	}
	return checkRegistration(ctx, x, p, x.redirectURI)
}

// CheckRegistration asks the authorize endpoint (for device code sign-in,
// the device code endpoint) with the very request link would make for p
// and redirectURI, and reads what Entra reveals before anyone signs in
// (see entra.ReadAuthorizeAnswer). Nobody signs in and nothing is redeemed:
// redirects stop at the redirect URI, and a device code is left to expire.
// Of env, only HTTPClient and Hints are used.
func CheckRegistration(ctx context.Context, env *Env, p *profile.Profile, redirectURI string) Result {
	x := &Examination{env: env}
	x.record(Check{ID: appID, Title: appTitle}, checkRegistration(ctx, x, p, redirectURI))
	return x.results[0]
}

func checkRegistration(ctx context.Context, x *Examination, p *profile.Profile, redirectURI string) Result {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	auth, _ := entra.ParseAuthority(p.AuthorityHost, p.Tenant) // validated by Merge
	// The authorize request never carries a secret.
	client := flow.Client{Authority: auth, ClientID: p.ClientID, Scopes: p.Scopes}
	if p.Method == profile.MethodDevice {
		client.HTTPClient = x.httpClient(auth, "")
		if _, err := client.StartDevice(ctx, flow.Options{}); err != nil {
			return registrationFailure(x, err, p)
		}
		return Result{Status: OK,
			Summary: "the device code endpoint accepts client " + p.ClientID + " (whether 'Allow public client flows' is on shows only at sign-in)"}
	}
	client.HTTPClient = x.env.HTTPClient
	a, err := client.NewAuthorization(redirectURI, flow.Options{})
	if err != nil {
		return failure(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return failure(err)
	}
	resp, err := x.httpClient(auth, redirectURI).Do(req)
	if err != nil {
		r := failure(err)
		r.Summary = "the authorize endpoint did not answer: " + oneLine(err.Error())
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	answer := entra.ReadAuthorizeAnswer(resp.StatusCode, resp.Header.Get("Location"), body, redirectURI)
	switch {
	case answer.Err != nil:
		return registrationFailure(x, answer.Err, p)
	case answer.Accepted:
		return Result{Status: OK, Summary: fmt.Sprintf("client %s accepts redirect URI %s (%s)", p.ClientID, p.RedirectURI, answer.How)}
	}
	return Result{Status: Fail,
		Summary: fmt.Sprintf("the authorize endpoint answered HTTP %d, neither a sign-in page nor an error page", resp.StatusCode),
		Fix:     "check the authority host; run `ms365auth link` to see what the browser shows"}
}

// registrationFailure explains an Entra error about the app registration.
func registrationFailure(x *Examination, err error, p *profile.Profile) Result {
	r := failure(err)
	var e *entra.Error
	if !errors.As(err, &e) {
		return r
	}
	r.AADSTS = e.Code
	switch e.Code {
	case 50011:
		r.Summary = fmt.Sprintf("redirect URI %s is not registered for client %s (AADSTS50011)", p.RedirectURI, p.ClientID)
	case 700016:
		r.Summary = fmt.Sprintf("no app with client ID %s exists in tenant %s (AADSTS700016)", p.ClientID, p.Tenant)
	case 90002:
		r.Summary = fmt.Sprintf("tenant %s was not found (AADSTS90002)", p.Tenant)
	case 50194:
		r.Summary = fmt.Sprintf("the app is single-tenant, so it cannot sign in through %s (AADSTS50194)", p.Tenant)
	}
	if r.Fix = entra.Hint(e.Code, x.env.Hints(p)); r.Fix == "" && e.Code != 0 {
		r.Fix = fmt.Sprintf("look AADSTS%d up at https://login.microsoftonline.com/error?code=%d", e.Code, e.Code)
	}
	return r
}
