package cli_test

// A newcomer's walkthrough: the messages along the way must point to the
// step that works where the person is.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// withFailingOpener puts an xdg-open first on PATH that fails as the real
// one does on a machine without a browser (exit status 3), and unsets
// BROWSER, so that the CLI's real opening path meets it.
func (h *harness) withFailingOpener(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n# Stands in for xdg-open with no browser to open.\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = append(h.env, "BROWSER=", "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestNoBrowserAdviceFitsTheMethod: when no browser opens, the advice says
// where the link can be opened: any device for the primary method, this
// machine for the loopback listener and the sandbox; never the opener's
// exit status.
func TestNoBrowserAdviceFitsTheMethod(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "http://localhost/api/ms365auth", Platform: entrasim.MobileDesktop})
	h.withFailingOpener(t)
	cases := []struct {
		name, stdin string
		args        []string
		want        []string
		wantNot     []string
	}{
		{"primary", "", []string{"link", "--no-check", "--client-id", testClientID}, // only the alt redirect is registered
			[]string{"Could not open a browser: open the link above on any device, or sign in with a code instead: ms365auth link --device --client-id " + testClientID + "."},
			[]string{"on this machine"}},
		{"alt", "", []string{"link", "--alt", "--client-id", testClientID, "--timeout", "300ms"},
			[]string{"Open this link in a browser on this machine,", "Could not open a browser: open the link above in a browser on this machine, or"},
			[]string{"any device"}},
		{"sandbox without a terminal", "\n", []string{"link", "--sandbox"},
			[]string{"Open this link in a browser on this machine,", "Could not open a browser: open the link above in a browser on this machine, or run ms365auth link --sandbox on a terminal"},
			[]string{"any device"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.run(c.stdin, c.args...)
			for _, want := range c.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			for _, not := range append(c.wantNot, "exit status") {
				if strings.Contains(r.stderr, not) {
					t.Errorf("stderr has %q:\n%s", not, r.stderr)
				}
			}
		})
	}
}

// TestSandboxOnASmallTerminal runs the sandbox as a newcomer would, on an
// 80×24 terminal with no browser: one line says what to do there (press
// Enter), and besides the sign-in link, which stays whole for copying,
// everything fits on the screen: the returned URL is abbreviated.
func TestSandboxOnASmallTerminal(t *testing.T) {
	h := newHarness(t)
	h.withFailingOpener(t)
	term := h.onTerminal(t, "link", "--sandbox")
	if err := pty.Setsize(term.tty, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	term.waitFor("paste it here and press Enter:")
	term.typeLine("")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, term.transcript())
	}
	out := term.transcript()
	if n := strings.Count(out, "empty line"); n != 1 {
		t.Errorf("the advice to press Enter on an empty line is given %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "Could not open a browser: press Enter on an empty line and the sandbox plays the browser.") {
		t.Errorf("no short advice where no browser opened:\n%s", out)
	}
	// Rows on an 80-column screen, the terminal wrapping long lines.
	link, rows := term.linkLine(), 0
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line != link {
			rows += max(1, (len([]rune(line))+79)/80)
		}
	}
	if rows > 24 {
		t.Errorf("the sandbox's messages take %d rows of an 80×24 screen:\n%s", rows, out)
	}
	if !strings.Contains(out, "Linked adele") {
		t.Errorf("not linked:\n%s", out)
	}
}

// TestReauthNewScopesUnattended: an unattended reauth that must add scopes
// advises the command that adds them, not a plain reauth (which would
// refresh silently and add nothing).
func TestReauthNewScopesUnattended(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID, "--profile", "work"); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	r := h.run("", "reauth", "--profile", "work", "--scopes", "mail-send", "--non-interactive")
	if r.code != 3 || !strings.Contains(r.stderr, "run: ms365auth reauth --profile work --scopes 'mail-send'") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

