//go:build linux

package cli_test

// The mail recipes of docs/recipes.md, run with the real clients from
// Debian (msmtp, mbsync, neomutt, curl) against a real Dovecot that checks
// tokens as Exchange Online does (pkg/internal/mailtest), with ms365auth
// behind them. The auth lines come from the document; a test only points
// the host, port and trusted certificate at the private server.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/mailtest"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// saslXOAUTH2Plugin is the Cyrus SASL plugin mbsync needs for XOAUTH2.
const saslXOAUTH2Plugin = "/usr/lib/*/sasl2/libkdexoauth2.so*"

// The recipes' mailbox. The double knows it, so the user lines stay as
// written.
const recipeUser = "adele@contoso.com"

// mailWorld is a person with a linked profile "work" and their mail server.
type mailWorld struct {
	*harness
	t      *testing.T
	mail   *mailtest.Server
	home   string   // HOME of the mail clients (~/Mail, ~/.cache, ...)
	env    []string // the clients' environment: ms365auth on PATH
	offset atomic.Int64
}

// newMailWorld links the profile "work" with the recipes' link command.
// programs are the clients the test needs, with their Debian packages.
func newMailWorld(t *testing.T, programs ...string) *mailWorld {
	t.Helper()
	return newMailWorldWith(t, mailtest.Exchange{}, programs...)
}

// newMailWorldWith is newMailWorld with Exchange's mailbox settings.
func newMailWorldWith(t *testing.T, exchange mailtest.Exchange, programs ...string) *mailWorld {
	t.Helper()
	for i := 0; i+1 < len(programs); i += 2 {
		mailtest.Require(t, programs[i], programs[i+1])
		if programs[i] == "mbsync" {
			mailtest.RequireFile(t, saslXOAUTH2Plugin, "libsasl2-modules-kdexoauth2")
		}
	}
	h := newHarness(t)
	h.srv.AddUser(entrasim.User{Username: recipeUser, Name: "Adele Vance"})
	h.srv.SignInAs(recipeUser)
	w := &mailWorld{harness: h, t: t, home: t.TempDir()}
	// One clock for Entra and Exchange, which tests move forward.
	now := func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }
	h.srv.SetClock(now)
	w.mail = mailtest.Start(t, mailtest.Options{Lookup: h.srv.LookupAccessToken, Now: now, Exchange: exchange})
	w.env = append(slices.Clone(h.env),
		"HOME="+w.home,
		"PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
	)

	link := recipeCommand(t, "link")
	if r := runDocCommand(t, h, link); r.code != 0 {
		t.Fatalf("%s\n  exit %d:\n%s", link, r.code, r.stderr)
	}
	return w
}

// recipeCommand is the first ms365auth command line of docs/recipes.md
// with this subcommand.
func recipeCommand(t *testing.T, subcommand string) docCommand {
	t.Helper()
	for _, c := range docCommands(t, "docs/recipes.md", false) {
		if c.args[0] == subcommand {
			return c
		}
	}
	t.Fatalf("docs/recipes.md has no %q command", subcommand)
	return docCommand{}
}

// recipe returns the n-th (from 0) code block in the section of
// docs/recipes.md under heading ("## msmtp"), as written.
func recipe(t *testing.T, heading string, n int) string {
	t.Helper()
	block, ok := recipeIfAny(t, heading, n)
	if !ok {
		t.Fatalf("docs/recipes.md has fewer than %d code blocks under %q", n+1, heading)
	}
	return block
}

// recipeIfAny is recipe, reporting a missing block instead of failing.
func recipeIfAny(t *testing.T, heading string, n int) (string, bool) {
	t.Helper()
	return blockUnder(t, "docs/recipes.md", heading, n)
}

// configKey is what a configuration line sets: its first word, or for
// mutt's "set name = value" the name.
func configKey(line string) string {
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return ""
	case f[0] == "set" && len(f) > 1:
		return f[1]
	}
	return f[0]
}

