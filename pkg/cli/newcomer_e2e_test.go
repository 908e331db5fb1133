package cli_test

// A newcomer follows the commands the tool prints, as printed: each test
// here makes the tool suggest one (the harness checks every suggestion,
// see suggestions_e2e_test.go), then runs it and gets further.

import (
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// suggestionAfter is the command printed after marker in out, up to the
// end of its line.
func suggestionAfter(t *testing.T, out, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, marker)
	if !ok {
		t.Fatalf("no %q in:\n%s", marker, out)
	}
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
}

// argsOf splits a printed command into its arguments after "ms365auth";
// single quotes group.
func argsOf(t *testing.T, command string) []string {
	t.Helper()
	words := splitWords(strings.TrimPrefix(command, "ms365auth "))
	if !strings.HasPrefix(command, "ms365auth ") || len(words) == 0 {
		t.Fatalf("not a command: %q", command)
	}
	return words
}

// Item 1: with no Secret Service, the sandbox's way out names the whole
// command, --sandbox included, and it works.
func TestSandboxWithoutKeyringOffersTheFileStore(t *testing.T) {
	h := newHarness(t)
	h.withoutBus(t)
	r := h.run("\n", "link", "--sandbox", "--no-browser")
	if r.code != 1 || !strings.Contains(r.stderr, "the OS keyring is unavailable") {
		t.Fatalf("exit %d, want 1 with the keyring unavailable:\n%s", r.code, r.stderr)
	}
	command := suggestionAfter(t, r.stderr, "keep the tokens in a file instead: ")
	command, _, _ = strings.Cut(command, " (or ")
	if want := "ms365auth link --sandbox --no-browser --store file"; command != want {
		t.Errorf("the way out is %q, want %q", command, want)
	}
	again := h.run("\n", argsOf(t, command)...)
	if again.code != 0 {
		t.Fatalf("%s: exit %d:\n%s", command, again.code, again.stderr)
	}
	if st, _ := h.status("--profile", "sandbox"); st["state"] != "valid" || st["store"] != "file" {
		t.Errorf("after %s: %v", command, st)
	}
}

// Item 2: the sandbox profile in the file store is linked again there, as
// any profile is, so the command token and status print runs without a
// keyring.
func TestSandboxRemembersTheFileStore(t *testing.T) {
	h := newHarness(t)
	h.withoutBus(t)
	if r := h.run("\n", "link", "--sandbox", "--no-browser", "--store", "file"); r.code != 0 {
		t.Fatalf("link --sandbox --store file: exit %d:\n%s", r.code, r.stderr)
	}
	editRecord(t, h.fileStore(t), "sandbox", func(rec *store.Record) { rec.Expiry = time.Now().Add(-time.Minute) })
	for _, args := range [][]string{{"token", "--profile", "sandbox"}, {"reauth", "--profile", "sandbox"}} {
		r := h.run("", args...)
		if r.code != 3 {
			t.Fatalf("%v: exit %d, want 3:\n%s", args, r.code, r.stderr)
		}
		command := suggestionAfter(t, r.stderr, "run: ")
		again := h.run("\n", append(argsOf(t, command), "--no-browser")...)
		if again.code != 0 {
			t.Fatalf("%v suggested %q, which fails: exit %d:\n%s", args, command, again.code, again.stderr)
		}
	}
	if st, _ := h.status("--profile", "sandbox"); st["state"] != "valid" || st["store"] != "file" {
		t.Errorf("after linking again: %v", st)
	}
}

// Item 3: a first link that cannot read a URL offers the device code with
// everything the profile does not remember yet.
func TestFirstLinkOffersDeviceCodeWithItsSettings(t *testing.T) {
	h := newHarness(t)
	r := h.run("", "link", "--profile", "x", "--client-id", testClientID, "--store", "file", "--no-browser")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	command := suggestionAfter(t, r.stderr, "sign in with a code instead: ")
	if want := "ms365auth link --profile x --device --client-id " + testClientID + " --store file"; command != want {
		t.Errorf("suggested %q, want %q", command, want)
	}
}

// Item 4: during reauth --scopes, the device code way out keeps the new
// scopes and does not ask whether to replace the profile being renewed.
func TestReauthScopesOffersDeviceCodeWithTheNewScopes(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: exit %d:\n%s", r.code, r.stderr)
	}
	term := h.onTerminal(t, "reauth", "--profile", "work", "--scopes", "calendar,mail-send", "--no-browser")
	term.waitFor("press Enter")
	term.typeLine("")
	if code := term.wait(); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, term.transcript())
	}
	command := suggestionAfter(t, term.transcript(), "sign in with a code instead: ")
	for _, want := range []string{"--profile work", "--device", "Calendars.Read", "Mail.Send", "--force"} {
		if !strings.Contains(command, want) {
			t.Errorf("suggested %q, which lacks %s", command, want)
		}
	}
}

