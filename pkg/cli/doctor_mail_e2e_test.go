//go:build linux

package cli_test

// doctor --mail, run as a person would: the profile "work" linked with the
// recipes' link command, then its mail logins checked against the real
// Dovecot rig (success, and a shared mailbox) and against
// pkg/internal/mailtest's Exchange stand-in, which refuses in Exchange
// Online's own words. What each refusal means is pkg/mailcheck's unit
// tests; these prove the command's wiring, its text and JSON, and its exit
// status.

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/mailtest"
)

// mailHosts are the --mail flags that point doctor at w's servers, with
// their CA trusted the way Go trusts one on Linux (SSL_CERT_FILE).
func (w *mailWorld) mailHosts() []string {
	w.env = append(w.env, "SSL_CERT_FILE="+w.mail.CAFile)
	w.harness.env = append(w.harness.env, "SSL_CERT_FILE="+w.mail.CAFile)
	return []string{"--mail", "--profile", "work", "--imap-host", w.mail.IMAPS, "--smtp-host", w.mail.Submission}
}

// newExchangeWorld is newMailWorld with the Exchange stand-in in place of
// Dovecot.
func newExchangeWorld(t *testing.T, e mailtest.Exchange) *mailWorld {
	t.Helper()
	h := newHarness(t)
	h.srv.AddUser(entrasim.User{Username: recipeUser, Name: "Adele Vance"})
	h.srv.SignInAs(recipeUser)
	w := &mailWorld{harness: h, t: t, home: t.TempDir(), env: slices.Clone(h.env)}
	w.mail = mailtest.StartExchange(t, mailtest.Options{Lookup: h.srv.LookupAccessToken, Exchange: e})
	if r := runDocCommand(t, h, recipeCommand(t, "link")); r.code != 0 {
		t.Fatalf("link exit %d:\n%s", r.code, r.stderr)
	}
	return w
}

// noOutlookToken fails the test when out holds the profile's Outlook token
// or a SASL string.
func noOutlookToken(t *testing.T, outputs ...string) {
	t.Helper()
	rec := loadRecord(t, "work")
	for _, out := range outputs {
		assertNoTokens(t, rec, out)
		for _, rt := range rec.Resources {
			if rt.AccessToken != "" && strings.Contains(out, rt.AccessToken[:40]) {
				t.Fatalf("output contains the Outlook token:\n%s", out)
			}
		}
		if strings.Contains(out, "auth=Bearer") || strings.Contains(out, "dXNlcj") { // "user=" in base64
			t.Fatalf("output contains a SASL string:\n%s", out)
		}
	}
}

func TestDoctorMailDovecot(t *testing.T) {
	w := newMailWorld(t)
	flags := w.mailHosts()
	rep, got, r := w.doctor(flags...)
	if r.code != 0 || !rep.OK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range []string{"mail.token", "mail.imap", "mail.smtp"} {
		if got[id].Status != "ok" {
			t.Errorf("%s: %+v", id, got[id])
		}
	}
	if !strings.Contains(got["mail.imap"].Summary, "as "+recipeUser) {
		t.Errorf("IMAP: %+v", got["mail.imap"])
	}
	for _, id := range []string{"authority", "app", "mail.pop"} {
		if _, ran := got[id]; ran {
			t.Errorf("doctor --mail ran %s", id)
		}
	}
	if c := w.lastCheck(); c.Service != "imap" && c.Service != "submission" || c.User != recipeUser || c.Refusal != "" {
		t.Errorf("token check %+v", c)
	}
	text := w.run("", append([]string{"doctor"}, flags...)...)
	if text.code != 0 || !strings.Contains(text.stdout, "IMAP login to "+w.mail.IMAPS) || !strings.Contains(text.stdout, "No problems found.") {
		t.Errorf("text exit %d:\n%s\n%s", text.code, text.stdout, text.stderr)
	}
	noOutlookToken(t, r.stdout, r.stderr, text.stdout, text.stderr)
	if n := len(w.mail.Sent()); n != 0 {
		t.Errorf("doctor --mail sent %d messages", n)
	}
}

