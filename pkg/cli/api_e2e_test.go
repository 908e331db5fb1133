package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/graphsim"
)

// withGraph links the default profile with scopes and starts a Graph
// double trusting the Entra double's tokens; api is pointed at it.
func withGraph(t *testing.T, scopes string) (*harness, *graphsim.Server) {
	t.Helper()
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--scopes", scopes); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	g := graphsim.NewServer(h.srv)
	t.Cleanup(g.Close)
	h.env = append(h.env, "MS365AUTH_GRAPH_URL="+g.URL)
	return h, g
}

// addWeek puts n events into the double's calendar.
func addWeek(g *graphsim.Server, n int) {
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for i := range n {
		at := start.Add(time.Duration(i) * 2 * time.Hour)
		g.AddEvents(graphsim.Event{ID: fmt.Sprint("event-", i), Subject: fmt.Sprint("Meeting ", i), Start: at, End: at.Add(time.Hour)})
	}
}

// TestAPIPaginatesACalendar: a 3-page calendar listing comes out whole,
// in order, filtered by --jq one item at a time; without --jq as one JSON
// array, and as JSON lines with --jsonl.
func TestAPIPaginatesACalendar(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 25)
	g.SetPageSize(10)

	r := h.run("", "api", "/me/calendarView", "-X", "GET", "-f", "startDateTime=2026-11-30T00:00:00", "-f", "endDateTime=2026-12-07T00:00:00", "--paginate", "--jq", ".subject")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 25 || lines[0] != "Meeting 0" || lines[24] != "Meeting 24" {
		t.Errorf("got %d subjects: %q", len(lines), lines)
	}
	var pages int
	for _, req := range g.Requests() {
		if req.Path == "/v1.0/me/calendarView" {
			pages++
			if !strings.Contains(req.RawQuery, "startDateTime=2026-11-30") {
				t.Errorf("page request lost the query: %s", req.RawQuery)
			}
		}
	}
	if pages != 3 {
		t.Errorf("%d page requests, want 3", pages)
	}

	r = h.run("", "api", "/me/events", "--paginate")
	var items []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 25 || items[3]["subject"] != "Meeting 3" {
		t.Errorf("--paginate: %d items (%v):\n%s", len(items), err, r.stdout)
	}
	r = h.run("", "api", "/me/events", "--paginate", "--jsonl")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 25 || !json.Valid([]byte(lines[24])) {
		t.Errorf("--jsonl: %d lines:\n%s", len(lines), r.stdout)
	}
}

