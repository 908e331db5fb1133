package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// ageRefreshToken rewrites the stored record as if its refresh token had
// last been renewed ago.
func ageRefreshToken(t *testing.T, ago time.Duration, edit func(*store.Record)) {
	t.Helper()
	editRecord(t, nil, "default", func(rec *store.Record) {
		rec.LastRefreshAt = time.Now().Add(-ago)
		if edit != nil {
			edit(rec)
		}
	})
}

const day = 24 * time.Hour

func TestRefreshTokenPastTheCutOff(t *testing.T) {
	h := linked(t, time.Hour)
	ageRefreshToken(t, 95*day, nil)
	st, r := h.status()
	if r.code != 3 || st["state"] != "needs_reauth" || !strings.Contains(st["reason"].(string), "AADSTS700082") {
		t.Errorf("status exit %d: %v", r.code, st)
	}
	if left, ok := st["refresh_token_days_left"].(float64); ok && left < 0 {
		t.Errorf("refresh_token_days_left = %v", left)
	}
	text := h.run("", "status")
	if text.code != 3 || strings.Contains(text.stdout, "-5") || !strings.Contains(text.stdout, "no longer works") || !strings.Contains(text.stdout, "ms365auth reauth") {
		t.Errorf("status text (exit %d):\n%s", text.code, text.stdout)
	}
}

func TestRefreshTokenEndingIsTold(t *testing.T) {
	h := linked(t, time.Hour)

	// Status warns from 14 days left, in text and JSON.
	ageRefreshToken(t, 70*day, nil)
	if st, _ := h.status(); st["warnings"] != nil {
		t.Errorf("a warning with 20 days left: %v", st["warnings"])
	}
	ageRefreshToken(t, 80*day, nil)
	st, r := h.status()
	warnings := toStrings(st["warnings"])
	if r.code != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "in 10 days") || !strings.Contains(warnings[0], "ms365auth reauth --non-interactive") {
		t.Errorf("status exit %d, warnings %q", r.code, warnings)
	}
	if text := h.run("", "status"); !strings.Contains(text.stdout, "warning:") || !strings.Contains(text.stdout, "in 10 days") {
		t.Errorf("status text:\n%s", text.stdout)
	}
	// token and reauth stay quiet at 10 days.
	if r := h.run("", "token"); r.code != 0 || r.stderr != "" {
		t.Errorf("token with 10 days left: exit %d, stderr %q", r.code, r.stderr)
	}

	// With fewer than 7 days left, a token printed without a refresh says
	// so on stderr, in one line; stdout stays the token alone.
	ageRefreshToken(t, 85*day, nil)
	r = h.run("", "token")
	if r.code != 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "in 5 days") || !strings.Contains(r.stderr, "reauth --non-interactive") {
		t.Errorf("token with 5 days left: exit %d, stderr %q", r.code, r.stderr)
	}
	if r.stdout != loadRecord(t, "default").AccessToken+"\n" {
		t.Errorf("stdout is not the token alone")
	}

	// A reauth that cannot refresh for now says it too.
	h.srv.FailTokenRequests(100, 503, 0)
	r = h.run("", "reauth", "--non-interactive")
	if r.code != 1 || !strings.Contains(r.stderr, "in 5 days") {
		t.Errorf("failing reauth with 5 days left: exit %d, stderr %q", r.code, r.stderr)
	}
	h.srv.FailTokenRequests(0, 0, 0)

	// A refresh restarts the clock: nothing to tell.
	ageRefreshToken(t, 85*day, renewalDue)
	if r := h.run("", "token"); r.code != 0 || r.stderr != "" {
		t.Errorf("token that refreshed: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := h.run("", "reauth", "--non-interactive"); r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Errorf("reauth that refreshed: exit %d, stderr %q", r.code, r.stderr)
	}
	if st, _ := h.status(); st["refresh_token_days_left"] != float64(90) || st["warnings"] != nil {
		t.Errorf("after a refresh: %v", st)
	}
}
