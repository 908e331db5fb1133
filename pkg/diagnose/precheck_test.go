package diagnose

import (
	"context"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/profile"
)

// TestBeforeSignIn: link stops before anyone signs in only for answers
// that mean the registration cannot work, whoever signs in.
func TestBeforeSignIn(t *testing.T) {
	f := newFixture(t)
	p, err := f.merge(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := BeforeSignIn(context.Background(), f.env, p); err != nil {
		t.Errorf("registered: %v", err)
	}
	bad := *p
	bad.RedirectURI = "http://localhost/not/registered"
	err = BeforeSignIn(context.Background(), f.env, &bad)
	if err == nil || !strings.Contains(err.Error(), "AADSTS50011") || !strings.Contains(err.Error(), "--no-check skips it") {
		t.Errorf("unregistered redirect URI: %v", err)
	}
	// A device code sign-in is not checked: its first request meets the
	// same errors.
	bad.Method = profile.MethodDevice
	if err := BeforeSignIn(context.Background(), f.env, &bad); err != nil {
		t.Errorf("device code: %v", err)
	}
	// No answer is no reason to stop.
	gone := *p
	gone.AuthorityHost = "http://127.0.0.1:1"
	if err := BeforeSignIn(context.Background(), f.env, &gone); err != nil {
		t.Errorf("unreachable: %v", err)
	}
}
