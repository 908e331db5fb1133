package entrasim_test

import (
	"context"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// TestSandboxSignsInItsApp: the sandbox's app signs in with its redirect
// URI, and with no other.
func TestSandboxSignsInItsApp(t *testing.T) {
	s, err := entrasim.NewSandbox()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := config(s, "common", entrasim.SandboxClientID, s.SandboxRedirectURI(), "openid", "offline_access", "User.Read")
	if tok := login(t, s, cfg); tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens: %+v", tok)
	}
	other := config(s, "common", entrasim.SandboxClientID, entrasim.NativeClientRedirectURI, "User.Read")
	if _, err := s.Authorize(context.Background(), other.AuthCodeURL("state")); err == nil {
		t.Error("the sandbox's app was sent back to Microsoft's page")
	}
}
