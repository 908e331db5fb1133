//go:build linux

package diagnose

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/mailtest"
	"github.com/ms365auth/ms365auth/pkg/store"
)

const (
	adele        = "adele@contoso.com"
	salesMailbox = "sales@contoso.com"
	outlookToken = "outlook-token-Zq81x"
	imapScope    = mailtest.OutlookResource + "/IMAP.AccessAsUser.All"
	smtpScope    = mailtest.OutlookResource + "/SMTP.Send"
	popScope     = mailtest.OutlookResource + "/POP.AccessAsUser.All"
)

// mailFixture is a linked profile of adele's, holding the IMAP and SMTP
// scopes, and a mail server answering as Exchange Online does.
type mailFixture struct {
	*fixture
	mail     *mailtest.Server
	asked    [][]string // the scopes of each access token request
	tokenErr error      // what AccessToken answers, when set
}

func newMailFixture(t *testing.T, e mailtest.Exchange) *mailFixture {
	t.Helper()
	f := &mailFixture{fixture: newFixture(t)}
	f.flags.Scopes = append(f.flags.Scopes, "imap", "smtp")
	f.cfg.Profiles["default"] = &f.flags
	rec := &store.Record{AccessToken: "graph-token", RefreshToken: "refresh", Account: adele, Expiry: time.Now().Add(time.Hour)}
	if err := (&store.File{Dir: f.dir}).Save("default", rec); err != nil {
		t.Fatal(err)
	}
	f.mail = mailtest.StartExchange(t, mailtest.Options{Lookup: lookup, Exchange: e})
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(f.mail.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("reading the CA: %v", err)
	}
	f.env.Mail = &Mail{IMAPHost: f.mail.IMAPS, SMTPHost: f.mail.Submission, TLS: &tls.Config{RootCAs: pool}, Timeout: 5 * time.Second}
	f.env.AccessToken = func(_ context.Context, name string, scopes []string) (string, error) {
		f.asked = append(f.asked, scopes)
		if f.tokenErr != nil {
			return "", f.tokenErr
		}
		return outlookToken, nil
	}
	return f
}

// lookup is Entra's word on the tokens: outlookToken is adele's, for
// Outlook, with every mail scope.
func lookup(token string) (entrasim.TokenInfo, bool) {
	if token != outlookToken {
		return entrasim.TokenInfo{}, false
	}
	return entrasim.TokenInfo{Username: adele, Resource: mailtest.OutlookResource, ExpiresAt: time.Now().Add(time.Hour),
		Scopes: []string{imapScope, popScope, smtpScope}}, true
}

// runMail runs doctor --mail's groups and checks what every report must
// hold: the token nowhere in it, and a fix for every failure.
func (f *mailFixture) runMail(t *testing.T) (Report, map[string]Result) {
	t.Helper()
	rep := Run(context.Background(), f.env, MailGroups())
	out, _ := json.Marshal(rep)
	if strings.Contains(string(out), outlookToken) || strings.Contains(string(out), "auth=Bearer") {
		t.Errorf("the report shows the token:\n%s", out)
	}
	byID := map[string]Result{}
	for _, r := range rep.Checks {
		byID[r.ID] = r
		if r.Status == Fail && r.Fix == "" {
			t.Errorf("%s failed without a fix: %+v", r.ID, r)
		}
	}
	return rep, byID
}

func mailStatuses(rep Report) map[string]Status {
	m := map[string]Status{}
	for id, s := range statuses(rep) {
		if strings.HasPrefix(id, "mail.") {
			m[id] = s
		}
	}
	return m
}

func TestMailLoginsWork(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{})
	rep, got := f.runMail(t)
	if diff := cmp.Diff(map[string]Status{"mail.token": OK, "mail.imap": OK, "mail.smtp": OK}, mailStatuses(rep)); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	if !rep.OK {
		t.Errorf("the report is not OK: %+v", rep)
	}
	if want := [][]string{{imapScope, smtpScope}}; !cmp.Equal(want, f.asked) {
		t.Errorf("token requests for %v, want one for %v", f.asked, want)
	}
	if r := got["mail.imap"]; !strings.Contains(r.Title, "IMAP login to "+f.mail.IMAPS) || !strings.Contains(r.Summary, "as "+adele) {
		t.Errorf("IMAP row %+v", r)
	}
	for _, id := range []string{"authority", "tenant", "app"} {
		if _, ran := got[id]; ran {
			t.Errorf("doctor --mail ran %s", id)
		}
	}
	if n := len(f.mail.Sent()); n != 0 {
		t.Errorf("the check sent %d messages", n)
	}
}

