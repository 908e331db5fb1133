package cli_test

// End-to-end tests: the real ms365auth binary, run as a separate process,
// against the Entra double (pkg/entrasim) on loopback and a real Secret
// Service (gnome-keyring on a private D-Bus session).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/keyringtest"
	"github.com/ms365auth/ms365auth/pkg/store"
)

const testClientID = "0f5b9a3e-6f0c-4c4e-9d47-1c2a3b4c5d6e"

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ms365auth-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ms365auth")
	build := exec.Command("go", "build", "-o", binary, "github.com/ms365auth/ms365auth/cmd/ms365auth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ms365auth:", err)
		os.Exit(1)
	}
	code := keyringtest.Run(m)
	reportSuggestions()
	os.RemoveAll(dir) // before os.Exit, which skips deferred calls
	os.Exit(code)
}

// TestMainLeavesNoTemporaryFiles runs this test binary again, with no
// tests, in a temporary directory of its own: TestMain's binary and the
// private keyring's files must be gone when it exits.
func TestMainLeavesNoTemporaryFiles(t *testing.T) {
	if os.Getenv("MS365AUTH_TESTMAIN_CHILD") != "" {
		t.Skip("inside the child run")
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "MS365AUTH_TESTMAIN_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the test binary without tests: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(tmp)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 0 {
		t.Errorf("left in TMPDIR: %q", left)
	}
}

// harness is one user's world: a config dir, a state dir, an Entra double.
type harness struct {
	t   testing.TB
	srv *entrasim.Server
	env []string
	cfg string
	dir string // the working directory of run; "": the test's
}

func newHarness(t *testing.T, redirects ...entrasim.Redirect) *harness {
	return newTBHarness(t, redirects...)
}

func newBenchHarness(b *testing.B) *harness {
	h := newTBHarness(b)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		b.Fatalf("link: %s", r.stderr)
	}
	return h
}

func newTBHarness(t testing.TB, redirects ...entrasim.Redirect) *harness {
	t.Helper()
	keyringtest.Require(t) // skips where no Secret Service can run, outside CI
	srv := entrasim.NewServer()
	t.Cleanup(srv.Close)
	if len(redirects) == 0 {
		redirects = []entrasim.Redirect{{URI: entrasim.NativeClientRedirectURI, Platform: entrasim.MobileDesktop}}
	}
	// Like ms365auth's own registration: work, school and personal accounts.
	srv.AddApp(entrasim.App{ClientID: testClientID, MultiTenant: true, PersonalAccounts: true, Redirects: redirects})
	home := t.TempDir()
	h := &harness{t: t, srv: srv, cfg: filepath.Join(home, "config")}
	h.env = append(os.Environ(),
		"XDG_CONFIG_HOME="+h.cfg,
		"XDG_STATE_HOME="+filepath.Join(home, "state"),
		"MS365AUTH_AUTHORITY_HOST="+srv.URL,
		"MS365AUTH_PROFILE=",
		"MS365AUTH_CLIENT_SECRET=",
		"BROWSER=",
		"NO_COLOR=1",
	)
	// Each test gets its own profile names in the shared keyring.
	t.Cleanup(func() {
		for _, p := range []string{"default", "work", "sandbox"} {
			store.NewKeyring().Delete(p)
		}
	})
	return h
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) all() string { return r.stdout + r.stderr }

// run runs the binary to completion with stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv, notified := recordingNotify(args, h.home())
	cmd := exec.CommandContext(ctx, binary, argv...)
	cmd.Env = append(slices.Clone(h.env), notified...)
	cmd.Dir = h.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	r := result{h.exitCode(args, cmd.Run(), errb.String()), out.String(), errb.String()}
	h.suggestionsOf(args, h.env, r, notified)
	return r
}