// TestAPIWaitsForRetryAfter: throttled twice (429, then 503), the request
// succeeds after the Retry-After waits, which are said on stderr.
func TestAPIWaitsForRetryAfter(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 2)
	g.Throttle(1, http.StatusTooManyRequests, "1")
	g.Throttle(1, http.StatusServiceUnavailable, "1")
	r := h.run("", "api", "/me/events", "--jq", ".value | length")
	if r.code != 0 || r.stdout != "2\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "trying again in 1s") != 2 || !strings.Contains(r.stderr, "429") || !strings.Contains(r.stderr, "503") {
		t.Errorf("stderr does not say it waited:\n%s", r.stderr)
	}
	if n := len(g.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestAPIGivesUpOnALongRetryAfter: a Retry-After beyond the bound is an
// error at once, not a stuck cron job.
func TestAPIGivesUpOnALongRetryAfter(t *testing.T) {
	h, g := withGraph(t, "calendar")
	g.Throttle(1, http.StatusTooManyRequests, "3600")
	r := h.run("", "api", "/me/events")
	if r.code != 1 || !strings.Contains(r.stderr, "giving up") || !strings.Contains(r.stderr, "TooManyRequests") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestAPIClaimsChallengeUnattended: without a terminal a claims challenge
// exits 3 with the one line token --claims gives, and no sign-in starts.
func TestAPIClaimsChallengeUnattended(t *testing.T) {
	h, g := withGraph(t, "calendar")
	claims := g.ChallengeOlderTokens()
	authorizes := len(h.srv.AuthorizeRequests())
	r := h.run("", "api", "/me/events")
	if r.code != 3 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--claims "+entra.EncodeClaims(claims)) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	// token --claims takes the challenge's base64 as another program got it.
	tr := h.run("", "token", "--claims", base64.StdEncoding.EncodeToString([]byte(claims)))
	if tr.code != 3 || tr.stderr != r.stderr {
		t.Errorf("token --claims: exit %d, stderr %q; api's was %q", tr.code, tr.stderr, r.stderr)
	}
	if rr := h.run("", "reauth", "--claims", claims); rr.code != 3 || rr.stderr != r.stderr {
		t.Errorf("reauth --claims: exit %d, stderr %q", rr.code, rr.stderr)
	}
	if n := len(h.srv.AuthorizeRequests()); n != authorizes {
		t.Errorf("%d sign-ins started", n-authorizes)
	}
}

// TestAPIClaimsChallengeOnTerminal: on a terminal the challenge runs the
// profile's sign-in with the claims on the authorize request, and the
// request is answered with the new token.
func TestAPIClaimsChallengeOnTerminal(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 1)
	claims := g.ChallengeOlderTokens()
	transcript, err := h.signInOnTerminal(t, "api", "/me/events", "--jq", ".value[0].subject")
	if err != nil {
		t.Fatalf("api: %v\n%s", err, transcript)
	}
	if !strings.Contains(transcript, "Meeting 0") {
		t.Errorf("no answer after the sign-in:\n%s", transcript)
	}
	reqs := h.srv.AuthorizeRequests()
	if got := reqs[len(reqs)-1].Get("claims"); got != claims {
		t.Errorf("authorize claims = %q, want %q", got, claims)
	}
}

// TestTokenClaimsOnTerminal: token --claims signs in with the claims and
// prints the new token.
func TestTokenClaimsOnTerminal(t *testing.T) {
	h, g := withGraph(t, "calendar")
	claims := g.ChallengeOlderTokens()
	transcript, err := h.signInOnTerminal(t, "token", "--claims", entra.EncodeClaims(claims))
	if err != nil {
		t.Fatalf("token --claims: %v\n%s", err, transcript)
	}
	reqs := h.srv.AuthorizeRequests()
	if got := reqs[len(reqs)-1].Get("claims"); got != claims {
		t.Errorf("authorize claims = %q, want %q", got, claims)
	}
	if rec := loadRecord(t, "default"); !strings.Contains(transcript, rec.AccessToken[:40]) {
		t.Errorf("the new token was not printed:\n%s", transcript)
	}
	if r := h.run("", "api", "/me/events"); r.code != 0 {
		t.Errorf("the new token does not pass the challenge: exit %d\n%s", r.code, r.stderr)
	}
}

// TestLongClaimsCommandRuns: a claims challenge too long for a command
// line is saved, the command printed is a plain reauth, and that command,
// run on a terminal, signs in with the claims. --claims null is no claims
// request, and one larger than entra.MaxClaims no sign-in could carry.
func TestLongClaimsCommandRuns(t *testing.T) {
	h, _ := withGraph(t, "calendar")
	claims := `{"access_token":{"xms_cc":{"values":["` + strings.Repeat("cp1", 200) + `"]}}}`
	r := h.run("", "token", "--claims", claims)
	if r.code != 3 || !strings.HasSuffix(r.stderr, "run: ms365auth reauth\n") {
		t.Fatalf("token --claims: exit %d, want a plain reauth to run:\n%.300s", r.code, r.stderr)
	}
	transcript, err := h.signInOnTerminal(t, "reauth")
	if err != nil {
		t.Fatalf("reauth: %v\n%s", err, transcript)
	}
	reqs := h.srv.AuthorizeRequests()
	if got := reqs[len(reqs)-1].Get("claims"); got != claims {
		t.Errorf("authorize claims = %.60q, want the saved %.60q", got, claims)
	}
	// Answered: the next reauth refreshes without a person.
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 {
		t.Errorf("reauth after the sign-in: exit %d\n%s", r.code, r.stderr)
	}
	for _, bad := range []string{"null", `{"x":"` + strings.Repeat("a", entra.MaxClaims) + `"}`} {
		if r := h.run("", "token", "--claims", bad); r.code != 1 || !strings.Contains(r.stderr, "--claims: the claims") {
			t.Errorf("token --claims %.20q: exit %d\n%.300s", bad, r.code, r.stderr)
		}
	}
}

// TestAPINeverSendsTheTokenElsewhere: a URL outside the allowed hosts is
// refused before anything is sent, and a redirect to one loses the token.
func TestAPINeverSendsTheTokenElsewhere(t *testing.T) {
	h, g := withGraph(t, "calendar")
	var hits, withToken atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			withToken.Add(1)
		}
		w.Write([]byte(`{"value":[]}`))
	}))
	defer foreign.Close()
	for _, target := range []string{foreign.URL + "/v1.0/me", "https://graph.microsoft.com.evil.example/v1.0/me", "https://outlook.office.com/api/v2.0/me"} {
		r := h.run("", "api", target)
		if r.code != 1 || !strings.Contains(r.stderr, "refusing to send the token") {
			t.Errorf("%s: exit %d, stderr:\n%s", target, r.code, r.stderr)
		}
	}
	if hits.Load() != 0 || len(g.Requests()) != 0 {
		t.Errorf("requests were sent: foreign %d, graph %d", hits.Load(), len(g.Requests()))
	}
	// Graph's own redirect (as for downloads) is followed without the token.
	redirector := httptest.NewServer(http.RedirectHandler(foreign.URL+"/download", http.StatusFound))
	defer redirector.Close()
	h.env = append(h.env, "MS365AUTH_GRAPH_URL="+redirector.URL)
	if r := h.run("", "api", "/me/drive/items/1/content"); r.code != 0 || hits.Load() != 1 || withToken.Load() != 0 {
		t.Errorf("redirect: exit %d, foreign hits %d, with token %d\n%s", r.code, hits.Load(), withToken.Load(), r.stderr)
	}
}

