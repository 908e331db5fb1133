package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// linked returns a harness with the default profile linked; its access
// token lives for lifetime.
func linked(t *testing.T, lifetime time.Duration) *harness {
	t.Helper()
	h := newHarness(t)
	h.srv.SetAccessTokenLifetime(lifetime)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar"); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	h.srv.SetAccessTokenLifetime(time.Hour)
	return h
}

func TestTokenPrintsOnlyTheToken(t *testing.T) {
	h := linked(t, time.Hour)
	before := h.srv.Stats()
	r := h.run("", "token")
	rec := loadRecord(t, "default")
	if r.code != 0 || r.stdout != rec.AccessToken+"\n" || r.stderr != "" {
		t.Fatalf("exit %d, stdout %d bytes, stderr %q", r.code, len(r.stdout), r.stderr)
	}
	if after := h.srv.Stats(); after.TokenRequests != before.TokenRequests {
		t.Errorf("a valid token caused %d token requests", after.TokenRequests-before.TokenRequests)
	}
}

func TestTokenConcurrentRefreshIsDoneOnce(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil) // a minute left, inside the 5-minute margin: must be renewed
	old := loadRecord(t, "default")
	before := h.srv.Stats()
	h.srv.SetTokenDelay(100 * time.Millisecond) // widen the window for a race
	results := h.runAtOnce(20, "token")
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("process %d exit %d: %s", i, r.code, r.stderr)
		}
		if r.stdout != results[0].stdout {
			t.Fatalf("process %d printed a different token", i)
		}
	}
	if got := h.srv.Stats().TokenRequests - before.TokenRequests; got != 1 {
		t.Errorf("%d refresh requests reached the server, want 1", got)
	}
	rec := loadRecord(t, "default")
	if results[0].stdout != rec.AccessToken+"\n" || rec.AccessToken == old.AccessToken {
		t.Errorf("the printed token is not the new stored one")
	}
	if rec.RefreshToken == old.RefreshToken {
		t.Errorf("the rotated refresh token was not saved")
	}
}

// runAtOnce runs n processes of the binary with args at the same time.
func (h *harness) runAtOnce(n int, args ...string) []result {
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.run("", args...)
		}()
	}
	wg.Wait()
	return results
}

func TestRevokedRefreshTokenNeedsAPerson(t *testing.T) {
	h := linked(t, time.Minute)
	h.srv.RevokeRefreshTokens()
	before := h.srv.Stats().TokenRequests
	r := h.run("", "reauth", "--non-interactive")
	if r.code != 3 || !strings.Contains(r.stderr, "AADSTS50173") || !strings.Contains(r.stderr, "run: ms365auth reauth") {
		t.Errorf("reauth exit %d:\n%s", r.code, r.stderr)
	}
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 {
		t.Errorf("reauth printed %d lines, want one:\n%s", lines+1, r.stderr)
	}
	// The access token has a minute left: token serves it, since the
	// refusal was about the refresh token, until it is no longer valid
	// (then a person is needed: TestValidFor).
	if r := h.run("", "token"); r.code != 0 || strings.TrimSpace(r.stdout) != loadRecord(t, "default").AccessToken {
		t.Errorf("token with a valid access token: exit %d, stdout %q", r.code, r.stdout)
	}
	// A refused refresh token is final: reauth asks once, without retries,
	// and token, reading that a person is needed, does not ask at all.
	if n := h.srv.Stats().TokenRequests - before; n != 1 {
		t.Errorf("reauth and token made %d token requests, want 1", n)
	}
	st, sr := h.status()
	if sr.code != 3 || st["state"] != "needs_reauth" || st["account"] != "adele@contoso.example" {
		t.Errorf("status exit %d: %v", sr.code, st)
	}
}

func TestTransientFailuresLoseNothing(t *testing.T) {
	h := linked(t, time.Hour)
	dueForRenewal(t, nil)
	old := loadRecord(t, "default")

	h.srv.FailTokenRequests(2, 503, 0)
	if r := h.run("", "token"); r.code != 0 {
		t.Fatalf("token after two 503s: exit %d: %s", r.code, r.stderr)
	}

	// reauth always refreshes; while the server fails it reports a
	// temporary failure (token would fall back on the still-valid token).
	h.srv.FailTokenRequests(100, 503, 0)
	r := h.run("", "reauth", "--non-interactive")
	if r.code != 1 || !strings.Contains(r.stderr, "temporary") {
		t.Fatalf("reauth while the server fails: exit %d: %s", r.code, r.stderr)
	}
	if st, _ := h.status(); st["state"] == "needs_reauth" {
		t.Fatalf("a transient failure marked the profile needs_reauth")
	}
	h.srv.FailTokenRequests(0, 0, 0)
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Fatalf("token after the server recovered: exit %d: %s", r.code, r.stderr)
	}
	if loadRecord(t, "default").AccessToken == old.AccessToken {
		t.Errorf("no new token after recovery")
	}

	h.srv.FailTokenRequests(1, 429, time.Second)
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 {
		t.Errorf("reauth after a 429 with Retry-After: exit %d: %s", r.code, r.stderr)
	}
}