func TestMailSMTPAuthDisabled(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{SMTPAuthDisabled: "Tenant"})
	rep, got := f.runMail(t)
	r := got["mail.smtp"]
	if r.Status != Fail || !strings.Contains(r.Summary, "5.7.139") || !strings.Contains(r.Reason, "SMTP AUTH is turned off") ||
		!strings.Contains(r.Fix, "Set-CASMailbox -Identity "+adele+" -SmtpClientAuthenticationDisabled $false") {
		t.Errorf("SMTP row %+v", r)
	}
	if got["mail.imap"].Status != OK || rep.OK {
		t.Errorf("IMAP %s, report OK %v: want IMAP ok and the report failed", got["mail.imap"].Status, rep.OK)
	}
}

func TestMailIMAPDisabled(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{IMAPDisabled: true})
	rep, got := f.runMail(t)
	r := got["mail.imap"]
	if r.Status != Fail || !strings.Contains(r.Summary, "AUTHENTICATE failed") || !strings.Contains(r.Fix, "-ImapEnabled $true") || r.Reason == "" {
		t.Errorf("IMAP row %+v", r)
	}
	if rep.OK {
		t.Error("the report is OK")
	}
}

func TestMailSharedMailbox(t *testing.T) {
	t.Run("with Full Access and Send As", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{FullAccess: map[string][]string{salesMailbox: {adele}}, SendAs: map[string][]string{salesMailbox: {adele}}})
		f.env.Mail.Mailbox = salesMailbox
		rep, got := f.runMail(t)
		if !rep.OK || !strings.Contains(got["mail.imap"].Summary, "as "+salesMailbox) || !strings.Contains(got["mail.smtp"].Summary, "as "+adele) {
			t.Errorf("IMAP %+v\nSMTP %+v", got["mail.imap"], got["mail.smtp"])
		}
	})
	t.Run("without Full Access", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{})
		f.env.Mail.Mailbox = salesMailbox
		_, got := f.runMail(t)
		if r := got["mail.imap"]; r.Status != Fail || !strings.Contains(r.Fix, "Add-MailboxPermission -Identity "+salesMailbox+" -User "+adele) {
			t.Errorf("IMAP row %+v", r)
		}
	})
}

func TestMailWithoutScopes(t *testing.T) {
	t.Run("no IMAP", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{})
		f.flags.Scopes = slices.DeleteFunc(f.flags.Scopes, func(s string) bool { return s == "imap" })
		_, got := f.runMail(t)
		if r := got["mail.imap"]; r.Status != Fail || !strings.Contains(r.Summary, "was not tried") || !strings.Contains(r.Fix, "reauth --profile default --scopes imap") {
			t.Errorf("IMAP row %+v", r)
		}
		if got["mail.smtp"].Status != OK || !cmp.Equal([][]string{{smtpScope}}, f.asked) {
			t.Errorf("SMTP %+v, token requests %v", got["mail.smtp"], f.asked)
		}
	})
	t.Run("none", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{})
		f.flags.Scopes = []string{"User.Read", "offline_access"}
		rep, got := f.runMail(t)
		if diff := cmp.Diff(map[string]Status{"mail.imap": Fail, "mail.smtp": Fail}, mailStatuses(rep)); diff != "" {
			t.Errorf("statuses mismatch (-want +got):\n%s", diff)
		}
		if f.asked != nil || !strings.Contains(got["mail.smtp"].Fix, "--scopes smtp") {
			t.Errorf("token requests %v; SMTP %+v", f.asked, got["mail.smtp"])
		}
	})
}