// Item 5: inside the sandbox, a URL from another attempt is answered with
// the sandbox's own command.
func TestSandboxWrongStateNamesTheSandbox(t *testing.T) {
	h := newHarness(t)
	r := h.link(func(link string) string {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("redirect_uri") + "?code=abc&state=from-another-attempt"
	}, "--sandbox")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "run `ms365auth link --no-browser --sandbox` again") {
		t.Errorf("the fix does not name the sandbox's command:\n%s", r.stderr)
	}
}

// Item 6: the sandbox's refresh-token warning offers what the ended
// sandbox can do: rehearse again, not reauth.
func TestSandboxRefreshTokenWarningOffersLink(t *testing.T) {
	h := newHarness(t)
	if r := h.run("\n", "link", "--sandbox", "--no-browser"); r.code != 0 {
		t.Fatalf("link --sandbox: exit %d:\n%s", r.code, r.stderr)
	}
	editRecord(t, nil, "sandbox", func(rec *store.Record) {
		rec.LinkedAt = time.Now().Add(-85 * 24 * time.Hour)
		rec.LastRefreshAt = rec.LinkedAt
	})
	for _, args := range [][]string{{"token", "--profile", "sandbox"}, {"status", "--profile", "sandbox"}} {
		r := h.run("", args...)
		if r.code != 0 || !strings.Contains(r.all(), "refresh token dies") {
			t.Fatalf("%v: exit %d, no warning:\n%s", args, r.code, r.stderr)
		}
		if strings.Contains(r.all(), "reauth") || !strings.Contains(r.all(), "ms365auth link --sandbox") {
			t.Errorf("%v: the warning should offer link --sandbox:\n%s", args, r.stderr)
		}
	}
}

// Item 7: link --sandbox over a linked sandbox asks first, as link does;
// without a terminal it goes ahead, as link does.
func TestSandboxAsksBeforeReplacing(t *testing.T) {
	h := newHarness(t)
	if r := h.run("\n", "link", "--sandbox", "--no-browser"); r.code != 0 {
		t.Fatalf("link --sandbox: exit %d:\n%s", r.code, r.stderr)
	}
	before := loadRecord(t, "sandbox")
	term := h.onTerminal(t, "link", "--sandbox", "--no-browser")
	term.waitFor("[y/N]")
	term.typeLine("n")
	if code := term.wait(); code != 0 || !strings.Contains(term.transcript(), "Nothing was changed") {
		t.Fatalf("answering n: exit %d:\n%s", code, term.transcript())
	}
	if strings.Contains(term.transcript(), "/oauth2/v2.0/authorize?") {
		t.Errorf("a sign-in started before the answer")
	}
	if after := loadRecord(t, "sandbox"); after.AccessToken != before.AccessToken {
		t.Errorf("answering n replaced the sandbox's tokens")
	}
	if r := h.run("\n", "link", "--sandbox", "--no-browser"); r.code != 0 || strings.Contains(r.stderr, "[y/N]") {
		t.Errorf("without a terminal: exit %d:\n%s", r.code, r.stderr)
	}
	if after := loadRecord(t, "sandbox"); after.AccessToken == before.AccessToken {
		t.Errorf("link --sandbox without a terminal did not replace the link")
	}
}

// Item 14: a second logout says the profile is not linked (exit 1, as for
// a profile never linked); with no bus, forgetting the settings of
// profiles whose tokens are gone works, since it needs no keyring.
func TestLogoutTwiceAndForgetWithoutABus(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"default", "work"} {
		if r := h.link(h.signIn, "--profile", name, "--client-id", testClientID); r.code != 0 {
			t.Fatalf("link %s: %s", name, r.stderr)
		}
	}
	if r := h.run("", "logout"); r.code != 0 || !strings.Contains(r.stderr, "Logged out") {
		t.Fatalf("logout: exit %d:\n%s", r.code, r.stderr)
	}
	r := h.run("", "logout")
	if r.code != 1 || !strings.Contains(r.stderr, "not linked") || strings.Contains(r.stderr, "Logged out") {
		t.Errorf("second logout: exit %d, want 1 saying it is not linked:\n%s", r.code, r.stderr)
	}
	if r := h.run("", "logout", "--all"); r.code != 0 || !strings.Contains(r.stderr, `"work"`) || strings.Contains(r.stderr, `"default"`) {
		t.Errorf("logout --all with one profile logged out already: exit %d:\n%s", r.code, r.stderr)
	}

	withBus := h.env
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-such-bus"))
	if r := h.run("", "logout", "--forget"); r.code != 0 {
		t.Errorf("logout --forget without a bus, tokens gone: exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.run("", "logout", "--all", "--forget"); r.code != 0 {
		t.Errorf("logout --all --forget without a bus, tokens gone: exit %d:\n%s", r.code, r.stderr)
	}
	if r := h.run("", "status", "--all", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("settings left: %s", r.stdout)
	}

	// Tokens still in the unreachable keyring: the settings go, and the
	// message says how to remove the tokens once it is back.
	h.env = withBus
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link work: %s", r.stderr)
	}
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-such-bus"))
	r = h.run("", "logout", "--profile", "work", "--forget")
	if r.code != 1 || !strings.Contains(r.stderr, "ms365auth logout --profile work") {
		t.Errorf("logout --forget, tokens in an unreachable keyring: exit %d:\n%s", r.code, r.stderr)
	}
	h.env = withBus
	if r := h.run("", "logout", "--profile", "work"); r.code != 0 {
		t.Errorf("removing the tokens left without settings: exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := store.NewKeyring().Load("work"); err != store.ErrNotFound {
		t.Errorf("the tokens stayed: %v", err)
	}
}

