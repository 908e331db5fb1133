package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// These tests hold ms365auth to OAuth 2.0 and OpenID Connect where a server
// other than Entra may answer differently (issue 14); the double's knobs
// play that server.

// dueForRenewal makes the default profile's stored access token due for
// renewal (renewalDue). st nil means the keyring.
func dueForRenewal(t *testing.T, st store.Store) {
	t.Helper()
	editRecord(t, st, "default", renewalDue)
}

// renewalDue makes the access token an hour token with a minute left, as a
// cron job meets it an hour after the last renewal: token renews it (under
// the default margin or --margin 2h), and it still works if renewing fails.
func renewalDue(rec *store.Record) {
	rec.Expiry = time.Now().Add(time.Minute)
	rec.IssuedAt = rec.Expiry.Add(-time.Hour)
}

func TestRefreshKeepsEveryOIDCScope(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar,email"); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Fatalf("token: exit %d: %s", r.code, r.stderr)
	}
	st, _ := h.status()
	if scopes := toStrings(st["scopes"]); !slices.Contains(scopes, "email") || !slices.Contains(scopes, "Calendars.Read") {
		t.Errorf("after a refresh the granted scopes are %v, want email kept", scopes)
	}
}

func TestShortLivedTokensAreRenewedOnceForAllCallers(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	h.srv.SetAccessTokenLifetime(2 * time.Minute) // shorter than the 5-minute margin
	before := h.srv.Stats().TokenRequests
	const n = 4
	results := h.runAtOnce(n, "token")
	for i, r := range results {
		if r.code != 0 || r.stdout != results[0].stdout {
			t.Fatalf("call %d: exit %d, same token %t: %s", i, r.code, r.stdout == results[0].stdout, r.stderr)
		}
	}
	if r := h.run("", "token"); r.stdout != results[0].stdout {
		t.Errorf("a later call renewed the 2-minute token again")
	}
	if got := h.srv.Stats().TokenRequests - before; got != 1 {
		t.Errorf("%d refreshes for %d callers of a 2-minute token, want 1", got, n+1)
	}
}

func TestAccountNameFallsBack(t *testing.T) {
	for _, tt := range []struct {
		name    string
		drop    []string
		account string
	}{
		{"no preferred_username", []string{"preferred_username"}, "adele@contoso.example"}, // email
		{"only name", []string{"preferred_username", "email"}, "Adele Vance"},
		{"only sub", []string{"preferred_username", "email", "name"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			sub := ""
			h.srv.EditIDTokens(func(c map[string]any) {
				sub, _ = c["sub"].(string)
				for _, k := range tt.drop {
					delete(c, k)
				}
			})
			r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar,email")
			want := tt.account
			if want == "" {
				want = sub
			}
			if r.code != 0 || want == "" || !strings.Contains(r.stderr, "Linked "+want+" ") || strings.Contains(r.stderr, "Linked  ") {
				t.Fatalf("link exit %d, want %q named:\n%s", r.code, want, r.stderr)
			}
			st, _ := h.status()
			if st["account"] != want {
				t.Errorf("status account %q, want %q", st["account"], want)
			}
			text := h.run("", "status")
			if !strings.Contains(text.stdout, "account:       "+want) {
				t.Errorf("status:\n%s", text.stdout)
			}
		})
	}
}

