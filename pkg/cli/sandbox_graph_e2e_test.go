package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSandboxAnswersGraph: after link --sandbox, with no account, api on
// the sandbox profile gets answers from the sandbox's own Graph: /me,
// a calendar view over several pages with --paginate, --jq, the inbox. A
// Graph URL from the environment or --graph-url never gets the sandbox's
// token.
func TestSandboxAnswersGraph(t *testing.T) {
	h := newHarness(t)
	if r := h.run("\n", "link", "--sandbox", "--no-browser"); r.code != 0 {
		t.Fatalf("sandbox exit %d:\n%s", r.code, r.stderr)
	}
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer other.Close()
	h.env = append(h.env, "MS365AUTH_GRAPH_URL="+other.URL)

	r := h.run("", "api", "--profile", "sandbox", "/me")
	var me map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &me) != nil || me["displayName"] != "Adele Vance" || me["userPrincipalName"] == "" {
		t.Fatalf("api --profile sandbox /me: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// Four weeks from the Monday of last week hold 20 stand-ups and
	// 8 other events; Graph pages 10 at a time.
	monday := time.Now().UTC()
	monday = monday.AddDate(0, 0, -int((monday.Weekday()+6)%7)-7)
	from, to := monday.Format("2006-01-02")+"T00:00:00", monday.AddDate(0, 0, 28).Format("2006-01-02")+"T00:00:00"
	r = h.run("", "api", "--profile", "sandbox", "-X", "GET", "/me/calendarView", "-f", "startDateTime="+from, "-f", "endDateTime="+to,
		"--paginate", "--jq", `.start.dateTime[:16] + "  " + .subject`)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 28 || !strings.HasSuffix(lines[0], "  Daily stand-up") || !strings.HasPrefix(lines[0], monday.Format("2006-01-02")+"T09:00") {
		t.Fatalf("api --paginate --jq over the calendar view: exit %d, %d lines:\n%s\n%s", r.code, len(lines), r.stdout, r.stderr)
	}
	// Without --paginate, one page and its next link.
	r = h.run("", "api", "--profile", "sandbox", "-X", "GET", "/me/calendarView", "-f", "startDateTime="+from, "-f", "endDateTime="+to, "--jq", `."@odata.nextLink" != null`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "true" {
		t.Errorf("one page of the calendar view: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	// A week's window holds that week's events only.
	r = h.run("", "api", "--profile", "sandbox", "-X", "GET", "/me/calendarView", "-f", "startDateTime="+from,
		"-f", "endDateTime="+monday.AddDate(0, 0, 7).Format("2006-01-02")+"T00:00:00", "--paginate", "--jq", ".subject")
	if n := strings.Count(strings.TrimSpace(r.stdout), "\n") + 1; r.code != 0 || n != 7 {
		t.Errorf("a week's calendar view: exit %d, %d events, want 7:\n%s%s", r.code, n, r.stdout, r.stderr)
	}

	r = h.run("", "api", "--profile", "sandbox", "/me/messages", "--jq", ".value[0].subject")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "Welcome to the ms365auth sandbox" {
		t.Errorf("api /me/messages: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "api", "--profile", "sandbox", "--graph-url", other.URL, "/me")
	if r.code != 0 || !strings.Contains(r.stdout, "Adele Vance") {
		t.Errorf("api --graph-url on the sandbox profile: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests with the sandbox's token went to another Graph host", n)
	}
}