// TestLogoutOfAProfileNeverLinked: a typo in the profile name must not
// claim success while the real tokens stay.
func TestLogoutOfAProfileNeverLinked(t *testing.T) {
	h := newHarness(t)
	r := h.run("", "logout", "--profile", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, `profile "nosuch": nothing is linked`) || strings.Contains(r.stderr, "Logged out") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

// TestLogoutWithoutAKeyring: the keyring's trouble is told once, with the
// fixes that reach the tokens in it (keeping new ones in files does not).
func TestLogoutWithoutAKeyring(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-such-bus"))
	r := h.run("", "logout")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if n := strings.Count(r.stderr, "the OS keyring is unavailable"); n != 1 {
		t.Errorf("the keyring's trouble is told %d times:\n%s", n, r.stderr)
	}
	if strings.Contains(r.stderr, "--store file") {
		t.Errorf("logout suggests keeping tokens in files:\n%s", r.stderr)
	}
}

// TestLinkAsksAgainAfterABadPaste: on a terminal, a paste that another
// paste can fix is explained and asked for again, so the person need not
// sign in again; the third bad paste ends with the command to start over.
func TestLinkAsksAgainAfterABadPaste(t *testing.T) {
	h := newHarness(t)
	t.Run("fixed on the third try", func(t *testing.T) {
		term := h.onTerminal(t, "link", "--no-browser", "--client-id", testClientID)
		term.waitFor("paste it here and press Enter:")
		term.typeLine("hello")
		term.waitFor("Paste the URL again (try 2 of 3")
		term.typeLine(term.linkLine())
		term.waitFor("Paste the URL again (try 3 of 3")
		term.typeLine(h.signIn(term.linkLine()))
		if code := term.wait(); code != 0 {
			t.Fatalf("exit %d:\n%s", code, term.transcript())
		}
		out := term.transcript()
		for _, want := range []string{"that is not a URL", "the sign-in link itself", "Linked adele"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q:\n%s", want, out)
			}
		}
	})
	t.Run("given up", func(t *testing.T) {
		term := h.onTerminal(t, "link", "--no-browser", "--client-id", testClientID, "--profile", "work")
		term.waitFor("paste it here and press Enter:")
		term.typeLine("hello")
		term.waitFor("try 2 of 3")
		term.typeLine("https://login.microsoftonline.com/common/oauth2/nativeclient?code=x&state=y")
		term.waitFor("try 3 of 3")
		term.typeLine("hello again")
		if code := term.wait(); code != 1 {
			t.Fatalf("exit %d:\n%s", code, term.transcript())
		}
		want := "start the sign-in again with: ms365auth link --no-browser --client-id " + testClientID + " --profile work"
		if !strings.Contains(term.transcript(), want) {
			t.Errorf("no %q:\n%s", want, term.transcript())
		}
	})
}

// TestRelinkAsksFirstOnATerminal: linking a profile that is linked asks
// before replacing it; "no" keeps the tokens. --force, or a script (no
// terminal), goes on without asking.
func TestRelinkAsksFirstOnATerminal(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("first link: %s", r.stderr)
	}
	before := loadRecord(t, "default")

	term := h.onTerminal(t, "link", "--no-browser")
	term.waitFor(`Profile "default" is already linked to adele`)
	term.waitFor("[y/N] ")
	term.typeLine("n")
	if code := term.wait(); code != 0 || !strings.Contains(term.transcript(), "Nothing was changed") {
		t.Fatalf("declined: exit %d:\n%s", code, term.transcript())
	}
	if after := loadRecord(t, "default"); after.RefreshToken != before.RefreshToken {
		t.Errorf("declining replaced the tokens")
	}

	term = h.onTerminal(t, "link", "--no-browser")
	term.waitFor("[y/N] ")
	term.typeLine("y")
	term.waitFor("paste it here and press Enter:")
	term.typeLine(h.signIn(term.linkLine()))
	if code := term.wait(); code != 0 || !strings.Contains(term.transcript(), "Linked adele") {
		t.Fatalf("accepted: exit %d:\n%s", code, term.transcript())
	}

	term = h.onTerminal(t, "link", "--no-browser", "--force")
	term.waitFor("paste it here and press Enter:")
	term.typeLine(h.signIn(term.linkLine()))
	if code := term.wait(); code != 0 || strings.Contains(term.transcript(), "[y/N]") {
		t.Fatalf("--force: exit %d:\n%s", code, term.transcript())
	}

	if r := h.link(h.signIn); r.code != 0 || strings.Contains(r.stderr, "[y/N]") {
		t.Errorf("without a terminal: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestDocumentedNotificationsCarryTheLink runs every --notify-cmd the
// README, the recipes and "reauth --help" show, with notify-send and mail
// that record what they were given: the notification must hold the
// sign-in link its message tells the person to open.
func TestDocumentedNotificationsCarryTheLink(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	help := h.run("", "reauth", "--help")
	texts := map[string]string{"reauth --help": help.stdout}
	for _, f := range []string{"README.md", "docs/recipes.md"} {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(data)
	}
	bin := t.TempDir()
	notified := filepath.Join(t.TempDir(), "notified")
	recorder := "#!/bin/sh\n# Records a notification instead of showing or sending it.\n{ printf '%s\\n' \"$*\"; cat; } >> \"$NOTIFIED\"\n"
	for _, name := range []string{"notify-send", "mail", "curl"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(recorder), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.env = append(h.env, "NOTIFIED="+notified, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	notifyCmd := regexp.MustCompile(`--notify-cmd '([^']*)'`)
	found := 0
	for where, text := range texts {
		for _, m := range notifyCmd.FindAllStringSubmatch(text, -1) {
			found++
			command := strings.ReplaceAll(m[1], "$$", "$") // systemd's escape
			os.Remove(notified)
			// New scopes need a person: the notification goes out.
			r := h.run("", "reauth", "--non-interactive", "--scopes", "mail-send", "--notify-cmd", command)
			if r.code != 3 {
				t.Fatalf("%s: %s: exit %d:\n%s", where, command, r.code, r.stderr)
			}
			got, err := os.ReadFile(notified)
			if err != nil {
				t.Fatalf("%s: %s notified nothing: %v\n%s", where, command, err, r.stderr)
			}
			if !strings.Contains(string(got), h.srv.URL+"/common/oauth2/v2.0/authorize?") {
				t.Errorf("%s: %s: the notification lacks the sign-in link:\n%s", where, command, got)
			}
		}
	}
	if found < 3 {
		t.Errorf("found %d documented --notify-cmd, want the README's, the recipes' and the help's", found)
	}
}
