package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/account"
)

func TestRoughly(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", 59*time.Minute + 59*time.Second: "59m", time.Hour: "1h",
		time.Hour + 30*time.Second: "1h", 75 * time.Minute: "1h 15m", 26 * time.Hour: "26h",
	} {
		if got := roughly(d); got != want {
			t.Errorf("roughly(%v) = %q, want %q", d, got, want)
		}
	}
}

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
