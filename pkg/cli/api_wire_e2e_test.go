package cli_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/graphsim"
)

// These tests hold api to Graph as it behaves on the wire (its throttling,
// paging and error docs) and to what other implementations of the same
// behaviour may send: Retry-After in both forms, broken connections,
// delta queries, odd pages, error bodies that are not Graph's.

// TestAPIRetryAfterForms: a Retry-After as an HTTP-date, none at all
// (backoff) and 0 are all waited for and said; one too large to represent
// is a long wait, so api gives up at once instead of trying again.
func TestAPIRetryAfterForms(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 1)
	// Two seconds ahead: HTTP dates have whole seconds, so one second ahead can
	// be the same second as the answer's Date, which means "now".
	g.Throttle(1, http.StatusTooManyRequests, time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
	g.Throttle(1, http.StatusServiceUnavailable, "")
	g.Throttle(1, http.StatusTooManyRequests, "0")
	r := h.run("", "api", "/me/events", "--jq", ".value | length")
	if r.code != 0 || r.stdout != "1\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "; trying again in ") != 2 || !strings.Contains(r.stderr, "429 Too Many Requests; trying again now") {
		t.Errorf("stderr does not say each wait:\n%s", r.stderr)
	}
	if n := len(g.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}

	before := len(g.Requests())
	g.Throttle(1, http.StatusTooManyRequests, "99999999999999999999")
	r = h.run("", "api", "/me/events")
	if r.code != 1 || !strings.Contains(r.stderr, "giving up") {
		t.Errorf("huge Retry-After: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if n := len(g.Requests()) - before; n != 1 {
		t.Errorf("huge Retry-After: %d requests, want 1", n)
	}
}