// suggestionsOf checks the commands run r suggested (checkSuggestions):
// in its messages, in status's and doctor's output, and in the message
// its --notify-cmd got.
func (h *harness) suggestionsOf(args, env []string, r result, notified []string) {
	h.t.Helper()
	texts := []string{r.stderr}
	if len(args) > 0 && (args[0] == "status" || args[0] == "doctor") {
		texts = append(texts, r.stdout)
	}
	if len(notified) > 0 {
		_, file, _ := strings.Cut(notified[0], "=")
		data, _ := os.ReadFile(file)
		texts = append(texts, string(data))
	}
	h.checkSuggestions(situation{args: args, env: env, code: r.code}, texts...)
}

// exitCode is the exit status of a finished run; any other failure to run
// ends the test.
func (h *harness) exitCode(args []string, err error, stderr string) int {
	h.t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		h.t.Fatalf("running %v: %v\n%s", args, err, stderr)
	}
	return 0
}

// link runs "ms365auth link ..." as a person would: it reads the sign-in
// link from stderr, hands it to respond (the browser and the person), and
// writes what respond returns on stdin.
func (h *harness) link(respond func(link string) string, args ...string) result {
	h.t.Helper()
	answered := false
	r := h.session(func(line string, stdin io.WriteCloser) {
		if !answered && isSignInLink(line) {
			answered = true
			io.WriteString(stdin, respond(line)+"\n")
			stdin.Close()
		}
	}, append([]string{"link", "--no-browser"}, args...)...)
	if !answered {
		h.t.Fatalf("link never printed a sign-in link:\n%s", r.stderr)
	}
	return r
}

// signIn is the browser: follow the link, sign in, return the address bar.
func (h *harness) signIn(link string) string {
	h.t.Helper()
	returned, err := h.srv.Authorize(context.Background(), link)
	if err != nil {
		h.t.Fatalf("signing in at the double: %v", err)
	}
	return returned
}

func (h *harness) status(args ...string) (map[string]any, result) {
	h.t.Helper()
	r := h.run("", append([]string{"status", "--json"}, args...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		h.t.Fatalf("status --json printed no JSON (%v):\n%s\n%s", err, r.stdout, r.stderr)
	}
	return m, r
}

func loadRecord(t *testing.T, profile string) *store.Record {
	t.Helper()
	rec, err := store.NewKeyring().Load(profile)
	if err != nil {
		t.Fatalf("loading %s from the keyring: %v", profile, err)
	}
	return rec
}

// editRecord rewrites profile's stored record with edit; st nil means the
// keyring.
func editRecord(t *testing.T, st store.Store, profile string, edit func(*store.Record)) {
	t.Helper()
	if st == nil {
		st = store.NewKeyring()
	}
	rec, err := st.Load(profile)
	if err != nil {
		t.Fatalf("loading %s from the %s store: %v", profile, st.Name(), err)
	}
	edit(rec)
	if err := st.Save(profile, rec); err != nil {
		t.Fatal(err)
	}
}

func assertNoTokens(t *testing.T, rec *store.Record, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, secret := range []string{rec.AccessToken, rec.RefreshToken} {
			if secret != "" && strings.Contains(out, secret[:40]) {
				t.Fatalf("output contains a token:\n%s", out)
			}
		}
	}
}