// TestAPIIncludeShowsNoToken: --include prints the status and headers, and
// nothing the double issued appears in any output.
func TestAPIIncludeShowsNoToken(t *testing.T) {
	h, _ := withGraph(t, "user")
	r := h.run("", "api", "--include", "/me")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 200 OK\n") || !strings.Contains(r.stdout, "Content-Type: application/json") || !strings.Contains(r.stdout, `"userPrincipalName"`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, secret := range h.srv.IssuedSecrets() {
		if strings.Contains(r.all(), secret) {
			t.Fatalf("output contains a credential:\n%s", r.all())
		}
	}
}

// TestAPISendsAMessage: -f fields nest into a JSON body, POSTed; the
// answer is 202 with no body.
func TestAPISendsAMessage(t *testing.T) {
	h, g := withGraph(t, "mail-send")
	r := h.run("", "api", "/me/sendMail", "-f", "message[subject]=Hello", "-f", "message[body][content]=Hi there",
		"-f", "message[toRecipients][][emailAddress][address]=megan@contoso.example", "-F", "saveToSentItems=false")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sent := g.Sent()
	if len(sent) != 1 || sent[0].JSON["subject"] != "Hello" || sent[0].JSON["body"].(map[string]any)["content"] != "Hi there" {
		t.Errorf("sent: %+v", sent)
	}
	if reqs := g.Requests(); !strings.Contains(reqs[0].Body, `"saveToSentItems":false`) {
		t.Errorf("body: %s", reqs[0].Body)
	}
	// A raw body from standard input.
	r = h.run(`{"message":{"subject":"From stdin","toRecipients":[{"emailAddress":{"address":"megan@contoso.example"}}]}}`, "api", "/me/sendMail", "--input", "-")
	if r.code != 0 || len(g.Sent()) != 2 || g.Sent()[1].JSON["subject"] != "From stdin" {
		t.Errorf("--input -: exit %d, %s", r.code, r.stderr)
	}
}

// TestAPIPlain401RenewsOnce: a 401 without a challenge renews the token
// once and tries once more; a second 401 is an error (exit 1, the body on
// stderr).
func TestAPIPlain401RenewsOnce(t *testing.T) {
	h, g := withGraph(t, "calendar")
	g.SetClock(func() time.Time { return time.Now().Add(3 * time.Hour) }) // every token looks expired
	before := h.srv.Stats().TokenRequests
	r := h.run("", "api", "/me/events")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "InvalidAuthenticationToken") || !strings.Contains(r.stderr, "401") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := h.srv.Stats().TokenRequests - before; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := len(g.Requests()); n != 2 {
		t.Errorf("%d Graph requests, want 2", n)
	}
}

// TestAPIErrors: an HTTP error's body goes to stderr with exit 1; a
// missing scope is Graph's 403.
func TestAPIErrors(t *testing.T) {
	h, _ := withGraph(t, "calendar")
	r := h.run("", "api", "/me/nothing")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "ResourceNotFound") {
		t.Errorf("404: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "api", "/me/sendMail", "-f", "message[subject]=x")
	if r.code != 1 || !strings.Contains(r.stderr, "ErrorAccessDenied") {
		t.Errorf("403: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestAPIErrorBodyIsIndentedOnATerminal: a person reads Graph's error
// indented; a script (TestAPIErrors) gets it as it came.
func TestAPIErrorBodyIsIndentedOnATerminal(t *testing.T) {
	h, _ := withGraph(t, "calendar")
	term := h.onTerminal(t, "api", "/me/nothing")
	if code := term.wait(); code != 1 || !strings.Contains(term.transcript(), "{\n  \"error\": {\n    \"code\": \"ResourceNotFound\"") {
		t.Errorf("exit %d:\n%s", code, term.transcript())
	}
}

// TestAPIWithAnotherResourcesToken: --scopes sends that resource's token
// (kept as token --scopes keeps it), which Graph refuses as the wrong
// audience.
func TestAPIWithAnotherResourcesToken(t *testing.T) {
	h, g := withGraph(t, "calendar,imap")
	r := h.run("", "api", "--scopes", "imap", "/me/events")
	if r.code != 1 || !strings.Contains(r.stderr, "Invalid audience") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	reqs := g.Requests()
	sent, _ := strings.CutPrefix(reqs[len(reqs)-1].Authorization, "Bearer ") // after the one renewal
	if info, ok := h.srv.LookupAccessToken(sent); !ok || info.Resource != "https://outlook.office.com" {
		t.Errorf("sent a token for %q (issued %t)", info.Resource, ok)
	}
	if tr := h.run("", "token", "--scopes", "imap"); tr.stdout != sent+"\n" {
		t.Errorf("token --scopes imap gives another token than api last used")
	}
}