// pointAt rewrites a recipe for the private server: lines setting a key of
// override are replaced by its value (which may add lines, such as the
// certificate to trust), and the rest is kept as written. Every key must
// be found.
func pointAt(t *testing.T, recipe string, override map[string]string) string {
	t.Helper()
	var out []string
	used := map[string]bool{}
	for _, line := range strings.Split(recipe, "\n") {
		if v, ok := override[configKey(line)]; ok {
			used[configKey(line)] = true
			line = v
		}
		out = append(out, line)
	}
	for k := range override {
		if !used[k] {
			t.Fatalf("the recipe sets no %q any more:\n%s", k, recipe)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func (w *mailWorld) port(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		w.t.Fatal(err)
	}
	return port
}

// writeConfig writes a client's configuration, readable only by its owner
// (msmtp insists).
func (w *mailWorld) writeConfig(name, text string) string {
	path := filepath.Join(w.home, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// client runs a mail client to completion.
func (w *mailWorld) client(stdin string, name string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = w.env, w.home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	return result{w.exitCode(append([]string{name}, args...), cmd.Run(), errb.String()), out.String(), errb.String()}
}

// message is a small mail from the recipes' user.
func message(subject string) string {
	return fmt.Sprintf("From: Adele Vance <%s>\r\nTo: bob@contoso.com\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@contoso.com>\r\n\r\nHello.\r\n",
		recipeUser, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano())
}

// msmtpConfig is the msmtp recipe pointed at the private server.
func (w *mailWorld) msmtpConfig() string {
	return w.writeConfig("msmtprc", pointAt(w.t, recipe(w.t, "## msmtp", 0), map[string]string{
		"host": "host 127.0.0.1",
		"port": "port " + w.port(w.mail.Submission) + "\ntls_trust_file " + w.mail.CAFile,
	}))
}

// mbsyncConfig writes the isync recipe, pointed at the private server, to
// ~/.mbsyncrc.
func (w *mailWorld) mbsyncConfig() string {
	return w.writeConfig(".mbsyncrc", pointAt(w.t, recipe(w.t, "## isync (mbsync)", 0), map[string]string{
		"Host": "Host localhost", // isync 1.4 matches no IP address in a certificate
		"Port": "Port " + w.port(w.mail.IMAPS) + "\nCertificateFile " + w.mail.CAFile,
	}))
}

// send sends a message with the msmtp recipe.
func (w *mailWorld) send(cfg, subject string) result {
	return w.client(message(subject), "msmtp", "-C", cfg, "bob@contoso.com")
}

// waitSent waits for n relayed messages.
func (w *mailWorld) waitSent(n int) []mailtest.Message {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	sent, err := w.mail.WaitSent(ctx, n)
	if err != nil {
		w.t.Fatal(err)
	}
	return sent
}

// synced lists the files mbsync wrote into the recipe's local INBOX.
func (w *mailWorld) synced() []string {
	var names []string
	for _, sub := range []string{"new", "cur"} {
		files, _ := filepath.Glob(filepath.Join(w.home, "Mail", "work", "INBOX", sub, "*"))
		names = append(names, files...)
	}
	return names
}

// refreshes counts the refresh grants Entra answered so far.
func (w *mailWorld) refreshes() int { return w.srv.Stats().Refreshes }

// lastCheck is the mail server's latest token check.
func (w *mailWorld) lastCheck() mailtest.Check {
	checks := w.mail.Checks()
	if len(checks) == 0 {
		w.t.Fatal("the mail server checked no token")
	}
	return checks[len(checks)-1]
}

func TestMailMsmtpRecipe(t *testing.T) {
	w := newMailWorld(t, "msmtp", "msmtp")
	if r := w.send(w.msmtpConfig(), "msmtp recipe"); r.code != 0 {
		t.Fatalf("msmtp exit %d:\n%s", r.code, r.all())
	}
	m := w.waitSent(1)[0]
	if m.From != recipeUser || !slices.Equal(m.To, []string{"bob@contoso.com"}) || !strings.Contains(m.Data, "Subject: msmtp recipe") {
		t.Errorf("relayed %+v", m)
	}
	if c := w.lastCheck(); c.Service != "submission" || c.User != recipeUser || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

func TestMailMbsyncRecipe(t *testing.T) {
	w := newMailWorld(t, "mbsync", "isync")
	if err := w.mail.Deliver("adele", message("waiting in the inbox")); err != nil {
		t.Fatal(err)
	}
	w.mbsyncConfig()
	r := w.mbsync()
	if r.code != 0 {
		t.Fatalf("mbsync exit %d:\n%s", r.code, r.all())
	}
	files := w.synced()
	if len(files) != 1 {
		t.Fatalf("mbsync synced %d messages, want 1:\n%s", len(files), r.all())
	}
	if data, _ := os.ReadFile(files[0]); !strings.Contains(string(data), "Subject: waiting in the inbox") {
		t.Errorf("synced message:\n%s", data)
	}
	if c := w.lastCheck(); c.Service != "imap" || c.User != recipeUser || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

// muttrc is the mutt recipe pointed at the private server, with its
// certificate trusted.
func (w *mailWorld) muttrc() string {
	rc := strings.NewReplacer(
		"outlook.office365.com:993", w.mail.IMAPS,
		"smtp.office365.com:587", w.mail.Submission,
	).Replace(recipe(w.t, "## mutt and neomutt", 0))
	return w.writeConfig("neomuttrc", rc+"\nset ssl_ca_certificates_file = \""+w.mail.CAFile+"\"\n")
}

func TestMailNeomuttRecipe(t *testing.T) {
	w := newMailWorld(t, "neomutt", "neomutt")
	rc := w.muttrc()

	// Sending: mutt's batch mode, a message on standard input.
	if r := w.client("Hello from neomutt.\n", "neomutt", "-n", "-F", rc, "-s", "neomutt recipe", "bob@contoso.com"); r.code != 0 {
		t.Fatalf("neomutt sending exit %d:\n%s", r.code, r.all())
	}
	m := w.waitSent(1)[0]
	if m.From != recipeUser || !strings.Contains(m.Data, "Subject: neomutt recipe") {
		t.Errorf("relayed %+v", m)
	}
	if c := w.lastCheck(); c.Service != "submission" || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}

	// Reading: neomutt on a terminal opens the inbox over IMAP.
	if err := w.mail.Deliver("adele", message("read me in neomutt")); err != nil {
		t.Fatal(err)
	}
	w.readInNeomutt(t, rc, "read me in neomutt")
	if c := w.lastCheck(); c.Service != "imap" || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

func TestMailCurlRecipe(t *testing.T) {
	w := newMailWorld(t, "curl", "curl")
	if err := w.mail.Deliver("adele", message("fetched by curl")); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(recipe(t, "## curl and IMAP", 0), "//outlook.office365.com/", "//"+w.mail.IMAPS+"/")
	w.env = append(w.env, "CURL_CA_BUNDLE="+w.mail.CAFile)
	r := w.client("", "sh", "-ec", script)
	if r.code != 0 || !strings.Contains(r.stdout, "Subject: fetched by curl") {
		t.Fatalf("curl exit %d:\n%s", r.code, r.all())
	}
	if c := w.lastCheck(); c.Service != "imap" || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

// expireTokens moves time on by two hours: Entra's and the mail server's
// clocks, and, since ms365auth reads the real clock, the expiry times it
// stored. Every access token issued so far is then expired everywhere.
func (w *mailWorld) expireTokens() {
	w.t.Helper()
	w.offset.Add(int64(2 * time.Hour))
	editRecord(w.t, nil, "work", func(rec *store.Record) {
		past := time.Now().Add(-time.Minute)
		rec.Expiry = past
		for k, r := range rec.Resources {
			r.Expiry = past
			rec.Resources[k] = r
		}
	})
}

// mbsync runs the isync recipe's commands (mkdir, mbsync work).
func (w *mailWorld) mbsync() result {
	w.t.Helper()
	return w.client("", "sh", "-ec", recipe(w.t, "## isync (mbsync)", 1))
}

// syncOnce runs the isync recipe's sync and expects it to work.
func (w *mailWorld) syncOnce() {
	w.t.Helper()
	if r := w.mbsync(); r.code != 0 {
		w.t.Fatalf("mbsync exit %d:\n%s", r.code, r.all())
	}
}

// TestMailTokenExpiresBetweenRuns: while the token is good, mbsync runs
// without Entra; once it has expired, the next run gets a new one with
// exactly one refresh, and the server takes it.
func TestMailTokenExpiresBetweenRuns(t *testing.T) {
	w := newMailWorld(t, "mbsync", "isync")
	w.mbsyncConfig()
	w.syncOnce()
	before := w.refreshes()
	w.syncOnce()
	if n := w.refreshes() - before; n != 0 {
		t.Errorf("a run with a good token refreshed %d times", n)
	}

	w.expireTokens()
	checks := len(w.mail.Checks())
	w.syncOnce()
	if n := w.refreshes() - before; n != 1 {
		t.Errorf("the run after expiry refreshed %d times, want 1", n)
	}
	for _, c := range w.mail.Checks()[checks:] {
		if c.Refusal != "" {
			t.Errorf("the server refused a token after expiry: %+v", c)
		}
	}
}

// TestMailFiveClientsAtOnceRefreshOnce: a mail queue flush, five msmtp
// processes at once on an expired token: one refresh, five messages.
func TestMailFiveClientsAtOnceRefreshOnce(t *testing.T) {
	w := newMailWorld(t, "msmtp", "msmtp")
	cfg := w.msmtpConfig()
	if r := w.send(cfg, "first"); r.code != 0 {
		t.Fatalf("msmtp exit %d:\n%s", r.code, r.all())
	}
	w.expireTokens()
	before := w.refreshes()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := range 5 {
		cmd := exec.CommandContext(ctx, "msmtp", "-C", cfg, "bob@contoso.com")
		cmd.Env, cmd.Dir = w.env, w.home
		cmd.Stdin = strings.NewReader(message(fmt.Sprintf("queued %d", i)))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("msmtp %d: %v\n%s", i, err, outs[i])
		}
	}
	w.waitSent(6)
	if n := w.refreshes() - before; n != 1 {
		t.Errorf("five clients at once refreshed %d times, want 1", n)
	}
}

// TestMailRevokedRefreshToken: the refresh token is revoked (a password
// reset) and the access token has expired. The client fails, showing
// ms365auth's one line; "ms365auth token" exits 3 and prints nothing a
// client could take for a token; the cron recipe notifies once.
func TestMailRevokedRefreshToken(t *testing.T) {
	w := newMailWorld(t, "mbsync", "isync")
	w.mbsyncConfig()
	w.syncOnce()
	w.srv.RevokeRefreshTokens()
	w.expireTokens()
	checks := len(w.mail.Checks())

	r := w.mbsync()
	if r.code == 0 {
		t.Fatalf("mbsync worked with a revoked refresh token:\n%s", r.all())
	}
	token := w.client("", binary, "token", "--profile", "work", "--scopes", "imap")
	if token.code != 3 || token.stdout != "" || strings.Count(token.stderr, "\n") != 1 {
		t.Fatalf("ms365auth token: exit %d, stdout %q, stderr %q; want 3, nothing, one line", token.code, token.stdout, token.stderr)
	}
	if !strings.Contains(r.all(), strings.TrimSpace(token.stderr)) {
		t.Errorf("mbsync does not show ms365auth's message %q:\n%s", token.stderr, r.all())
	}
	if got := w.mail.Checks()[checks:]; len(got) != 0 {
		t.Errorf("mbsync logged in with something after all: %+v", got)
	}

	// The cron job of the recipe, with a mail command that records what
	// it is asked to send.
	var job string
	for _, line := range strings.Split(recipe(t, "### cron", 0), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[5] == "ms365auth" {
			job = strings.Join(f[5:], " ")
		}
	}
	if job == "" {
		t.Fatal("the cron recipe has no ms365auth job")
	}
	bin, sent := filepath.Join(w.home, "bin"), filepath.Join(w.home, "mail-sent")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	shim := "#!/bin/sh\n{ echo \"mail $*\"; cat; echo .; } >> '" + sent + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "mail"), []byte(shim), 0o700); err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "PATH="+bin+string(os.PathListSeparator)+filepath.Dir(binary)+string(os.PathListSeparator)+"/usr/bin:/bin")
	cron := w.client("", "sh", "-c", job)
	if cron.code != 3 {
		t.Errorf("the cron job: exit %d, want 3:\n%s", cron.code, cron.all())
	}
	notes, _ := os.ReadFile(sent)
	if strings.Count(string(notes), "mail -s") != 1 || !strings.Contains(string(notes), "ms365auth link --profile work") {
		t.Errorf("the cron job's notifications:\n%s", notes)
	}
}

// TestMailWrongResourceRefused: a Graph token (token without --scopes) is
// refused by the IMAP server, and every mail recipe asks for an Outlook
// scope, so none can send one.
func TestMailWrongResourceRefused(t *testing.T) {
	w := newMailWorld(t, "curl", "curl")
	curl := recipe(t, "## curl and IMAP", 0)
	graph := strings.NewReplacer(" --scopes imap", "", "//outlook.office365.com/", "//"+w.mail.IMAPS+"/").Replace(curl)
	w.env = append(w.env, "CURL_CA_BUNDLE="+w.mail.CAFile)
	r := w.client("", "sh", "-ec", graph)
	if r.code == 0 {
		t.Fatalf("curl logged in with a Graph token:\n%s", r.all())
	}
	if c := w.lastCheck(); !strings.Contains(c.Refusal, "audience https://graph.microsoft.com") {
		t.Errorf("token check %+v, want a refused Graph audience", c)
	}

	outlook := []string{"imap", "smtp", "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"}
	for _, section := range mailRecipes {
		for i := 0; ; i++ {
			block, ok := recipeIfAny(t, section, i)
			if !ok {
				break
			}
			cmds, err := commandsIn("docs/recipes.md", docText{text: block})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cmds {
				at := slices.Index(c.args, "--scopes")
				if c.args[0] == "token" && (at < 0 || at+1 >= len(c.args) || !slices.Contains(outlook, c.args[at+1])) {
					t.Errorf("%s: %s asks for no Outlook scope", section, c)
				}
			}
		}
	}
}

// mailRecipes are the sections of docs/recipes.md that set up a mail client.
var mailRecipes = []string{"## msmtp", "## mutt and neomutt", "## isync (mbsync)", "## OfflineIMAP", "## aerc", "## curl and IMAP"}

// TestMailMbsyncWithoutSASLPlugin shows what mbsync says when the SASL
// XOAUTH2 plugin is missing (docs/troubleshooting.md quotes it).
func TestMailMbsyncWithoutSASLPlugin(t *testing.T) {
	w := newMailWorld(t, "mbsync", "isync")
	w.mbsyncConfig()
	w.env = append(w.env, "SASL_PATH="+t.TempDir()) // Cyrus SASL looks for plugins there only
	r := w.mbsync()
	if r.code == 0 || !strings.Contains(r.all(), "selected SASL mechanism(s) not available") {
		t.Errorf("mbsync without the plugin: exit %d:\n%s", r.code, r.all())
	}
}

// TestMailRecipesTestedOrMarked: each mail recipe is run by a test above,
// or says it is untested.
func TestMailRecipesTestedOrMarked(t *testing.T) {
	tested := map[string]string{
		"## msmtp":            "TestMailMsmtpRecipe",
		"## mutt and neomutt": "TestMailNeomuttRecipe",
		"## isync (mbsync)":   "TestMailMbsyncRecipe",
		"## curl and IMAP":    "TestMailCurlRecipe",
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "recipes.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range mailRecipes {
		_, body, _ := strings.Cut(string(data), "\n"+section+"\n")
		body, _, _ = strings.Cut(body, "\n## ")
		if test, ok := tested[section]; ok {
			if !strings.Contains(body, "Tested with ") {
				t.Errorf("%s (run by %s) does not say which version it was tested with", section, test)
			}
			continue
		}
		if !strings.Contains(body, "Untested") {
			t.Errorf("%s is run by no test and does not say it is untested", section)
		}
		t.Logf("%s: not run here (the client is not installed on the test machines); the recipe says so", section)
	}
}

// readInNeomutt opens neomutt with the configuration rc on a terminal,
// waits until the index shows subject (read over IMAP), and quits.
func (w *mailWorld) readInNeomutt(t *testing.T, rc, subject string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, "neomutt", "-n", "-F", rc)
	cmd.Env, cmd.Dir = append(slices.Clone(w.env), "TERM=xterm"), w.home
	term := startTerminal(t, cmd, cancel)
	term.waitFor(subject)
	if _, err := term.tty.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if code := term.wait(); code != 0 {
		t.Errorf("neomutt exit %d:\n%s", code, term.transcript())
	}
}