func TestDoctorMailSharedMailbox(t *testing.T) {
	w := newMailWorldWith(t, delegation)
	rep, got, r := w.doctor(append(w.mailHosts(), "--mailbox", sharedMailbox)...)
	if r.code != 0 || !rep.OK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(got["mail.imap"].Summary, "as "+sharedMailbox) || !strings.Contains(got["mail.smtp"].Summary, "as "+recipeUser) {
		t.Errorf("IMAP %+v\nSMTP %+v", got["mail.imap"], got["mail.smtp"])
	}
}

func TestDoctorMailExchangeRefusals(t *testing.T) {
	cases := []struct {
		name     string
		exchange mailtest.Exchange
		id       string
		cause    string
		fix      string
	}{
		{"SMTP AUTH off (5.7.139)", mailtest.Exchange{SMTPAuthDisabled: "Tenant"}, "mail.smtp",
			"SMTP AUTH is turned off", "Set-CASMailbox -Identity " + recipeUser + " -SmtpClientAuthenticationDisabled $false"},
		{"IMAP off", mailtest.Exchange{IMAPDisabled: true}, "mail.imap",
			"IMAP is off for the mailbox", "Set-CASMailbox -Identity " + recipeUser + " -ImapEnabled $true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newExchangeWorld(t, c.exchange)
			flags := w.mailHosts()
			rep, got, r := w.doctor(flags...)
			if r.code != 1 || rep.OK {
				t.Errorf("exit %d, ok %v: want 1", r.code, rep.OK)
			}
			if f := got[c.id]; f.Status != "fail" || !strings.Contains(f.Fix, c.fix) {
				t.Errorf("%s: %+v", c.id, f)
			}
			text := w.run("", append([]string{"doctor"}, flags...)...)
			if text.code != 1 || !strings.Contains(text.stdout, "cause: ") || !strings.Contains(text.stdout, c.cause) || !strings.Contains(text.stdout, c.fix) {
				t.Errorf("text exit %d:\n%s", text.code, text.stdout)
			}
			noOutlookToken(t, r.stdout, r.stderr, text.stdout, text.stderr)
		})
	}
}

// TestDoctorMailFlags: the mail flags need --mail, and hosts must be
// host[:port]; neither starts a check.
func TestDoctorMailFlags(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"--mailbox", sharedMailbox}, {"--mail", "--smtp-host", "smtp.office365.com:port"}} {
		r := h.run("", append([]string{"doctor"}, args...)...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, args[len(args)-2]) {
			t.Errorf("doctor %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
}

// BenchmarkDoctorMail times `ms365auth doctor --mail` against the real
// Dovecot rig: a process that checks the store, gets an Outlook token
// (stored, so no refresh) and logs in to IMAP and SMTP at once.
func BenchmarkDoctorMail(b *testing.B) {
	mailtest.Require(b, "dovecot", "dovecot-imapd")
	h := newTBHarness(b)
	h.srv.AddUser(entrasim.User{Username: recipeUser, Name: "Adele Vance"})
	h.srv.SignInAs(recipeUser)
	mail := mailtest.Start(b, mailtest.Options{Lookup: h.srv.LookupAccessToken})
	if r := h.link(h.signIn, "--profile", "work", "--client-id", testClientID, "--scopes", "imap,smtp"); r.code != 0 {
		b.Fatalf("link: %s", r.stderr)
	}
	h.env = append(h.env, "SSL_CERT_FILE="+mail.CAFile)
	args := []string{"doctor", "--mail", "--profile", "work", "--imap-host", mail.IMAPS, "--smtp-host", mail.Submission}
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command(binary, args...)
		cmd.Env = h.env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("doctor --mail: %v\n%s", err, out)
		}
		samples = append(samples, time.Since(start))
	}
	reportMedian(b, samples, "ms-median")
}
