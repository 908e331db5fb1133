package cli_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// These tests hold ms365auth to the answers Entra's token endpoint gives
// for policies the double does not model (the error response and the
// codes of learn.microsoft.com/entra/identity-platform/reference-error-codes, and MSAL's
// reading of suberrors): each is played with RefuseTokenRequests.

// TestRefusedRefreshes: which refusals need a person (exit 3, the profile
// marked) and which no sign-in fixes (exit 1, nothing marked), and the fix
// each message gives. The refresh token is never lost.
func TestRefusedRefreshes(t *testing.T) {
	for _, tt := range []struct {
		name     string
		refusal  entrasim.TokenError
		wantCode int
		wantFix  string // "" means a one-line message
	}{
		{"MFA registration", entrasim.TokenError{Error: "interaction_required", Code: 50079, Suberror: "basic_action",
			Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000003-0000-0000-c000-000000000000'."},
			3, "https://aka.ms/mysecurityinfo"},
		{"Conditional Access block", entrasim.TokenError{Error: "invalid_grant", Code: 53003, Suberror: "message_only",
			Message: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
			3, "For the admin: Trace ID "},
		{"Conditional Access block as access_denied", entrasim.TokenError{Error: "access_denied", Code: 53003,
			Message: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
			3, "Ask your admin"},
		{"single-page app refresh token", entrasim.TokenError{Error: "invalid_grant", Code: 700084,
			Message: "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended."},
			3, "Mobile and desktop applications"},
		{"sign-in frequency", entrasim.TokenError{Error: "invalid_grant", Code: 70043,
			Message: "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access."},
			3, ""},
		{"third-party MFA", entrasim.TokenError{Error: "interaction_required", Code: 50158,
			Message: "External security challenge not satisfied. User will be redirected to another page or authentication provider to satisfy additional authentication challenges."},
			3, ""},
		{"password expired", entrasim.TokenError{Error: "invalid_grant", Code: 50055, Suberror: "user_password_expired",
			Message: "The password is expired."},
			3, "change it when the sign-in page asks"},
		{"action outside the sign-in", entrasim.TokenError{Error: "interaction_required", Code: 50072, Suberror: "additional_action",
			Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication."},
			3, "outside the sign-in"},
		// A device policy: no sign-in from here meets it, whatever the
		// suberror says.
		{"device authentication", entrasim.TokenError{Error: "invalid_grant", Code: 50097, Suberror: "additional_action",
			Message: "Device authentication is required."},
			3, "Signing in again will not help"},
		{"compliant device", entrasim.TokenError{Error: "interaction_required", Code: 53000,
			Message: "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant."},
			3, "Signing in again will not help"},
		{"Intune app protection", entrasim.TokenError{Error: "unauthorized_client", Code: 53005, Suberror: "protection_policy_required",
			Message: "Application needs to enforce Intune protection policies."},
			1, "exclude " + testClientID},
		{"Intune app protection as invalid_grant", entrasim.TokenError{Error: "invalid_grant", Code: 53005, Suberror: "protection_policy_required",
			Message: "Application needs to enforce Intune protection policies."},
			1, "exclude " + testClientID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := linked(t, time.Hour)
			dueForRenewal(t, nil)
			before := loadRecord(t, "default")
			h.srv.RefuseTokenRequests(1, tt.refusal)
			r := h.run("", "token")
			if r.code != tt.wantCode || r.stdout != "" {
				t.Fatalf("token: exit %d (want %d), stdout %q:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if tt.wantFix == "" && len(lines) != 1 {
				t.Errorf("want one line, got:\n%s", r.stderr)
			}
			if tt.wantFix != "" && (len(lines) != 2 || !strings.HasPrefix(lines[1], "fix: ") || !strings.Contains(lines[1], tt.wantFix)) {
				t.Errorf("want a second line with the fix %q, got:\n%s", tt.wantFix, r.stderr)
			}
			if !strings.Contains(lines[0], "AADSTS") {
				t.Errorf("the message does not name the AADSTS code:\n%s", r.stderr)
			}
			after := loadRecord(t, "default")
			if after.RefreshToken != before.RefreshToken || after.AccessToken != before.AccessToken {
				t.Error("the refusal changed the stored tokens")
			}
			st, _ := h.status()
			if marked := st["state"] == "needs_reauth"; marked != (tt.wantCode == 3) {
				t.Errorf("status state %v after exit %d", st["state"], r.code)
			}
			if fix, _ := st["fix"].(string); tt.wantCode == 3 && (!strings.Contains(fix, tt.wantFix) || !strings.Contains(fix, "ms365auth reauth")) || tt.wantCode != 3 && fix != "" {
				t.Errorf("status fix %q, want it to hold %q", fix, tt.wantFix)
			}
			if text := h.run("", "status"); tt.wantCode == 3 && tt.wantFix != "" && !strings.Contains(lineWith(text.stdout, "fix:"), tt.wantFix) {
				t.Errorf("status shows no fix line holding %q:\n%s", tt.wantFix, text.stdout)
			}
			if tt.wantCode != 3 {
				return
			}
			// The fix is kept with the mark: the next call, which does not
			// ask Entra, says it again, and so does the notification.
			if again := h.run("", "token"); again.code != 3 || again.stderr != r.stderr {
				t.Errorf("the next token: exit %d\n%s\nwant the same message as\n%s", again.code, again.stderr, r.stderr)
			}
			notified := filepath.Join(t.TempDir(), "notified")
			h.run("", "reauth", "--non-interactive", "--notify-cmd", `printf '%s' "$MS365AUTH_MESSAGE" > `+notified)
			if msg, err := os.ReadFile(notified); err != nil || !strings.Contains(string(msg), tt.wantFix) {
				t.Errorf("the notification %q (%v) lacks the fix %q", msg, err, tt.wantFix)
			}
		})
	}
}

// TestRefusalClaimsReachTheSignIn: a refresh refused with a claims
// challenge (AADSTS50076) sends those claims on the next sign-in, as
// Microsoft asks of clients (learn.microsoft.com/entra/identity-platform/claims-challenge): the commands
// printed carry them, and so does the sign-in link reauth hands to
// --notify-cmd.
func TestRefusalClaimsReachTheSignIn(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	h.srv.RequireMFA(true)
	r := h.run("", "token")
	if r.code != 3 || !strings.Contains(r.stderr, "AADSTS50076") || !strings.Contains(r.stderr, "--claims ") {
		t.Fatalf("token: exit %d, want 3 and a reauth with --claims:\n%s", r.code, r.stderr)
	}
	hexClaims := strings.Fields(r.stderr[strings.Index(r.stderr, "--claims ")+len("--claims "):])[0]
	claims, err := entra.DecodeClaims(hexClaims)
	if err != nil || !strings.Contains(claims, "capolids") {
		t.Fatalf("the printed claims %q are not the challenge: %v", hexClaims, err)
	}
	notified := filepath.Join(t.TempDir(), "notified")
	rr := h.run("", "reauth", "--non-interactive", "--notify-cmd", `printf '%s' "$MS365AUTH_SIGNIN_URL" > `+notified)
	if rr.code != 3 || !strings.Contains(rr.stderr, "--claims "+hexClaims) {
		t.Errorf("reauth: exit %d, want 3 with the same --claims:\n%s", rr.code, rr.stderr)
	}
	link, err := os.ReadFile(notified)
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.srv.AuthorizeRequests()
	if got := h.signIn(string(link)); got == "" || len(h.srv.AuthorizeRequests()) != len(reqs)+1 {
		t.Fatal("the notified link did not reach the double")
	}
	reqs = h.srv.AuthorizeRequests()
	if got := reqs[len(reqs)-1].Get("claims"); got != claims {
		t.Errorf("the sign-in link's claims = %q, want %q", got, claims)
	}
}

// TestFinishedRefreshTokenMarksTheProfileFromAnyResource: a refresh for
// another resource (token --scopes) refused because the refresh token itself
// is finished (bad_token, as MSAL reads it) marks the profile, instead of
// asking only for consent to those scopes.
func TestFinishedRefreshTokenMarksTheProfileFromAnyResource(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "mail,imap"); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	// Consent withdrawn for a linked resource: reauth for it, named once.
	imap := "https://outlook.office.com/IMAP.AccessAsUser.All"
	h.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 65001, Suberror: "consent_required",
		Message: "The user or administrator has not consented to use the application."})
	r := h.run("", "token", "--scopes", imap)
	if r.code != 3 || strings.Count(lineWith(r.stderr, "run: "), imap) != 1 || strings.Contains(r.stderr, "`ms365auth reauth`") {
		t.Errorf("token --scopes without consent: exit %d, want 3 and reauth --scopes naming IMAP once, in the fix too:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["state"] == "needs_reauth" {
		t.Error("missing consent for one resource marked the profile")
	}

	h.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 70000, Suberror: "bad_token",
		Message: "The provided value for the 'refresh_token' parameter is not valid."})
	r = h.run("", "token", "--scopes", imap)
	if r.code != 3 || strings.Contains(r.stderr, "--scopes") {
		t.Errorf("token --scopes: exit %d, want 3 and a plain reauth:\n%s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["state"] != "needs_reauth" {
		t.Errorf("status state %v, want needs_reauth", st["state"])
	}
}

// TestBareRefreshAnswerKeepsWhatItLacks: a refresh answered with an access
// token only (no rotated refresh token, no ID token: RFC 6749 section 6
// and OpenID Connect Core 12.2 make both optional) keeps the stored
// refresh token and account.
func TestBareRefreshAnswerKeepsWhatItLacks(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	before := loadRecord(t, "default")
	h.srv.AnswerRefreshesBare(true)
	r := h.run("", "token")
	after := loadRecord(t, "default")
	if r.code != 0 || r.stdout != after.AccessToken+"\n" || after.AccessToken == before.AccessToken {
		t.Fatalf("token: exit %d, printed the new stored token: %t\n%s", r.code, r.stdout == after.AccessToken+"\n", r.stderr)
	}
	if after.RefreshToken != before.RefreshToken || after.Account != before.Account || after.Name != before.Name || after.ObjectID != before.ObjectID {
		t.Errorf("a bare answer lost the refresh token or who the account is")
	}
	dueForRenewal(t, nil)
	if r := h.run("", "token"); r.code != 0 {
		t.Errorf("the kept refresh token no longer works: exit %d: %s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["account"] != before.Account {
		t.Errorf("status account %v, want %s", st["account"], before.Account)
	}
}

// TestNumbersAsStrings: token and device code answers whose numbers are
// JSON strings, as Entra's v1 endpoints wrote them (and MSAL still reads),
// sign in and refresh like numbers do.
func TestNumbersAsStrings(t *testing.T) {
	h := newHarness(t)
	h.srv.NumbersAsStrings(true)
	const deviceApp = "d3a1c3c0-0000-4000-8000-0000000000a5"
	h.srv.AddApp(entrasim.App{ClientID: deviceApp, MultiTenant: true, AllowPublicClientFlows: true})
	h.srv.SetDeviceInterval(time.Second)
	approve := false
	r := h.session(func(line string, _ io.WriteCloser) {
		if approve {
			approve = false
			if err := h.srv.ApproveDevice(strings.TrimSpace(line)); err != nil {
				t.Errorf("approving %q: %v", line, err)
			}
		}
		approve = strings.Contains(line, "enter the code")
	}, "link", "--device", "--client-id", deviceApp)
	if r.code != 0 {
		t.Fatalf("link --device: exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: exit %d:\n%s", r.code, r.stderr)
	}
	for _, profile := range []string{"default", "work"} {
		st, _ := h.status("--profile", profile)
		exp, err := time.Parse(time.RFC3339, fmt.Sprint(st["access_token_expires_at"]))
		if err != nil || time.Until(exp) < 50*time.Minute {
			t.Errorf("%s: access token expiry %v (%v), want about an hour away", profile, st["access_token_expires_at"], err)
		}
	}
	dueForRenewal(t, nil)
	if r := h.run("", "token"); r.code != 0 || loadRecord(t, "default").Expiry.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("refresh: exit %d, want a token for about an hour:\n%s", r.code, r.stderr)
	}
}

// TestDevicePollingAnswers: the device code polling errors (RFC 8628
// section 3.5; learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code)
// end link --device with a message (exit 1, nothing stored), except
// slow_down, after which polling goes on; access_denied is RFC 8628's word
// for a declined sign-in.
func TestDevicePollingAnswers(t *testing.T) {
	h := newHarness(t)
	const deviceApp = "d3a1c3c0-0000-4000-8000-0000000000a6"
	h.srv.AddApp(entrasim.App{ClientID: deviceApp, MultiTenant: true, AllowPublicClientFlows: true})
	h.srv.SetDeviceInterval(time.Second)
	link := func(approve bool) result {
		next := false
		return h.session(func(line string, _ io.WriteCloser) {
			if next && approve {
				if err := h.srv.ApproveDevice(strings.TrimSpace(line)); err != nil {
					t.Errorf("approving %q: %v", line, err)
				}
			}
			next = strings.Contains(line, "enter the code")
		}, "link", "--device", "--client-id", deviceApp)
	}
	for _, tt := range []struct {
		refusal entrasim.TokenError
		wantIn  string
	}{
		{entrasim.TokenError{Error: "bad_verification_code", Code: 70018, Message: "The provided value for the input parameter 'device_code' is not valid."}, "did not recognise the device code"},
		{entrasim.TokenError{Error: "access_denied", Message: "The end user denied the authorization request."}, "declined"},
		{entrasim.TokenError{Error: "expired_token", Code: 70020, Message: "This device code has expired."}, "expired"},
	} {
		h.srv.RefuseTokenRequests(1, tt.refusal)
		r := link(false)
		if r.code != 1 || !strings.Contains(r.stderr, tt.wantIn) || !strings.Contains(r.stderr, "run: ms365auth link --device --client-id "+deviceApp) {
			t.Errorf("%s: exit %d, want 1 and %q:\n%s", tt.refusal.Error, r.code, tt.wantIn, r.stderr)
		}
		if st, _ := h.status(); st["linked"] != false {
			t.Errorf("%s: a profile was stored: %v", tt.refusal.Error, st)
		}
	}
	h.srv.SlowDown(1)
	if r := link(true); r.code != 0 {
		t.Errorf("after slow_down: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestReauthOnTerminalAnswersTheRefusal: at a terminal, reauth after a
// refusal signs in with the refusal's claims challenge (kept with the
// profile's mark) and says what else to do when signing in is not all.
func TestReauthOnTerminalAnswersTheRefusal(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	h.srv.RequireMFA(true)
	if r := h.run("", "token"); r.code != 3 {
		t.Fatalf("token under the MFA policy: exit %d:\n%s", r.code, r.stderr)
	}
	transcript, err := h.signInOnTerminal(t, "reauth", "--no-browser")
	if err != nil {
		t.Fatalf("reauth: %v\n%s", err, transcript)
	}
	reqs := h.srv.AuthorizeRequests()
	if got := reqs[len(reqs)-1].Get("claims"); !strings.Contains(got, "capolids") {
		t.Errorf("the sign-in's claims = %q, want the refusal's challenge", got)
	}
	if r := h.run("", "token"); r.code != 0 {
		t.Errorf("token after reauth: exit %d:\n%s", r.code, r.stderr)
	}

	h.srv.RefuseTokenRequests(1, entrasim.TokenError{Error: "invalid_grant", Code: 700084,
		Message: "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended."})
	transcript, err = h.signInOnTerminal(t, "reauth", "--no-browser")
	if err != nil || !strings.Contains(transcript, "'Single-page application'") {
		t.Errorf("reauth after AADSTS700084: %v; want the fix said:\n%s", err, transcript)
	}
}

// TestLinkRefusesRedirectURIsEntraRefuses: a redirect URI no app
// registration can hold (learn.microsoft.com/entra/identity-platform/reply-url) stops link before any sign-in,
// with the rule it breaks, instead of Microsoft's AADSTS50011 page.
func TestLinkRefusesRedirectURIsEntraRefuses(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct{ uri, wantIn string }{
		{"http://ha.example.com/api/ms365", "use https"},
		{"http://[::1]:8400/cb", "localhost or 127.0.0.1"},
		{"https://ha.example.com/api/ms365;v=2", "! $ ' ( ) , ;"},
		{"https://ha.example.com/" + strings.Repeat("a", 250), "256"},
		{"urn:ietf:wg:oauth:2.0:oob", "use " + entra.NativeClientRedirectURI},
	} {
		before := h.srv.Stats()
		r := h.run("", "link", "--no-browser", "--client-id", testClientID, "--redirect-uri", tt.uri)
		if r.code != 1 || !strings.Contains(r.stderr, tt.wantIn) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s: exit %d, want 1 and %q in one or two lines:\n%s", tt.uri, r.code, tt.wantIn, r.stderr)
		}
		if h.srv.Stats() != before || len(h.srv.AuthorizeRequests()) != 0 {
			t.Errorf("%s: link reached the double", tt.uri)
		}
	}
	if st, _ := h.status(); st["linked"] != false {
		t.Errorf("a profile was stored: %v", st)
	}
}

// TestMalformedRefreshTokenNeedsAPerson: a stored refresh token Entra
// cannot parse answers invalid_grant AADSTS9002313 (a malformed request,
// as reports from the field show it for damaged tokens; see
// learn.microsoft.com/entra/identity-platform/reference-error-codes): a
// person must sign in (exit 3), the record stays.
func TestMalformedRefreshTokenNeedsAPerson(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	st := store.NewKeyring()
	rec, err := st.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	rec.RefreshToken = "damaged-in-transit"
	if err := st.Save("default", rec); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "token")
	if r.code != 3 || !strings.Contains(r.stderr, "AADSTS9002313") || !strings.Contains(r.stderr, "run: ms365auth reauth") {
		t.Errorf("token: exit %d, want 3 with AADSTS9002313 and reauth:\n%s", r.code, r.stderr)
	}
	if got := loadRecord(t, "default"); got.AccessToken != rec.AccessToken || got.RefreshToken != rec.RefreshToken {
		t.Error("the refusal changed the stored tokens")
	}
}