// TestAPIRetriesBrokenConnectionsOfAGet: a GET whose connection is reset,
// cut in the middle of the answer, or goes silent, is tried again, saying
// so; the answer printed is the whole one.
func TestAPIRetriesBrokenConnectionsOfAGet(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 3)
	g.CutConnections(1, graphsim.CutBeforeAnswer)
	g.CutConnections(1, graphsim.CutMidAnswer)
	g.CutConnections(1, graphsim.Stall)
	r := h.run("", "api", "/me/events", "--timeout", "1s", "--jq", ".value[].subject")
	if r.code != 0 || r.stdout != "Meeting 0\nMeeting 1\nMeeting 2\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"reset", "cut short (unexpected EOF)", "no data came for 1s"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "trying again in"); n != 3 {
		t.Errorf("%d waits said, want 3:\n%s", n, r.stderr)
	}
	if n := len(g.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// TestAPINeverSendsAPostTwice: a POST whose connection breaks after it
// went out, or that a gateway times out, is not sent again (a second
// sendMail would send a second mail); the error says it may or may not
// have been applied.
func TestAPINeverSendsAPostTwice(t *testing.T) {
	h, g := withGraph(t, "mail-send")
	send := []string{"api", "/me/sendMail", "-f", "message[subject]=Once", "-f", "message[toRecipients][][emailAddress][address]=megan@contoso.example"}
	g.CutConnections(1, graphsim.CutBeforeAnswer)
	r := h.run("", send...)
	if r.code != 1 || !strings.Contains(r.stderr, "may or may not have been applied") || strings.Contains(r.stderr, "trying again") {
		t.Errorf("cut: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if n, sent := len(g.Requests()), len(g.Sent()); n != 1 || sent != 1 {
		t.Errorf("cut: %d requests, %d mails sent; want 1 and 1", n, sent)
	}
	g.Throttle(1, http.StatusGatewayTimeout, "")
	r = h.run("", send...)
	if r.code != 1 || !strings.Contains(r.stderr, "may or may not have been applied") || strings.Contains(r.stderr, "trying again") {
		t.Errorf("504: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if n := len(g.Requests()); n != 2 {
		t.Errorf("504: %d requests in all, want 2", n)
	}
}

// TestAPIRetriesARefusedConnection: a refused connection reached nothing,
// so any request is tried again, a POST too; in the middle of paging, the
// listing goes on where it stopped.
func TestAPIRetriesARefusedConnection(t *testing.T) {
	h, g := withGraph(t, "calendar,mail-send")
	// Down long enough that the process surely meets it, however slow to
	// start; its retries wait 1s, then 2s.
	g.GoDown(0, 2*time.Second)
	r := h.run("", "api", "/me/sendMail", "-f", "message[subject]=Hi", "-f", "message[toRecipients][][emailAddress][address]=megan@contoso.example")
	if r.code != 0 || len(g.Sent()) != 1 || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("sendMail: exit %d, %d sent, stderr:\n%s", r.code, len(g.Sent()), r.stderr)
	}

	addWeek(g, 25)
	g.SetPageSize(10)
	g.GoDown(1, 200*time.Millisecond) // after the first page
	r = h.run("", "api", "/me/events", "--paginate", "--jq", ".subject")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 25 || lines[24] != "Meeting 24" {
		t.Errorf("paging: exit %d, %d items, stderr:\n%s", r.code, len(lines), r.stderr)
	}
	if !strings.Contains(r.stderr, "refused") {
		t.Errorf("paging: the refused connection is not said:\n%s", r.stderr)
	}
}

// TestAPIPaginatesADeltaQuery: the last page of a delta query carries
// @odata.deltaLink instead of a next link; api stops there and prints it on
// stderr, or saves it with --delta-link, and the next run started from it
// gets only what changed.
func TestAPIPaginatesADeltaQuery(t *testing.T) {
	h, g := withGraph(t, "calendar")
	addWeek(g, 25)
	g.SetPageSize(10)
	first := "/me/calendarView/delta?startDateTime=2026-11-30T00:00:00&endDateTime=2026-12-07T00:00:00"
	r := h.run("", "api", "--paginate", "--jq", ".subject", first)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 25 {
		t.Fatalf("exit %d, %d items, stderr:\n%s", r.code, len(lines), r.stderr)
	}
	if !strings.Contains(r.stderr, "@odata.deltaLink") || !strings.Contains(r.stderr, "$deltatoken=") {
		t.Errorf("the delta link is not on stderr:\n%s", r.stderr)
	}

	state := filepath.Join(t.TempDir(), "state.url")
	r = h.run("", "api", "--paginate", "--silent", "--delta-link", state, first)
	link, err := os.ReadFile(state)
	if r.code != 0 || err != nil || !strings.Contains(string(link), "$deltatoken=") || r.stderr != "" {
		t.Fatalf("--delta-link: exit %d, file %q (%v), stderr:\n%s", r.code, link, err, r.stderr)
	}
	g.AddEvents(graphsim.Event{ID: "new", Subject: "Added later", Start: time.Now(), End: time.Now().Add(time.Hour)})
	r = h.run("", "api", "--paginate", "--jq", ".subject", "--delta-link", state, strings.TrimSpace(string(link)))
	if r.code != 0 || r.stdout != "Added later\n" {
		t.Errorf("from the delta link: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("the delta link was not kept: %v", err)
	}
}

// TestAPIPaginatesOddPages: against another implementation of Graph
// paging: an empty first page, a relative next link, a page without value,
// and an answer that is no collection at all; a next link to a foreign
// host is refused without sending the token, and one pointing to its own
// page stops the loop.
func TestAPIPaginatesOddPages(t *testing.T) {
	h, _ := withGraph(t, "calendar,user")
	r := h.run("", "api", "--paginate", "/me/events")
	if r.code != 0 || r.stdout != "[]\n" {
		t.Errorf("empty calendar: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "api", "--paginate", "--jq", ".userPrincipalName", "/me")
	if r.code != 0 || r.stdout == "" || r.stdout == "null\n" {
		t.Errorf("/me: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}

	var foreignHits, foreignTokens atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			foreignTokens.Add(1)
		}
		w.Write([]byte(`{"value":[{"stolen":true}]}`))
	}))
	defer foreign.Close()
	// Unstarted, so that other.URL is set before the handler can read it.
	var other *httptest.Server
	other = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("page") {
		case "":
			fmt.Fprint(w, `{"value":[],"@odata.nextLink":"items?page=2"}`)
		case "2":
			fmt.Fprintf(w, `{"@odata.nextLink":%q}`, other.URL+"/v1.0/items?page=3")
		case "3":
			fmt.Fprint(w, `{"value":[{"n":1},{"n":2}]}`)
		case "foreign":
			fmt.Fprintf(w, `{"value":[{"n":1}],"@odata.nextLink":%q}`, foreign.URL+"/v1.0/items?page=3")
		case "loop":
			fmt.Fprintf(w, `{"value":[{"n":1}],"@odata.nextLink":%q}`, other.URL+"/v1.0/items?page=loop")
		}
	}))
	other.Start()
	defer other.Close()
	h.env = append(h.env, "MS365AUTH_GRAPH_URL="+other.URL)
	r = h.run("", "api", "--paginate", "--jsonl", "/items")
	if r.code != 0 || r.stdout != "{\"n\":1}\n{\"n\":2}\n" {
		t.Errorf("odd pages: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "api", "--paginate", "/items?page=foreign")
	if r.code != 1 || !strings.Contains(r.stderr, "refusing to send the token") || foreignHits.Load() != 0 || foreignTokens.Load() != 0 {
		t.Errorf("foreign next link: exit %d, foreign hits %d, stderr:\n%s", r.code, foreignHits.Load(), r.stderr)
	}
	r = h.run("", "api", "--paginate", "/items?page=loop")
	if r.code != 1 || !strings.Contains(r.stderr, "a page already fetched") {
		t.Errorf("looping next link: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestAPIErrorBodies: stderr is one error line (with Graph's code and
// message, or what kind of answer it was), then the body: a proxy's HTML
// page is named as such, a huge body is cut short, and on a terminal
// nothing in the body acts on it.
func TestAPIErrorBodies(t *testing.T) {
	h, _ := withGraph(t, "calendar")
	r := h.run("", "api", "/me/nothing")
	lines := strings.SplitN(r.stderr, "\n", 2)
	if r.code != 1 || !strings.HasPrefix(lines[0], "error: GET ") || !strings.Contains(lines[0], "HTTP 404 Not Found: ResourceNotFound: Resource not found for the segment 'me/nothing'.") ||
		!strings.HasPrefix(lines[1], `{"error":{"code":"ResourceNotFound"`) {
		t.Errorf("Graph error: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	huge := strings.Repeat("x", 2<<20)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		case "/v1.0/huge":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":{"code":"Huge","message":"%s"}}`, huge)
		case "/v1.0/hostile":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			// Valid JSON: C1 and bidi controls may be raw in a string.
			fmt.Fprint(w, "{\"error\":{\"code\":\"Bad\",\"message\":\"csi\u009b2J bidi\u202eexe\"}}")
		}
	}))
	defer proxy.Close()
	h.env = append(h.env, "MS365AUTH_GRAPH_URL="+proxy.URL)
	r = h.run("", "api", "/html")
	if lines := strings.SplitN(r.stderr, "\n", 2); r.code != 1 || !strings.Contains(lines[0], "HTTP 502 Bad Gateway: the answer is an HTML page") || !strings.HasPrefix(lines[1], "<html>") {
		t.Errorf("HTML: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = h.run("", "api", "/huge")
	if r.code != 1 || len(r.stderr) > 20<<10 || !strings.Contains(r.stderr, "[the answer goes on") || !strings.HasPrefix(r.stderr, "error: GET ") {
		t.Errorf("huge: exit %d, %d bytes of stderr:\n%.400s", r.code, len(r.stderr), r.stderr)
	}
	term := h.onTerminal(t, "api", "/hostile")
	if code := term.wait(); code != 1 || strings.ContainsAny(term.transcript(), "\u009b\u202e") || !strings.Contains(term.transcript(), `"code": "Bad"`) {
		t.Errorf("hostile body on a terminal: exit %d:\n%q", code, term.transcript())
	}
}

// TestTokenClaimsTakesTheWholeChallenge: a script that got a claims
// challenge with curl -D can hand token --claims the whole header value;
// unattended, that is the same exit 3 and line as for the claims alone.
func TestTokenClaimsTakesTheWholeChallenge(t *testing.T) {
	h, g := withGraph(t, "calendar")
	claims := g.ChallengeOlderTokens()
	header := `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="` +
		base64.RawURLEncoding.EncodeToString([]byte(claims)) + `"`
	r := h.run("", "token", "--claims", header)
	if want := h.run("", "token", "--claims", claims); r.code != 3 || r.stderr != want.stderr {
		t.Errorf("exit %d, stderr %q; with the claims alone %q", r.code, r.stderr, want.stderr)
	}
}
