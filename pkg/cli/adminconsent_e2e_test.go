package cli_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// adminConsentLink finds the admin consent link in out and checks that it
// names this app and the tenant's organisations, with a scope.
func adminConsentLink(t *testing.T, out string) {
	t.Helper()
	found := regexp.MustCompile(`https?://\S+/adminconsent\?\S+`).FindString(out)
	if found == "" {
		t.Fatalf("no admin consent link in:\n%s", out)
	}
	u, err := url.Parse(strings.TrimRight(found, ".`'\""))
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); u.Path != "/organizations/v2.0/adminconsent" || q.Get("client_id") != testClientID || q.Get("scope") == "" || q.Get("redirect_uri") != entrasim.NativeClientRedirectURI {
		t.Errorf("admin consent link %s", u)
	}
}

var needAdminApproval = entrasim.TokenError{Error: "invalid_grant", Code: 90094,
	Message: "Admin consent is required for the permissions requested by this application."}

var noConsent = entrasim.TokenError{Error: "invalid_grant", Code: 65001, Suberror: "consent_required",
	Message: "The user or administrator has not consented to use the application."}

// TestAdminConsentLinkInLink: link whose code Entra will not redeem
// without an admin's approval hands on the admin consent link.
func TestAdminConsentLinkInLink(t *testing.T) {
	h := newHarness(t)
	h.srv.RefuseTokenRequests(1, needAdminApproval)
	r := h.link(h.signIn, "--client-id", testClientID)
	if r.code == 0 {
		t.Fatalf("link succeeded:\n%s", r.stderr)
	}
	adminConsentLink(t, r.stderr)
}

// TestAdminConsentLinkInReauth: a refresh refused for want of consent.
func TestAdminConsentLinkInReauth(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	h.srv.RefuseTokenRequests(1, noConsent)
	r := h.run("", "reauth", "--non-interactive")
	if r.code != 3 {
		t.Errorf("reauth exit %d, want 3:\n%s", r.code, r.stderr)
	}
	adminConsentLink(t, r.stderr)
}

// TestAdminConsentLinkInDoctorMail: the Outlook token refused for want of
// an admin's approval; no mail server is asked.
func TestAdminConsentLinkInDoctorMail(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "imap,smtp"); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	h.srv.RefuseTokenRequests(1, needAdminApproval)
	rep, got, r := h.doctor("--mail")
	if r.code != 1 || rep.OK || got["mail.token"].Status != "fail" || got["mail.imap"].Status != "skip" {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	adminConsentLink(t, got["mail.token"].Fix)
}
