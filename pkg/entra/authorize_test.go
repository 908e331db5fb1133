package entra

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadAuthorizeAnswer(t *testing.T) {
	const native = "https://login.microsoftonline.com/common/oauth2/nativeclient"
	// Entra answers a request it cannot trust with HTTP 200 and its own
	// page; the AADSTS code sits in the page's script configuration.
	entraErrorPage := `<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>
<script>$Config={"iErrorCode":700016,"strServiceExceptionMessage":"AADSTS700016: Application with identifier '11111111-2222-4333-8444-555555555555' was not found in the directory 'Contoso'.","sErrorCode":"700016"};</script>
</body></html>`
	cases := []struct {
		name     string
		status   int
		location string
		body     string
		redirect string
		accepted bool
		code     int // AADSTS of the error, 0 for none
		errValue string
	}{
		{"code sent back", 302, native + "?code=0.AXYZ&state=s", "", native, true, 0, ""},
		{"loopback port differs", 302, "http://localhost:49152/api/ms365auth?code=x&state=s", "", "http://localhost/api/ms365auth", true, 0, ""},
		{"error sent back", 302, native + "?error=invalid_scope&error_description=AADSTS70011%3A+bad+scope&state=s", "", native, false, 70011, "invalid_scope"},
		{"error in the fragment", 302, "https://app.example/cb#error=access_denied&error_description=AADSTS65004%3A+declined", "", "https://app.example/cb", false, 65004, "access_denied"},
		{"on to a federated sign-in", 302, "https://adfs.contoso.example/adfs/ls?wa=x", "", native, true, 0, ""},
		{"Entra's 200 error page", 200, "", entraErrorPage, native, false, 700016, ""},
		{"the double's 400 error page", 400, "", `<p id="message">AADSTS50011: The redirect URI 'x' specified in the request does not match</p>`, native, false, 50011, ""},
		{"personal-account redirect page", 400, "", `invalid_request: The provided value for the input parameter 'redirect_uri' is not valid.`, native, false, 50011, ""},
		{"sign-in page", 200, "", `<html><body><form id="login">Sign in</form></body></html>`, native, true, 0, ""},
		{"server error", 503, "", "Service Unavailable", native, false, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ReadAuthorizeAnswer(c.status, c.location, []byte(c.body), c.redirect)
			if a.Accepted != c.accepted {
				t.Errorf("accepted = %v, want %v (%+v)", a.Accepted, c.accepted, a)
			}
			code, errValue := 0, ""
			if a.Err != nil {
				code, errValue = a.Err.Code, a.Err.Err
			}
			if code != c.code || errValue != c.errValue {
				t.Errorf("error = AADSTS%d %q, want AADSTS%d %q", code, errValue, c.code, c.errValue)
			}
		})
	}
}

func TestRedirectURIProblem(t *testing.T) {
	ok := []string{
		"https://login.microsoftonline.com/common/oauth2/nativeclient",
		"http://localhost/api/ms365auth",
		"http://127.0.0.1:8765/cb",
		"https://home.example.com/api/ms365",
	}
	bad := []string{
		"", "nativeclient", "ftp://example.com/x", "http://example.com/cb", "http://[::1]:8080/cb",
		"https://example.com/cb#frag", "https://example.com/a,b", "https://example.com/" + string(make([]byte, 300)),
		"urn:ietf:wg:oauth:2.0:oob",
	}
	for _, u := range ok {
		if p := RedirectURIProblem(u); p != "" {
			t.Errorf("RedirectURIProblem(%q) = %q, want none", u, p)
		}
	}
	for _, u := range bad {
		if RedirectURIProblem(u) == "" {
			t.Errorf("RedirectURIProblem(%q) found nothing", u)
		}
	}
}

func TestAtRedirectURI(t *testing.T) {
	cases := map[string]bool{
		"https://login.microsoftonline.com/common/oauth2/nativeclient?code=x":  true,
		"https://login.microsoftonline.com/common/oauth2/nativeclient/?code=x": true,
		"https://login.microsoftonline.com/common/oauth2/other?code=x":         false,
		"https://login.microsoftonline.com:8443/common/oauth2/nativeclient":    false,
		"http://login.microsoftonline.com/common/oauth2/nativeclient":          false,
	}
	got := map[string]bool{}
	for raw := range cases {
		req, _ := http.NewRequest(http.MethodGet, raw, nil)
		got[raw] = AtRedirectURI(req.URL, "https://login.microsoftonline.com/common/oauth2/nativeclient")
	}
	if diff := cmp.Diff(cases, got); diff != "" {
		t.Errorf("AtRedirectURI mismatch (-want +got):\n%s", diff)
	}
}
