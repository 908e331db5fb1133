package cli

import (
	"slices"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/manual"
)

func TestShellQuote(t *testing.T) {
	cases := map[string]string{
		"--client-id":                    "--client-id",
		"calendar,mail-send":             "calendar,mail-send",
		"http://localhost/api/ms365auth": "http://localhost/api/ms365auth",
		"calendar mail":                  "'calendar mail'",
		"":                               "''",
		"it's":                           `'it'\''s'`,
		"$HOME":                          "'$HOME'",
	}
	for in, want := range cases {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestExitStatusesMatchTheManual: the exit statuses the help, the man
// pages and the README document are the ones Run returns.
func TestExitStatusesMatchTheManual(t *testing.T) {
	var documented []int
	for _, s := range manual.ExitStatuses {
		documented = append(documented, s.Code)
	}
	if want := []int{ExitOK, ExitError, ExitSignIn}; !slices.Equal(documented, want) {
		t.Errorf("the manual documents exit statuses %v, the program has %v", documented, want)
	}
}
