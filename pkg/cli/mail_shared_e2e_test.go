//go:build linux

package cli_test

// The shared-mailbox and personal-account recipes of docs/recipes.md, run
// with the real clients against the mail servers of pkg/internal/mailtest,
// which let a delegate's token open a shared mailbox over IMAP (with Full
// Access) and send from it over SMTP (with Send As), as Exchange Online
// does, and nothing more.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ms365auth/ms365auth/pkg/internal/mailtest"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// The recipes' shared mailbox, and the person who has Full Access and
// Send As on it.
const sharedMailbox = "sales@contoso.com"

var delegation = mailtest.Exchange{
	FullAccess: map[string][]string{sharedMailbox: {recipeUser}},
	SendAs:     map[string][]string{sharedMailbox: {recipeUser}},
}

func TestMailSharedMbsyncRecipe(t *testing.T) {
	w := newMailWorldWith(t, delegation, "mbsync", "isync")
	if err := w.mail.Deliver("sales", message("for the sales team")); err != nil {
		t.Fatal(err)
	}
	w.writeConfig(".mbsyncrc", pointAt(t, recipe(t, "### isync for a shared mailbox", 0), map[string]string{
		"Host": "Host localhost",
		"Port": "Port " + w.port(w.mail.IMAPS) + "\nCertificateFile " + w.mail.CAFile,
	}))
	r := w.client("", "sh", "-ec", recipe(t, "### isync for a shared mailbox", 1))
	if r.code != 0 {
		t.Fatalf("mbsync exit %d:\n%s", r.code, r.all())
	}
	files, _ := filepath.Glob(filepath.Join(w.home, "Mail", "sales", "INBOX", "*", "*"))
	if len(files) != 1 {
		t.Fatalf("mbsync synced %d messages of the shared mailbox, want 1:\n%s", len(files), r.all())
	}
	if data, _ := os.ReadFile(files[0]); !strings.Contains(string(data), "Subject: for the sales team") {
		t.Errorf("synced message:\n%s", data)
	}
	// The token was the delegate's own.
	if c := w.lastCheck(); c.Service != "imap" || c.User != recipeUser || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

// That the same login without Full Access fails in the real Dovecot is
// pkg/mailcheck's TestDovecotSharedMailbox: mbsync, refused, would wait
// three minutes for Dovecot's inactivity timeout here.

func TestMailSharedMsmtpRecipe(t *testing.T) {
	w := newMailWorldWith(t, delegation, "msmtp", "msmtp")
	cfg := w.writeConfig("msmtprc", pointAt(t, recipe(t, "### msmtp for a shared mailbox", 0), map[string]string{
		"host": "host 127.0.0.1",
		"port": "port " + w.port(w.mail.Submission) + "\ntls_trust_file " + w.mail.CAFile,
	}))
	msg := strings.Replace(message("from the sales team"), "From: Adele Vance <"+recipeUser+">", "From: Sales <"+sharedMailbox+">", 1)
	if r := w.client(msg, "msmtp", "-C", cfg, "-a", "sales", "bob@contoso.com"); r.code != 0 {
		t.Fatalf("msmtp exit %d:\n%s", r.code, r.all())
	}
	m := w.waitSent(1)[0]
	if m.User != recipeUser || m.From != sharedMailbox || !slices.Equal(m.To, []string{"bob@contoso.com"}) {
		t.Errorf("relayed %+v, want sent by %s as %s", m, recipeUser, sharedMailbox)
	}
}

// TestMailSharedSendAsNeeded: without Send As the shared recipe's message
// is refused with Exchange's SendAsDenied.
func TestMailSharedSendAsNeeded(t *testing.T) {
	w := newMailWorldWith(t, mailtest.Exchange{}, "msmtp", "msmtp")
	cfg := w.writeConfig("msmtprc", pointAt(t, recipe(t, "### msmtp for a shared mailbox", 0), map[string]string{
		"host": "host 127.0.0.1",
		"port": "port " + w.port(w.mail.Submission) + "\ntls_trust_file " + w.mail.CAFile,
	}))
	r := w.client(message("no send as"), "msmtp", "-C", cfg, "-a", "sales", "bob@contoso.com")
	if r.code == 0 || !strings.Contains(r.all(), "5.2.252 SendAsDenied") {
		t.Errorf("msmtp without Send As: exit %d:\n%s", r.code, r.all())
	}
}

func TestMailSharedNeomuttRecipe(t *testing.T) {
	w := newMailWorldWith(t, delegation, "neomutt", "neomutt")
	rc := strings.NewReplacer(
		"outlook.office365.com:993", w.mail.IMAPS,
		"smtp.office365.com:587", w.mail.Submission,
	).Replace(recipe(t, "### neomutt for a shared mailbox", 0))
	rc = w.writeConfig("neomuttrc", rc+"\nset ssl_ca_certificates_file = \""+w.mail.CAFile+"\"\n")

	if r := w.client("Hello from the sales team.\n", "neomutt", "-n", "-F", rc, "-s", "shared neomutt", "bob@contoso.com"); r.code != 0 {
		t.Fatalf("neomutt sending exit %d:\n%s", r.code, r.all())
	}
	if m := w.waitSent(1)[0]; m.User != recipeUser || m.From != sharedMailbox || !strings.Contains(m.Data, "Subject: shared neomutt") {
		t.Errorf("relayed %+v", m)
	}

	if err := w.mail.Deliver("sales", message("read me in the shared inbox")); err != nil {
		t.Fatal(err)
	}
	w.readInNeomutt(t, rc, "read me in the shared inbox")
	if c := w.lastCheck(); c.Service != "imap" || c.User != recipeUser || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
}

// TestMailPersonalRecipe: the personal-account recipe's link (at
// consumers, as a personal account) and its msmtp configuration.
func TestMailPersonalRecipe(t *testing.T) {
	w := newMailWorld(t, "msmtp", "msmtp")
	t.Cleanup(func() { store.NewKeyring().Delete("personal") })
	const heading = "## A personal account (outlook.com, hotmail)"
	var link docCommand
	for _, c := range docCommands(t, "docs/recipes.md", false) {
		if c.args[0] == "link" && c.has("consumers") {
			link = c
		}
	}
	if link.args == nil {
		t.Fatal("docs/recipes.md has no link at --tenant consumers")
	}
	if r := runDocCommand(t, w.harness, link); r.code != 0 {
		t.Fatalf("%s\n  exit %d:\n%s", link, r.code, r.stderr)
	}
	cfg := w.writeConfig("msmtprc", pointAt(t, recipe(t, heading, 1), map[string]string{
		"host": "host 127.0.0.1",
		"port": "port " + w.port(w.mail.Submission) + "\ntls_trust_file " + w.mail.CAFile,
	}))
	if !strings.Contains(recipe(t, heading, 1), "host smtp-mail.outlook.com") {
		t.Error("the personal recipe does not submit to smtp-mail.outlook.com")
	}
	msg := strings.Replace(message("from outlook.com"), "<"+recipeUser+">", "<"+personalUser+">", 1)
	if r := w.client(msg, "msmtp", "-C", cfg, "bob@contoso.com"); r.code != 0 {
		t.Fatalf("msmtp exit %d:\n%s", r.code, r.all())
	}
	if m := w.waitSent(1)[0]; m.User != personalUser || m.From != personalUser {
		t.Errorf("relayed %+v, want sent by %s", m, personalUser)
	}
}