// TestIDTokenMismatchKeepsOnlyTheRefreshToken: a sign-in whose ID token
// fails a check keeps nothing; a refresh keeps only the refresh token that
// came with it, which a server that rotates may have made the only one
// that works.
func TestIDTokenMismatchKeepsOnlyTheRefreshToken(t *testing.T) {
	h := linked(t, time.Hour)
	h.srv.RetireUsedRefreshTokens(true) // as Dex: only the newest refresh token works
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"issuer", func(c map[string]any) {
			c["iss"] = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
		}, "--tenant"},
		{"issuer host", func(c map[string]any) { c["iss"] = "https://id.example.org/" + c["tid"].(string) + "/v2.0" }, "--authority-host"},
		{"audience", func(c map[string]any) { c["aud"] = "11111111-2222-3333-4444-555555555555" }, "--client-id"},
		{"expiry", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, "clock"},
	} {
		old := loadRecord(t, "default")
		h.srv.EditIDTokens(tt.edit)
		r := h.link(h.signIn, "--client-id", testClientID)
		if r.code != 1 || !strings.Contains(r.stderr, "ID token") || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: link exit %d, want a refusal naming %s:\n%s", tt.name, r.code, tt.want, r.stderr)
		}
		dueForRenewal(t, nil)
		if rec := loadRecord(t, "default"); rec.AccessToken != old.AccessToken || rec.RefreshToken != old.RefreshToken {
			t.Errorf("%s: a refused sign-in changed the stored tokens", tt.name)
		}
		r = h.run("", "token", "--margin", "2h")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "was kept") {
			t.Errorf("%s: token exit %d, want a refusal naming %s, saying the refresh token was kept:\n%s", tt.name, r.code, tt.want, r.stderr)
		}
		rec := loadRecord(t, "default")
		if rec.AccessToken != old.AccessToken || rec.RefreshToken == old.RefreshToken || rec.NeedsReauth {
			t.Errorf("%s: want the rotated refresh token kept and nothing else changed", tt.name)
		}
	}
	h.srv.EditIDTokens(nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Errorf("token with Entra's own ID tokens, on the last refresh token kept: exit %d: %s", r.code, r.stderr)
	}
}

func TestTokenResponseWithoutScopeMeansAsRequested(t *testing.T) {
	h := newHarness(t)
	h.srv.OmitScopeInTokenResponses(true)
	r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar")
	if r.code != 0 || !strings.Contains(r.stderr, "Granted as requested") || strings.Contains(r.stderr, "Not granted") {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	st, _ := h.status()
	if scopes := toStrings(st["scopes"]); !slices.Contains(scopes, "Calendars.Read") || st["scopes_as_requested"] != true {
		t.Errorf("status: scopes %v, scopes_as_requested %v", scopes, st["scopes_as_requested"])
	}
	if text := h.run("", "status"); !strings.Contains(text.stdout, "Calendars.Read") || !strings.Contains(text.stdout, "as requested") {
		t.Errorf("status:\n%s", text.stdout)
	}
}

func TestDeadRefreshTokenAnsweredWithInvalidRequestNeedsAPerson(t *testing.T) {
	const dex = "Refresh token is invalid or has already been claimed by another client."
	h := linked(t, time.Hour)
	h.srv.AnswerDeadRefreshTokens("invalid_request", dex)
	h.srv.RevokeRefreshTokens()
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 3 || r.stdout != "" {
		t.Errorf("token: exit %d: %s", r.code, r.stderr)
	}
	notified := filepath.Join(t.TempDir(), "notified")
	r := h.run("", "reauth", "--non-interactive", "--notify-cmd", `printf '%s' "$MS365AUTH_MESSAGE" > `+notified)
	if r.code != 3 {
		t.Errorf("reauth: exit %d: %s", r.code, r.stderr)
	}
	msg, err := os.ReadFile(notified)
	if err != nil || !strings.Contains(string(msg), "another client") {
		t.Errorf("--notify-cmd did not run with the reason (%v): %q", err, msg)
	}
	if st, _ := h.status(); st["state"] != "needs_reauth" {
		t.Errorf("status: %v", st)
	}
	for _, out := range []string{r.stderr, string(msg)} {
		if strings.Contains(out, "..") {
			t.Errorf("a doubled full stop: %q", out)
		}
	}
}

func TestInvalidRequestAboutSomethingElseIsNoReason(t *testing.T) {
	h := linked(t, time.Hour)
	h.srv.AnswerDeadRefreshTokens("invalid_request", "Missing refresh token parameter.")
	h.srv.RevokeRefreshTokens()
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 1 {
		t.Errorf("token: exit %d, want 1 for an error that does not say the refresh token is dead: %s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["state"] == "needs_reauth" {
		t.Errorf("the profile was marked needs_reauth")
	}
}

func TestReauthQuotesTheServerWithoutADoubledFullStop(t *testing.T) {
	h := linked(t, time.Hour)
	h.srv.RevokeRefreshTokens() // AADSTS50173: "... is '<time>'."
	term := h.onTerminal(t, "reauth", "--no-browser")
	term.waitFor("Open this link")
	if line := lineWith(term.transcript(), "Signing in again"); !strings.HasSuffix(line, ".") || strings.HasSuffix(line, "..") {
		t.Errorf("the line ends badly: %q", line)
	}
}

func lineWith(text, part string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, part) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
