package cli

import (
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/account"
)

// TestStoreTextNamesAWriteThatWorks: a plain record with a passphrase set is
// encrypted by its next write; the command named must be one that writes,
// which for the sandbox, whose stand-in has ended, is a new link.
func TestStoreTextNamesAWriteThatWorks(t *testing.T) {
	plain := false
	for _, c := range []struct {
		s    account.Status
		want string
	}{
		{account.Status{Profile: "work", Store: "file", Encrypted: &plain, PassphraseSet: true}, "ms365auth reauth --profile work)"},
		{account.Status{Profile: "sandbox", Sandbox: true, Store: "file", Encrypted: &plain, PassphraseSet: true}, "ms365auth link --sandbox)"},
	} {
		if got := storeText(c.s); !strings.HasSuffix(got, c.want) {
			t.Errorf("storeText(%s) = %q, want it to end with %q", c.s.Profile, got, c.want)
		}
	}
}
