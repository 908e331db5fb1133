package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// TestPrintLinkRefusesASecret: a client secret given to --print-link
// would be dropped, and the second run would fail with AADSTS7000218; it
// is refused, saying where it goes. Given to the second run, it works.
func TestPrintLinkRefusesASecret(t *testing.T) {
	h := newHarness(t)
	const web = "http://localhost/api/ms365auth"
	const clientID = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	const secret = "pr1nt~link.secret-for-tests"
	h.srv.AddApp(entrasim.App{
		ClientID: clientID, MultiTenant: true,
		Redirects: []entrasim.Redirect{{URI: web, Platform: entrasim.Web}},
		Secrets:   []entrasim.Secret{{ID: "c0c0c0c0-0000-4000-8000-000000000003", Value: secret}},
	})
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := []string{"link", "--print-link", "--profile", "work", "--client-id", clientID, "--redirect-uri", web}
	withEnv := *h
	withEnv.env = append(slices.Clone(h.env), "MS365AUTH_CLIENT_SECRET="+secret)
	for name, r := range map[string]result{
		"--client-secret-file":    h.run("", append(start, "--client-secret-file", secretFile)...),
		"MS365AUTH_CLIENT_SECRET": withEnv.run("", start...),
	} {
		if r.code != 1 || !strings.Contains(r.stderr, "--returned-url") || !strings.Contains(r.stderr, "MS365AUTH_CLIENT_SECRET") || r.stdout != "" {
			t.Errorf("%s: exit %d:\n%s", name, r.code, r.stderr)
		}
		if strings.Contains(r.all(), secret) {
			t.Errorf("%s: the secret was printed", name)
		}
	}

	r := h.run("", start...)
	if r.code != 0 {
		t.Fatalf("--print-link without a secret: exit %d:\n%s", r.code, r.stderr)
	}
	returned := h.signIn(strings.TrimSpace(r.stdout))
	if r := withEnv.run("", "link", "--profile", "work", "--returned-url", returned); r.code != 0 {
		t.Fatalf("--returned-url with the secret: exit %d:\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { store.NewKeyring().DeleteSecret("work") })
}
