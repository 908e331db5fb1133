package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLinkChecksTheRegistrationFirst: an app registration that cannot
// work stops link with doctor's fix before any browser opens or link is
// shown; --no-check goes straight to the sign-in.
func TestLinkChecksTheRegistrationFirst(t *testing.T) {
	h := newHarness(t)
	// A browser that only notes that it was opened.
	opened := filepath.Join(t.TempDir(), "opened")
	browser := filepath.Join(t.TempDir(), "browser")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\necho \"$1\" > "+opened+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.env = append(h.env, "BROWSER="+browser)
	const unknownApp = "11111111-2222-4333-8444-555555555555"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown client ID", []string{"--client-id", unknownApp}, "AADSTS700016"},
		{"unregistered redirect URI", []string{"--client-id", testClientID, "--redirect-uri", "http://localhost/not/registered"}, "AADSTS50011"},
		{"unknown tenant", []string{"--client-id", testClientID, "--tenant", "nowhere.example"}, "AADSTS90002"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.run("", append([]string{"link"}, c.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "fix:") || !strings.Contains(r.stderr, "--no-check") {
				t.Errorf("exit %d:\n%s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "Open this link") {
				t.Errorf("the sign-in link was shown:\n%s", r.stderr)
			}
			if _, err := os.Stat(opened); err == nil {
				t.Errorf("a browser was opened")
			}
			if r := h.run("", append([]string{"link", "--print-link"}, c.args...)...); r.code != 1 || r.stdout != "" {
				t.Errorf("--print-link: exit %d, stdout %q", r.code, r.stdout)
			}
		})
	}

	r := h.run("", "link", "--no-check", "--client-id", unknownApp)
	if !strings.Contains(r.stderr, "Open this link") {
		t.Errorf("--no-check did not go on to the sign-in:\n%s", r.stderr)
	}
}

// TestLinkCheckGivesUpOnASlowNetwork: an authority that never answers
// delays link by the check's bound, and then the sign-in goes on.
func TestLinkCheckGivesUpOnASlowNetwork(t *testing.T) {
	h := newHarness(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() { // accepts, reads nothing, answers nothing
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	h.env = append(h.env, "MS365AUTH_AUTHORITY_HOST=http://"+silent.Addr().String())
	r := h.runBounded(t, 8*time.Second, "", "link", "--print-link", "--client-id", testClientID)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "http://"+silent.Addr().String()) {
		t.Errorf("exit %d, stdout %q:\n%s", r.code, r.stdout, r.stderr)
	}
}
