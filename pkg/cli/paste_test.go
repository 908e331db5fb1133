package cli

import "testing"

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
