package cli_test

// Real-browser end-to-end tests: the ms365auth binary on a pseudo-terminal
// opens the sign-in link through BROWSER, a headless Chromium signs in on
// the Entra double's pages (SetInteractive) and consents, and the test
// plays the person between them: it copies the address bar and pastes it.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// MFARedirectURI is the redirect URI some accounts with MFA need.
const mfaRedirectURI = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"

// browserHarness is a harness whose double shows sign-in pages and whose
// BROWSER hands the link to the test.
func browserHarness(t *testing.T, redirects ...entrasim.Redirect) (*harness, *browser, <-chan string) {
	t.Helper()
	b := newBrowser(t)
	h := newHarness(t, redirects...)
	h.srv.SetInteractive(true)
	return h, b, h.browserHook(t)
}

// startSignIn waits until the CLI has opened the link through BROWSER and
// checks that it is the link it printed alone on its line.
func startSignIn(t *testing.T, term *terminal, urls <-chan string) string {
	t.Helper()
	link := opened(t, urls)
	term.waitFor("Opened it in your browser.")
	if printed := term.linkLine(); printed != link {
		t.Fatalf("BROWSER got another URL than the printed link:\nprinted %s\nopened  %s", printed, link)
	}
	return link
}

// pasteAddressBar copies the address bar and pastes it into the CLI.
func pasteAddressBar(t *testing.T, b *browser, term *terminal, wantPrefix string) string {
	t.Helper()
	returned := b.addressBar()
	if !strings.HasPrefix(returned, wantPrefix+"?") {
		t.Fatalf("the browser ended on %s, want %s?...", returned, wantPrefix)
	}
	term.waitFor("paste it here and press Enter:")
	term.typeLine(returned)
	return returned
}

func assertNothingStored(t *testing.T) {
	t.Helper()
	if _, err := store.NewKeyring().Load("default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("something was stored (or the keyring failed): %v", err)
	}
}

func TestBrowserPrimaryMethod(t *testing.T) {
	h, b, urls := browserHarness(t)
	term := h.onTerminal(t, "link", "--client-id", testClientID, "--scopes", "calendar")
	link := startSignIn(t, term, urls)

	b.open(link, "sign-in form")
	b.signIn(entrasim.DefaultUsername, entrasim.DefaultPassword, "consent")
	if diff := cmp.Diff([]string{"Calendars.Read", "offline_access", "openid", "profile"}, b.permissions()); diff != "" {
		t.Errorf("consent page permissions (-want +got):\n%s", diff)
	}
	b.click("accept", "returned page")
	pasteAddressBar(t, b, term, entrasim.NativeClientRedirectURI)

	if code := term.wait(); code != 0 {
		t.Fatalf("link exit %d:\n%s", code, term.transcript())
	}
	if !strings.Contains(term.transcript(), "Linked "+entrasim.DefaultUsername) {
		t.Errorf("no confirmation:\n%s", term.transcript())
	}
	rec := loadRecord(t, "default")
	if rec.AccessToken == "" || rec.RefreshToken == "" || rec.Account != entrasim.DefaultUsername {
		t.Fatalf("stored record: account=%q access=%t refresh=%t", rec.Account, rec.AccessToken != "", rec.RefreshToken != "")
	}
	if info, ok := h.srv.LookupAccessToken(rec.AccessToken); !ok || !slices.Contains(info.Scopes, "Calendars.Read") {
		t.Errorf("the stored access token is not one the double issued for Calendars.Read: %+v", info)
	}
	st, sr := h.status()
	if sr.code != 0 || st["state"] != "valid" || st["method"] != "paste" || st["account"] != entrasim.DefaultUsername {
		t.Errorf("status (exit %d): %v", sr.code, st)
	}
	assertNoTokens(t, rec, term.transcript(), sr.all())
}

func TestBrowserAlternateMethod(t *testing.T) {
	h, b, urls := browserHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	term := h.onTerminal(t, "link", "--alt", "--client-id", testClientID)
	link := startSignIn(t, term, urls)

	b.open(link, "sign-in form")
	b.signIn(entrasim.DefaultUsername, entrasim.DefaultPassword, "consent")
	b.click("accept", "listener page")
	if addr := b.addressBar(); !strings.HasPrefix(addr, "http://localhost:") || !strings.Contains(addr, "/api/ms365auth?") {
		t.Errorf("the browser ended on %s, want the listener", addr)
	}
	page := b.text()
	if !strings.Contains(page, "This window can be closed") {
		t.Errorf("listener page:\n%s", page)
	}

	if code := term.wait(); code != 0 { // by itself: nothing is typed
		t.Fatalf("link --alt exit %d:\n%s", code, term.transcript())
	}
	rec := loadRecord(t, "default")
	if rec.RefreshToken == "" {
		t.Errorf("no refresh token stored")
	}
	st, _ := h.status()
	if st["method"] != "alt" || st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
	assertNoTokens(t, rec, term.transcript(), page)
}

