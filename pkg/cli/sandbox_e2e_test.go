package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// TestSandboxEnded: after link --sandbox has ended, renewing the sandbox
// profile says so and how to start it again, instead of promising that a
// later try may work.
func TestSandboxEnded(t *testing.T) {
	h := newHarness(t)
	if r := h.run("\n", "link", "--sandbox", "--no-browser"); r.code != 0 {
		t.Fatalf("sandbox exit %d:\n%s", r.code, r.stderr)
	}
	ended := func(what string, r result) {
		t.Helper()
		if r.code != 3 || !strings.Contains(r.stderr, "sandbox has ended") || !strings.Contains(r.stderr, "ms365auth link --sandbox") || strings.Contains(r.stderr, "temporary") {
			t.Errorf("%s: exit %d:\n%s", what, r.code, r.stderr)
		}
	}
	ended("reauth", h.run("", "reauth", "-p", "sandbox"))
	ended("reauth --non-interactive", h.run("", "reauth", "-p", "sandbox", "--non-interactive"))
	// The cron notification can be rehearsed on the sandbox (issue 22).
	notified := filepath.Join(t.TempDir(), "notified")
	r := h.run("", "reauth", "-p", "sandbox", "--non-interactive", "--notify-cmd", `printf '%s|%s|%s' "$MS365AUTH_PROFILE" "$MS365AUTH_MESSAGE" "$MS365AUTH_SIGNIN_URL" > `+notified)
	ended("reauth --non-interactive --notify-cmd", r)
	if got, err := os.ReadFile(notified); err != nil || !strings.HasPrefix(string(got), "sandbox|") || !strings.Contains(string(got), "sandbox has ended") ||
		!strings.HasSuffix(string(got), "Run: ms365auth link --sandbox|") {
		t.Errorf("--notify-cmd on the sandbox: %v %q", err, got)
	}

	editRecord(t, nil, "sandbox", func(rec *store.Record) { rec.Expiry = time.Now().Add(-time.Minute) })
	ended("token", h.run("", "token", "-p", "sandbox"))
	st, r := h.status("-p", "sandbox")
	if r.code != 3 || st["state"] != "needs_reauth" || !strings.Contains(st["reason"].(string), "sandbox has ended") {
		t.Errorf("status exit %d: %v", r.code, st)
	}
	if st["fix"] != "ms365auth link --sandbox" {
		t.Errorf("status fix %q, want ms365auth link --sandbox", st["fix"])
	}
	if text := h.run("", "status", "-p", "sandbox"); !strings.Contains(lineWith(text.stdout, "fix:"), "ms365auth link --sandbox") {
		t.Errorf("status text:\n%s", text.stdout)
	}
}