func TestLinkPrimaryMethod(t *testing.T) {
	h := newHarness(t)
	r := h.link(h.signIn, "--client-id", testClientID, "--scopes", "calendar, Mail.Read")
	if r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Linked adele", "Granted:", "Calendars.Read"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("link output lacks %q:\n%s", want, r.stderr)
		}
	}
	rec := loadRecord(t, "default")
	if rec.AccessToken == "" || rec.RefreshToken == "" || rec.Account == "" {
		t.Fatalf("stored record incomplete: account=%q access=%t refresh=%t", rec.Account, rec.AccessToken != "", rec.RefreshToken != "")
	}

	// The authorization request carried PKCE S256 and a state.
	reqs := h.srv.AuthorizeRequests()
	last := reqs[len(reqs)-1]
	if last.Get("code_challenge_method") != "S256" || len(last.Get("code_challenge")) != 43 || len(last.Get("state")) < 32 {
		t.Errorf("authorize request lacks PKCE S256 or state: %v", last)
	}
	if got := last.Get("redirect_uri"); got != entrasim.NativeClientRedirectURI {
		t.Errorf("redirect_uri = %q, want the nativeclient URI", got)
	}

	// A client nobody here wrote sees the item.
	out, err := exec.Command("secret-tool", "search", "--all", "service", "ms365auth").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "username = default") {
		t.Errorf("secret-tool search does not show the item (%v):\n%s", err, out)
	}

	st, sr := h.status()
	if sr.code != 0 {
		t.Errorf("status exit %d, want 0", sr.code)
	}
	for _, k := range []string{"profile", "linked", "account", "name", "tenant_id", "client_id", "authority", "method", "scopes", "access_token_expires_at", "refresh_token", "linked_at", "store", "state"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status --json lacks %q: %v", k, st)
		}
	}
	if st["state"] != "valid" || st["linked"] != true || st["store"] != "keyring" || st["method"] != "paste" {
		t.Errorf("status = %v", st)
	}
	if _, err := time.Parse(time.RFC3339, st["access_token_expires_at"].(string)); err != nil {
		t.Errorf("access_token_expires_at is not RFC 3339: %v", err)
	}
	text := h.run("", "status")
	if text.code != 0 || !strings.Contains(text.stdout, "valid") {
		t.Errorf("status text (exit %d):\n%s", text.code, text.stdout)
	}
	assertNoTokens(t, rec, r.all(), sr.all(), text.all())
}