func TestBrowserMFA(t *testing.T) {
	h, b, urls := browserHarness(t, entrasim.Redirect{URI: mfaRedirectURI, Platform: entrasim.MobileDesktop})
	const megan, password = "megan@contoso.example", "megan-sandbox-pw"
	h.srv.AddUser(entrasim.User{Username: megan, Name: "Megan Bowen", Password: password, MFA: true})
	term := h.onTerminal(t, "link", "--client-id", testClientID, "--tenant", "organizations", "--redirect-uri", mfaRedirectURI)
	link := startSignIn(t, term, urls)

	b.open(link, "sign-in form")
	b.signIn(megan, password, "MFA code")
	b.fill("otp", "000000")
	b.click("verify", "MFA wrong code")
	if text := b.text(); !strings.Contains(text, "AADSTS500121") {
		t.Errorf("a wrong code was not refused:\n%s", text)
	}
	b.fill("otp", entrasim.MFACode)
	b.click("verify", "consent")
	b.click("accept", "returned page")
	pasteAddressBar(t, b, term, mfaRedirectURI)

	if code := term.wait(); code != 0 {
		t.Fatalf("link exit %d:\n%s", code, term.transcript())
	}
	rec := loadRecord(t, "default")
	if rec.Account != megan {
		t.Errorf("linked %q, want %s", rec.Account, megan)
	}
	if amr := accessTokenAMR(t, rec.AccessToken); !slices.Contains(amr, "mfa") {
		t.Errorf("access token amr = %v, want mfa", amr)
	}
	st, _ := h.status()
	if !strings.HasSuffix(st["authority"].(string), "/organizations") || st["state"] != "valid" {
		t.Errorf("status: %v", st)
	}
}

// accessTokenAMR reads the authentication methods of a double's access token.
func accessTokenAMR(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.AMR
}

func TestBrowserCancelledConsent(t *testing.T) {
	h, b, urls := browserHarness(t)
	term := h.onTerminal(t, "link", "--client-id", testClientID)
	link := startSignIn(t, term, urls)

	b.open(link, "sign-in form")
	b.signIn(entrasim.DefaultUsername, entrasim.DefaultPassword, "consent")
	b.click("cancel", "returned page")
	returned := pasteAddressBar(t, b, term, entrasim.NativeClientRedirectURI)
	if !strings.Contains(returned, "error=access_denied") {
		t.Errorf("returned URL carries no access_denied: %s", returned)
	}

	if code := term.wait(); code != 1 {
		t.Errorf("link exit %d, want 1:\n%s", code, term.transcript())
	}
	if !strings.Contains(term.transcript(), "AADSTS65004") {
		t.Errorf("the message does not name AADSTS65004:\n%s", term.transcript())
	}
	assertNothingStored(t)
}

func TestBrowserUnregisteredRedirectURI(t *testing.T) {
	h, b, urls := browserHarness(t)
	const unregistered = "http://localhost/not/registered"
	// What the browser shows when the check before the sign-in is skipped.
	term := h.onTerminal(t, "link", "--no-check", "--client-id", testClientID, "--redirect-uri", unregistered)
	link := startSignIn(t, term, urls)

	b.open(link, "error page")
	text := b.text()
	for _, want := range []string{"AADSTS50011", unregistered, testClientID} {
		if !strings.Contains(text, want) {
			t.Errorf("the error page lacks %q:\n%s", want, text)
		}
	}

	// Nothing can come back: the person gives up with an empty line.
	term.waitFor("paste it here and press Enter:")
	term.typeLine("")
	if code := term.wait(); code == 0 {
		t.Errorf("link exit 0 after an empty line:\n%s", term.transcript())
	}
	assertNothingStored(t)
}

func TestBrowserReauthAsksOnlyForNewPermissions(t *testing.T) {
	h, b, urls := browserHarness(t)
	// The first link consents to User.Read (the double's HTTP browser fills
	// the same pages in).
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "User.Read"); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	before := loadRecord(t, "default")

	term := h.onTerminal(t, "reauth", "--scopes", "User.Read,calendar-write")
	link := startSignIn(t, term, urls)
	b.open(link, "sign-in form")
	b.signIn(entrasim.DefaultUsername, entrasim.DefaultPassword, "consent")
	if diff := cmp.Diff([]string{"Calendars.ReadWrite"}, b.permissions()); diff != "" {
		t.Errorf("consent page permissions (-want +got):\n%s", diff)
	}
	b.click("accept", "returned page")
	pasteAddressBar(t, b, term, entrasim.NativeClientRedirectURI)

	if code := term.wait(); code != 0 {
		t.Fatalf("reauth exit %d:\n%s", code, term.transcript())
	}
	rec := loadRecord(t, "default")
	if rec.AccessToken == before.AccessToken || !slices.Contains(rec.Scopes, "Calendars.ReadWrite") {
		t.Errorf("after reauth: scopes %v, new token %t", rec.Scopes, rec.AccessToken != before.AccessToken)
	}
	st, _ := h.status()
	if scopes, _ := st["scopes"].([]any); !slices.Contains(scopes, any("Calendars.ReadWrite")) {
		t.Errorf("status scopes: %v", st["scopes"])
	}
}
