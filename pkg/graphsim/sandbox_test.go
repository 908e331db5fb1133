package graphsim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// TestSandboxTakesOnlyItsAppsTokens: the sandbox's Graph reads the claims
// of tokens whose issuer has ended; it answers a token of the app it was
// started for, after that issuer is gone, and refuses another app's token
// and an expired one.
func TestSandboxTakesOnlyItsAppsTokens(t *testing.T) {
	e, _, token := signedIn(t, "User.Read", "Calendars.Read")
	e.Close() // the sandbox's Entra stand-in ends with link --sandbox

	mine := NewSandbox(entrasim.DefaultClientID, time.Now())
	defer mine.Close()
	if resp, body := get(t, mine, "/v1.0/me", token); resp.StatusCode != http.StatusOK || body["displayName"] != entrasim.DefaultName {
		t.Errorf("the app's own token: %d %v", resp.StatusCode, body)
	}
	other := NewSandbox("11111111-2222-4333-8444-555555555555", time.Now())
	defer other.Close()
	if resp, body := get(t, other, "/v1.0/me", token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another app's token: %d %v", resp.StatusCode, body)
	}
	later := NewSandbox(entrasim.DefaultClientID, time.Now())
	defer later.Close()
	later.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if resp, body := get(t, later, "/v1.0/me", token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired token: %d %v", resp.StatusCode, body)
	}
}

// TestSandboxCalendarViewKeepsToItsWindow: a calendar view answers the
// events that overlap its window, a page at a time.
func TestSandboxCalendarViewKeepsToItsWindow(t *testing.T) {
	_, _, token := signedIn(t, "Calendars.Read")
	now := time.Date(2026, 12, 9, 10, 0, 0, 0, time.UTC) // a Wednesday
	g := NewSandbox(entrasim.DefaultClientID, now)
	defer g.Close()
	_, week := get(t, g, "/v1.0/me/calendarView?startDateTime=2026-12-07T00:00:00&endDateTime=2026-12-14T00:00:00", token)
	value, _ := week["value"].([]any)
	if len(value) != 8 || week["@odata.nextLink"] != nil { // five stand-ups, three meetings
		t.Errorf("the week of 7 December: %d events, next link %v", len(value), week["@odata.nextLink"])
	}

	_, all := get(t, g, "/v1.0/me/calendarView?startDateTime=2026-11-30T00:00:00&endDateTime=2026-12-28T00:00:00", token)
	if value, _ := all["value"].([]any); len(value) != 10 || all["@odata.nextLink"] == nil {
		t.Errorf("four weeks: a page of %d events, next link %v", len(value), all["@odata.nextLink"])
	}
	// All pages: every event once, in order of start.
	last, n := "", 0
	for page := all; ; {
		for _, v := range page["value"].([]any) {
			n++
			start := v.(map[string]any)["start"].(map[string]any)["dateTime"].(string)
			if start < last {
				t.Errorf("%s after %s", start, last)
			}
			last = start
		}
		next, _ := page["@odata.nextLink"].(string)
		if next == "" || n > 100 {
			break
		}
		_, page = get(t, g, strings.TrimPrefix(next, g.URL), token)
	}
	if n != 28 {
		t.Errorf("four weeks: %d events over all pages, want 28", n)
	}
}