// Item 16: status --json gives every state but valid the command to run.
func TestStatusJSONGivesEveryStateItsFix(t *testing.T) {
	h := newHarness(t)
	want := func(what, state, fix string, args ...string) {
		t.Helper()
		st, _ := h.status(args...)
		if got, _ := st["fix"].(string); st["state"] != state || got != fix {
			t.Errorf("%s: state %v, fix %q; want %s, %q", what, st["state"], got, state, fix)
		}
	}
	want("never linked", "not_linked", "ms365auth link --profile work --client-id <application ID>", "--profile", "work")
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID); r.code != 0 {
		t.Fatalf("link: %s", r.stderr)
	}
	want("linked", "valid", "", "--profile", "work")
	editRecord(t, nil, "work", func(rec *store.Record) { rec.Expiry = time.Now().Add(-time.Minute) })
	want("expired", "expired", "ms365auth reauth --profile work", "--profile", "work")
	editRecord(t, nil, "work", func(rec *store.Record) { rec.NeedsReauth, rec.ReauthReason = true, "the refresh token was revoked" })
	want("needs a sign-in", "needs_reauth", "ms365auth reauth --profile work", "--profile", "work")
	if r := h.run("", "logout", "--profile", "work"); r.code != 0 {
		t.Fatalf("logout: %s", r.stderr)
	}
	want("logged out", "not_linked", "ms365auth link --profile work", "--profile", "work")
}

// Item 15: doctor takes --store as link does, and checks that store.
func TestDoctorTakesTheStoreAsLinkDoes(t *testing.T) {
	h := newHarness(t)
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-such-bus"))
	rep, checks, r := h.doctor("--store", "file", "--client-id", testClientID)
	if r.code != 0 || !rep.OK {
		t.Errorf("doctor --store file without a keyring: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if c := checks["store.roundtrip"]; c.Status != "ok" {
		t.Errorf("the file store's round trip: %+v", c)
	}
	if _, ok := checks["keyring.bus"]; ok && checks["keyring.bus"].Status == "fail" {
		t.Errorf("doctor --store file still checked the keyring: %+v", checks["keyring.bus"])
	}
}

// Item 17: a client ID that is not a GUID is refused before a browser
// opens at Microsoft's hosts, with the command to run; another server may
// give any form of client ID.
func TestLinkRefusesAClientIDThatIsNotAGUID(t *testing.T) {
	h := newHarness(t)
	for _, host := range []string{"https://login.microsoftonline.com", "https://login.microsoftonline.us"} {
		r := h.run("", "link", "--profile", "work", "--no-browser", "--authority-host", host, "--client-id", "nonsense-value")
		if r.code != 1 || !strings.Contains(r.stderr, "not a GUID") || strings.Contains(r.stderr, "/oauth2/v2.0/authorize?") {
			t.Errorf("%s: exit %d, want 1 refusing before any sign-in:\n%s", host, r.code, r.stderr)
		}
		want := "ms365auth link --profile work --no-browser --authority-host " + host + " --client-id <application ID>"
		if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "nonsense-value") {
			t.Errorf("%s: the fix should be %q, without the value:\n%s", host, want, r.stderr)
		}
	}
	// The stand-in is not Microsoft: its answer decides.
	r := h.run("", "link", "--no-browser", "--no-check", "--client-id", "nonsense-value")
	if strings.Contains(r.stderr, "not a GUID") || !strings.Contains(r.stderr, "/oauth2/v2.0/authorize?") {
		t.Errorf("another authority: exit %d:\n%s", r.code, r.stderr)
	}
}

// Item 18: a signal ends a command with the shell's status for it, 128
// plus its number: 130 for SIGINT (Ctrl-C), 143 for SIGTERM. The process
// is real, waiting for a returned URL on a pipe, and the signal is real.
func TestSignalExitStatuses(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		waiting := false
		r := h.sessionWith(h.env, func(line string, _ io.WriteCloser, cmd *exec.Cmd) {
			if !waiting && isSignInLink(line) {
				waiting = true
				cmd.Process.Signal(tt.sig)
			}
		}, "link", "--no-browser", "--client-id", testClientID)
		if !waiting || r.code != tt.want || !strings.Contains(r.stderr, "interrupted: nothing was changed") {
			t.Errorf("%v: exit %d, want %d:\n%s", tt.sig, r.code, tt.want, r.stderr)
		}
	}
	if _, err := store.NewKeyring().Load("default"); err != store.ErrNotFound {
		t.Errorf("an interrupted link stored tokens: %v", err)
	}
}
