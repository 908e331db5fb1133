package cli_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// TestFileStoreSaysWhetherItEncrypts: status (text and JSON) and doctor
// say whether the file store keeps the profile's tokens encrypted.
func TestFileStoreSaysWhetherItEncrypts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		passphrase string
		encrypted  bool
		text       string
		doctor     string
	}{
		{"plain", "", false, "file, not encrypted", "warn"},
		{"encrypted", "orchid lantern basalt ninety", true, "file, encrypted", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.useFileStore(tc.passphrase)
			if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
				t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
			}
			st, r := h.status()
			if r.code != 0 || st["store"] != "file" || st["encrypted"] != tc.encrypted {
				t.Errorf("status exit %d: store %v, encrypted %v", r.code, st["store"], st["encrypted"])
			}
			if text := h.run("", "status"); !strings.Contains(text.stdout, tc.text) {
				t.Errorf("status text lacks %q:\n%s", tc.text, text.stdout)
			}
			_, c, _ := h.doctor()
			if c["store.encryption"].Status != tc.doctor || c["store.record"].Status != "ok" {
				t.Errorf("doctor: encryption %+v, record %+v", c["store.encryption"], c["store.record"])
			}
		})
	}
}

// TestUnreadableProfileIsLinked: an encrypted record that cannot be
// opened here is still linked; status and doctor say why and what to do.
func TestUnreadableProfileIsLinked(t *testing.T) {
	h := newHarness(t)
	h.useFileStore("orchid lantern basalt ninety")
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	if _, c, r := h.doctor(); r.code != 0 || c["store.record"].Status != "ok" {
		t.Fatalf("doctor with the right passphrase: exit %d, %+v", r.code, c["store.record"])
	}
	for _, tc := range []struct{ name, passphrase, cause string }{
		{"wrong passphrase", "not the passphrase", "wrong passphrase"},
		{"no passphrase", "", "is encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h2 := *h
			h2.env = slices.Concat(h.env, []string{store.EnvPassphrase + "=" + tc.passphrase})
			h2.t = t
			st, r := h2.status()
			if r.code != 1 || st["linked"] != true || st["state"] != "unreadable" || st["encrypted"] != true {
				t.Errorf("status exit %d: %v", r.code, st)
			}
			if reason, _ := st["reason"].(string); !strings.Contains(reason, tc.cause) {
				t.Errorf("reason %q lacks %q", reason, tc.cause)
			}
			if fix, _ := st["fix"].(string); !strings.Contains(fix, store.EnvPassphrase) || !strings.Contains(fix, "ms365auth link") {
				t.Errorf("fix %q", fix)
			}
			text := h2.run("", "status")
			if text.code != 1 || !strings.Contains(text.stdout, "unreadable") || !strings.Contains(text.stdout, "fix:") || strings.Contains(text.stdout, "not linked") {
				t.Errorf("status text (exit %d):\n%s", text.code, text.stdout)
			}
			rep, c, r := h2.doctor()
			if r.code != 1 || rep.OK || c["store.record"].Status != "fail" || !strings.Contains(c["store.record"].Fix, store.EnvPassphrase) {
				t.Errorf("doctor exit %d: %+v", r.code, c["store.record"])
			}
		})
	}
}