func TestTokenForAnotherResource(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "mail,imap"); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	graph := h.run("", "token")
	imap := h.run("", "token", "--scopes", "https://outlook.office.com/IMAP.AccessAsUser.All")
	if imap.code != 0 || imap.stdout == graph.stdout {
		t.Fatalf("imap token: exit %d, same as graph: %t\n%s", imap.code, imap.stdout == graph.stdout, imap.stderr)
	}
	info, ok := h.srv.LookupAccessToken(strings.TrimSpace(imap.stdout))
	if !ok || !strings.Contains(info.Resource, "outlook.office.com") {
		t.Errorf("imap token is for %+v", info)
	}
	before := h.srv.Stats()
	if again := h.run("", "token", "--scopes", "imap"); again.stdout != imap.stdout {
		t.Errorf("the IMAP token was not kept")
	}
	if h.srv.Stats().TokenRequests != before.TokenRequests {
		t.Errorf("a kept IMAP token was fetched again")
	}
}

func TestReauthSilentAndNotify(t *testing.T) {
	h := linked(t, time.Hour)
	old := loadRecord(t, "default")
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 {
		t.Fatalf("silent reauth: exit %d: %s", r.code, r.stderr)
	}
	rec := loadRecord(t, "default")
	if rec.RefreshToken == old.RefreshToken || !rec.LastRefreshAt.After(old.LastRefreshAt) {
		t.Errorf("reauth did not rotate and record the refresh")
	}

	// Changed scopes need a person; the notification carries a link that
	// "link --returned-url" can finish.
	out := filepath.Join(t.TempDir(), "notified")
	r := h.run("", "reauth", "--non-interactive", "--scopes", "calendar-write", "--notify-cmd", `printf '%s\n%s' "$MS365AUTH_SIGNIN_URL" "$MS365AUTH_MESSAGE" > `+out)
	if r.code != 3 || !strings.Contains(r.stderr, "scopes changed") {
		t.Fatalf("reauth with new scopes: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	link, message, _ := strings.Cut(string(data), "\n")
	if !strings.HasPrefix(link, h.srv.URL) {
		t.Fatalf("notification: %q", data)
	}
	// The advice keeps the returned URL, and its code, off the command line.
	if !strings.HasSuffix(message, "ms365auth link --returned-url -") {
		t.Errorf("the message does not advise --returned-url -: %q", message)
	}
	if r := h.run(h.signIn(link)+"\n", "link", "--returned-url", "-"); r.code != 0 {
		t.Fatalf("finishing the notified sign-in: %s", r.stderr)
	}
	st, _ := h.status()
	if !strings.Contains(strings.Join(toStrings(st["scopes"]), " "), "Calendars.ReadWrite") {
		t.Errorf("scopes after the new consent: %v", st["scopes"])
	}
}

// TestReauthChangedScopesOnTerminal runs reauth interactively: the new
// scope goes to the consent, and the profile remembers it.
func TestReauthChangedScopesOnTerminal(t *testing.T) {
	h := linked(t, time.Hour)
	transcript, err := h.signInOnTerminal(t, "reauth", "--no-browser", "--scopes", "calendar,mail-send")
	if err != nil {
		t.Fatalf("reauth: %v\n%s", err, transcript)
	}
	reqs := h.srv.AuthorizeRequests()
	if scope := reqs[len(reqs)-1].Get("scope"); !strings.Contains(scope, "Mail.Send") {
		t.Errorf("authorize scope = %q", scope)
	}
	st, _ := h.status()
	if !strings.Contains(strings.Join(toStrings(st["requested_scopes"]), " "), "Mail.Send") {
		t.Errorf("profile scopes: %v", st["requested_scopes"])
	}
}

func TestLogout(t *testing.T) {
	h := linked(t, time.Hour)
	if r := h.run("", "logout"); r.code != 0 {
		t.Fatalf("logout: %s", r.stderr)
	}
	out, _ := exec.Command("secret-tool", "search", "--all", "service", "ms365auth").CombinedOutput()
	if strings.Contains(string(out), "username = default") {
		t.Errorf("items remain after logout:\n%s", out)
	}
	if st, r := h.status(); r.code != 3 || st["state"] != "not_linked" {
		t.Errorf("status after logout: exit %d %v", r.code, st)
	}
	if r := h.run("", "token"); r.code != 3 {
		t.Errorf("token after logout: exit %d", r.code)
	}
}

func toStrings(v any) []string {
	var out []string
	b, _ := json.Marshal(v)
	json.Unmarshal(b, &out)
	return out
}