func TestMailPOP(t *testing.T) {
	t.Run("held", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{POPDisabled: true})
		f.flags.Scopes = append(f.flags.Scopes, "pop")
		f.env.Mail.POPHost = f.mail.POP3S
		_, got := f.runMail(t)
		if r := got["mail.pop"]; r.Status != Fail || !strings.Contains(r.Fix, "-PopEnabled $true") {
			t.Errorf("POP row %+v", r)
		}
	})
	t.Run("asked for without its scope", func(t *testing.T) {
		f := newMailFixture(t, mailtest.Exchange{})
		f.env.Mail.POPHost = f.mail.POP3S
		_, got := f.runMail(t)
		if r := got["mail.pop"]; r.Status != Fail || !strings.Contains(r.Fix, "--scopes pop") {
			t.Errorf("POP row %+v", r)
		}
	})
}

func TestMailTokenRefused(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{})
	f.tokenErr = errors.New("profile \"default\" needs an interactive sign-in (AADSTS65001: no consent); run: ms365auth reauth\nfix: ask an admin to open https://login.example/adminconsent")
	rep, got := f.runMail(t)
	r := got["mail.token"]
	if r.Status != Fail || strings.Contains(r.Summary, "\n") || r.Fix != "ask an admin to open https://login.example/adminconsent" {
		t.Errorf("token row %+v", r)
	}
	if diff := cmp.Diff(map[string]Status{"mail.token": Fail, "mail.imap": Skip, "mail.smtp": Skip}, mailStatuses(rep)); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
}

func TestMailSandbox(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{})
	f.flags.Sandbox = true
	_, got := f.runMail(t)
	if r := got["mail.token"]; r.Status != Fail || !strings.Contains(r.Summary, "the sandbox has no mail server") || f.asked != nil {
		t.Errorf("token row %+v, token requests %v", r, f.asked)
	}
	if _, tried := got["mail.imap"]; !tried || got["mail.imap"].Status != Skip {
		t.Errorf("IMAP row %+v", got["mail.imap"])
	}
}

func TestMailNotLinked(t *testing.T) {
	f := newMailFixture(t, mailtest.Exchange{})
	if err := (&store.File{Dir: f.dir}).Delete("default"); err != nil {
		t.Fatal(err)
	}
	_, got := f.runMail(t)
	if r := got["mail.token"]; r.Status != Fail || !strings.Contains(r.Fix, "ms365auth link --client-id <application ID> --scopes imap,smtp") {
		t.Errorf("token row %+v", r)
	}
}

func TestMailHostsValidated(t *testing.T) {
	for _, h := range []string{"outlook.office365.com:99999", "host:port", ":993", "a b"} {
		if err := (&Mail{SMTPHost: h}).Validate(); err == nil || !strings.Contains(err.Error(), "--smtp-host") {
			t.Errorf("%q: %v", h, err)
		}
	}
	for _, h := range []string{"outlook.office365.com", "127.0.0.1:1993", "[::1]:993", "::1"} {
		if err := (&Mail{IMAPHost: h}).Validate(); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
}

// TestMailServersOfTheCloud: without host flags the cloud's servers are
// used, smtp-mail.outlook.com for a personal account; a name that does not
// resolve says so (a resolver that finds nothing stands in for DNS).
func TestMailServersOfTheCloud(t *testing.T) {
	for _, c := range []struct{ tenant, imap, smtp string }{
		{"common", "outlook.office365.com:993", "smtp.office365.com:587"},
		{"consumers", "outlook.office365.com:993", "smtp-mail.outlook.com:587"},
	} {
		t.Run(c.tenant, func(t *testing.T) {
			f := newMailFixture(t, mailtest.Exchange{})
			f.flags.Tenant = c.tenant
			f.env.Mail.IMAPHost, f.env.Mail.SMTPHost = "", ""
			f.env.Mail.Resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
				return nil, &net.DNSError{Err: "no such host", IsNotFound: true}
			}}
			_, got := f.runMail(t)
			imap, smtp := got["mail.imap"], got["mail.smtp"]
			if imap.Title != "IMAP login to "+c.imap || smtp.Title != "SMTP login to "+c.smtp {
				t.Errorf("titles %q, %q; want the servers %s, %s", imap.Title, smtp.Title, c.imap, c.smtp)
			}
			if smtp.Status != Fail || !strings.Contains(smtp.Summary, "cannot resolve") || !strings.Contains(smtp.Fix, "DNS") {
				t.Errorf("SMTP row %+v", smtp)
			}
		})
	}
}
