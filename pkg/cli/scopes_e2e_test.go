package cli_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReauthScopesAddAndRemove: --scopes adds to what the profile asks
// for, --remove-scopes takes away without a sign-in, and status shows what
// is asked for beside what was granted.
func TestReauthScopesAddAndRemove(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar,mail"); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}

	// Adding needs consent: a person signs in (here through the link
	// the notification carries).
	out := filepath.Join(t.TempDir(), "link")
	r := h.run("", "reauth", "--non-interactive", "--scopes", "mail-send", "--notify-cmd", `printf '%s' "$MS365AUTH_SIGNIN_URL" > `+out)
	if r.code != 3 || !strings.Contains(r.stderr, "Mail.Send") {
		t.Fatalf("reauth --scopes mail-send: exit %d:\n%s", r.code, r.stderr)
	}
	link, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.run("", "link", "--returned-url", h.signIn(string(link))); r.code != 0 {
		t.Fatalf("finishing the sign-in: %s", r.stderr)
	}
	reqs := h.srv.AuthorizeRequests()
	if scope := reqs[len(reqs)-1].Get("scope"); !strings.Contains(scope, "Calendars.Read") || !strings.Contains(scope, "Mail.Read") || !strings.Contains(scope, "Mail.Send") {
		t.Errorf("the sign-in asked for %q, want the earlier scopes and Mail.Send", scope)
	}
	st, _ := h.status()
	requested := toStrings(st["requested_scopes"])
	for _, want := range []string{"Calendars.Read", "Mail.Read", "Mail.Send"} {
		if !slices.Contains(requested, want) {
			t.Errorf("after adding Mail.Send the profile asks for %q, lacking %s", requested, want)
		}
	}

	// Removing needs no person: a refresh with fewer scopes does.
	before := len(h.srv.AuthorizeRequests())
	r = h.run("", "reauth", "--non-interactive", "--remove-scopes", "mail")
	if r.code != 0 || !strings.Contains(r.stderr, "consent") {
		t.Fatalf("reauth --remove-scopes mail: exit %d:\n%s", r.code, r.stderr)
	}
	if len(h.srv.AuthorizeRequests()) != before {
		t.Errorf("removing a scope started a sign-in")
	}
	st, _ = h.status()
	requested = toStrings(st["requested_scopes"])
	if slices.Contains(requested, "Mail.Read") || !slices.Contains(requested, "Mail.Send") || !slices.Contains(requested, "Calendars.Read") {
		t.Errorf("after removing mail the profile asks for %q", requested)
	}
	text := h.run("", "status")
	if !strings.Contains(text.stdout, "requested:") || !strings.Contains(text.stdout, "granted:") {
		t.Errorf("status text does not show requested and granted scopes:\n%s", text.stdout)
	}

	// A scope the profile does not ask for cannot be removed.
	if r := h.run("", "reauth", "--non-interactive", "--remove-scopes", "imap"); r.code != 1 || !strings.Contains(r.stderr, "does not ask for") {
		t.Errorf("removing an absent scope: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestStatusListsOtherTokens: the tokens token --scopes keeps for other
// resources show in status, with their resource and expiry.
func TestStatusListsOtherTokens(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "mail,smtp"); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["other_tokens"] != nil {
		t.Errorf("other tokens before any was fetched: %v", st["other_tokens"])
	}
	if r := h.run("", "token", "--scopes", "smtp"); r.code != 0 {
		t.Fatalf("token --scopes smtp: exit %d:\n%s", r.code, r.stderr)
	}
	st, r := h.status()
	others, _ := st["other_tokens"].([]any)
	if r.code != 0 || len(others) != 1 {
		t.Fatalf("status exit %d, other_tokens %v", r.code, st["other_tokens"])
	}
	other := others[0].(map[string]any)
	if other["resource"] != "https://outlook.office.com" || other["valid"] != true || !slices.Contains(toStrings(other["scopes"]), "https://outlook.office.com/SMTP.Send") {
		t.Errorf("other token: %v", other)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(other["expires_at"])); err != nil {
		t.Errorf("expires_at: %v", err)
	}
	text := h.run("", "status")
	if !strings.Contains(text.stdout, "other token:") || !strings.Contains(text.stdout, "https://outlook.office.com (SMTP.Send), expires in") {
		t.Errorf("status text:\n%s", text.stdout)
	}
	rec := loadRecord(t, "default")
	assertNoTokens(t, rec, r.all(), text.all())
	for _, other := range rec.Resources {
		if strings.Contains(r.all()+text.all(), other.AccessToken[:40]) {
			t.Errorf("status shows the other resource's token")
		}
	}
}

// TestHintsFitTheProfile: a bad code on a first link is fixed by linking
// again, not by reauth, which has nothing to renew.
func TestHintsFitTheProfile(t *testing.T) {
	h := newHarness(t)
	badCode := func(link string) string {
		returned := h.signIn(link)
		u, _ := url.Parse(returned)
		q := u.Query()
		q.Set("code", "0.AXYZ-not-a-code-the-double-issued")
		u.RawQuery = q.Encode()
		return u.String()
	}
	r := h.link(badCode, "--client-id", testClientID, "--profile", "work")
	if r.code == 0 || !strings.Contains(r.stderr, "AADSTS70000") {
		t.Fatalf("first link with a bad code: exit %d:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "reauth") || !strings.Contains(r.stderr, "ms365auth link --profile work --client-id "+testClientID) {
		t.Errorf("the fix does not fit a profile that was never linked:\n%s", r.stderr)
	}

	// Once linked, the same failure is fixed by reauth, with the profile.
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	r = h.link(badCode, "--profile", "work")
	if !strings.Contains(r.stderr, "ms365auth reauth --profile work") {
		t.Errorf("the fix for a linked profile:\n%s", r.stderr)
	}
}
