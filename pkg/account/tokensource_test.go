package account

import (
	"strings"
	"testing"
	"time"
)

// TestTokenSource: one run's requests share a token; a refused token is
// renewed, and its warnings are passed on.
func TestTokenSource(t *testing.T) {
	f := newFixture(t)
	f.link("work", f.keyring)
	var warnings []string
	src := f.svc.TokenSource("work", TokenRequest{Margin: time.Minute}, func(w string) { warnings = append(warnings, w) })
	first, err := src(ctx, false)
	if err != nil || first == "" {
		t.Fatalf("first: %q %v", first, err)
	}
	requests := f.srv.Stats().TokenRequests
	if again, err := src(ctx, false); again != first || err != nil || f.srv.Stats().TokenRequests != requests {
		t.Errorf("a second ask was not served the same token without asking Entra: %v", err)
	}
	renewed, err := src(ctx, true)
	if err != nil || renewed == first || f.srv.Stats().Refreshes != 1 {
		t.Errorf("renew: %v, %d refreshes", err, f.srv.Stats().Refreshes)
	}
	if again, _ := src(ctx, false); again != renewed {
		t.Error("the renewed token is not the one shared")
	}
	// A token that could not be renewed but still works is served, with
	// warnings that say so, through warn.
	rec := f.stored(f.keyring, "work")
	rec.IssuedAt = f.clock().Add(-time.Hour)
	f.keyring.Save("work", rec)
	rec = f.expireIn(f.keyring, "work", time.Minute)
	f.srv.FailTokenRequests(maxAttempts, 503, 0)
	src = f.svc.TokenSource("work", TokenRequest{Margin: 5 * time.Minute}, func(w string) { warnings = append(warnings, w) })
	if got, err := src(ctx, false); err != nil || got != rec.AccessToken {
		t.Fatalf("a working token: %v", err)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[1], "using the current token") {
		t.Errorf("warnings %q", warnings)
	}
}
