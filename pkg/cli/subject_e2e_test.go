package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// TestRefreshForAnotherSubjectIsRefused: a refresh answered with an ID token
// for another sub (and email, as Dex sent it) must not turn the profile into
// another account (OpenID Connect Core 12.2). A record without sub, as
// older versions wrote, learns it at its next refresh.
func TestRefreshForAnotherSubjectIsRefused(t *testing.T) {
	h := linked(t, time.Hour)
	editRecord(t, nil, "default", func(rec *store.Record) { rec.Subject = "" }) // as an older version wrote it
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Fatalf("token: exit %d: %s", r.code, r.stderr)
	}
	old := loadRecord(t, "default")
	if old.Subject == "" {
		t.Fatal("the refresh did not keep the ID token's sub in the record")
	}
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"another sub and email, no oid (Dex)", func(c map[string]any) {
			c["sub"], c["email"], c["preferred_username"] = "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs", "mallory@example.org", "mallory@example.org"
			delete(c, "oid")
		}},
		{"another oid", func(c map[string]any) { c["oid"] = "99999999-8888-7777-6666-555555555555" }},
	} {
		h.srv.EditIDTokens(tt.edit)
		dueForRenewal(t, nil)
		r := h.run("", "token", "--margin", "2h")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "another account") || !strings.Contains(r.stderr, "ms365auth link") {
			t.Errorf("%s: token exit %d, want a refusal naming another account and the fix:\n%s", tt.name, r.code, r.stderr)
		}
		rec := loadRecord(t, "default")
		if rec.RefreshToken != old.RefreshToken || rec.Account != old.Account || rec.Subject != old.Subject || rec.NeedsReauth {
			t.Errorf("%s: the record changed: account %q, sub %q", tt.name, rec.Account, rec.Subject)
		}
	}
	h.srv.EditIDTokens(nil)
	dueForRenewal(t, nil)
	if r := h.run("", "token", "--margin", "2h"); r.code != 0 {
		t.Errorf("token with the linked account's ID tokens: exit %d: %s", r.code, r.stderr)
	}
}