func TestLinkRejectsBadReturnedURLsAndKeepsTokens(t *testing.T) {
	h := newHarness(t)
	if r := h.link(h.signIn, "--client-id", testClientID); r.code != 0 {
		t.Fatalf("first link exit %d:\n%s", r.code, r.stderr)
	}
	before := loadRecord(t, "default")

	withParam := func(raw, key, value string) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	cases := []struct {
		name    string
		setup   func()
		respond func(link string) string
		want    string
	}{
		{"state mismatch", nil, func(link string) string {
			return withParam(h.signIn(link), "state", "someone-elses-state")
		}, "another attempt"},
		{"truncated code", nil, func(link string) string {
			ret := h.signIn(link)
			return ret[:strings.Index(ret, "code=")]
		}, "cut short"},
		{"error redirect", func() { h.srv.DenyConsent(true) }, h.signIn, "AADSTS65004"},
		{"wrongplace", func() { h.srv.SendToWrongPlace(true) }, h.signIn, "link --alt"},
		{"authorize URL pasted back", nil, func(link string) string { return link }, "sign-in link itself"},
		{"other redirect", nil, func(link string) string {
			ret := h.signIn(link)
			return strings.Replace(ret, "https://login.microsoftonline.com/common/oauth2/nativeclient", "https://example.com/callback", 1)
		}, entrasim.NativeClientRedirectURI},
		{"nothing pasted", nil, func(string) string { return "" }, "URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.srv.DenyConsent(false)
			h.srv.SendToWrongPlace(false)
			if c.setup != nil {
				c.setup()
			}
			r := h.link(c.respond)
			if r.code == 0 {
				t.Fatalf("exit 0, want failure:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
			after := loadRecord(t, "default")
			if after.AccessToken != before.AccessToken || after.RefreshToken != before.RefreshToken {
				t.Errorf("a failed link changed the stored tokens")
			}
			assertNoTokens(t, before, r.all())
		})
	}
}

func TestLinkTolerantPasteAndMFARedirect(t *testing.T) {
	h := newHarness(t, entrasim.Redirect{URI: "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize", Platform: entrasim.MobileDesktop})
	r := h.link(func(link string) string { return "  <\"" + h.signIn(link) + "\">  " },
		"--client-id", testClientID, "--tenant", "organizations",
		"--redirect-uri", "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize")
	if r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	st, _ := h.status()
	if !strings.HasSuffix(st["authority"].(string), "/organizations") {
		t.Errorf("authority = %v", st["authority"])
	}
}

func TestLinkExplainsClientErrors(t *testing.T) {
	t.Run("secret sent by a public client", func(t *testing.T) {
		h := newHarness(t)
		h.env = append(h.env, "MS365AUTH_CLIENT_SECRET=not-needed-here")
		r := h.link(h.signIn, "--client-id", testClientID)
		if r.code != 1 || !strings.Contains(r.stderr, "AADSTS700025") || !strings.Contains(r.stderr, "fix:") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
		if strings.Contains(r.all(), "not-needed-here") {
			t.Errorf("the secret was printed")
		}
	})
	t.Run("web redirect without a secret", func(t *testing.T) {
		web := "http://localhost/api/ms365auth"
		h := newHarness(t, entrasim.Redirect{URI: web, Platform: entrasim.Web})
		r := h.link(h.signIn, "--client-id", testClientID, "--redirect-uri", web)
		if r.code != 1 || !strings.Contains(r.stderr, "AADSTS7000218") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	})
	t.Run("unregistered redirect URI", func(t *testing.T) {
		h := newHarness(t)
		r := h.link(func(link string) string {
			if _, err := h.srv.Authorize(context.Background(), link); err == nil || !strings.Contains(err.Error(), "50011") {
				t.Errorf("the double accepted an unregistered redirect URI: %v", err)
			}
			return ""
		}, "--no-check", "--client-id", testClientID, "--redirect-uri", "http://localhost/not/registered")
		if r.code == 0 {
			t.Errorf("exit 0")
		}
	})
	t.Run("first link without a client ID", func(t *testing.T) {
		h := newHarness(t)
		r := h.run("", "link", "--no-browser")
		if r.code != 1 || !strings.Contains(r.stderr, "--client-id is required") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	})
}

func TestLinkInTwoSteps(t *testing.T) {
	h := newHarness(t)
	start := h.run("", "link", "--client-id", testClientID, "--print-link", "--profile", "work")
	if start.code != 0 {
		t.Fatalf("--print-link exit %d:\n%s", start.code, start.stderr)
	}
	link := strings.TrimSpace(start.stdout)
	if !strings.HasPrefix(link, h.srv.URL) {
		t.Fatalf("stdout is not the link: %q", link)
	}
	returned := h.signIn(link)
	bad := h.run("", "link", "--profile", "work", "--returned-url", strings.Replace(returned, "state=", "state=x", 1))
	if bad.code == 0 {
		t.Fatalf("a wrong state was accepted")
	}
	done := h.run("", "link", "--profile", "work", "--returned-url", returned)
	if done.code != 0 {
		t.Fatalf("--returned-url exit %d:\n%s", done.code, done.stderr)
	}
	again := h.run("", "link", "--profile", "work", "--returned-url", returned)
	if again.code == 0 || !strings.Contains(again.stderr, "--print-link") {
		t.Errorf("a spent sign-in was reused (exit %d):\n%s", again.code, again.stderr)
	}
}

func TestSandbox(t *testing.T) {
	h := newHarness(t)
	// An empty line lets the sandbox play the browser.
	r := h.run("\n", "link", "--sandbox", "--no-browser")
	if r.code != 0 {
		t.Fatalf("sandbox exit %d:\n%s", r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(line, "[sandbox] ") && !strings.HasPrefix(line, "http://127.0.0.1") {
			t.Errorf("unlabelled line: %q", line)
		}
	}
	st, sr := h.status("--profile", "sandbox")
	if sr.code != 0 || st["state"] != "valid" || st["sandbox"] != true {
		t.Errorf("sandbox status (exit %d): %v", sr.code, st)
	}
	if _, dr := h.status(); dr.code != 3 {
		t.Errorf("the default profile should stay unlinked, status exit %d", dr.code)
	}
}

func TestStatusNotLinked(t *testing.T) {
	h := newHarness(t)
	st, r := h.status()
	if r.code != 3 || st["state"] != "not_linked" || st["linked"] != false {
		t.Errorf("exit %d, %v", r.code, st)
	}
}
