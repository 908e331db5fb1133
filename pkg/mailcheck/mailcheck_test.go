//go:build linux

package mailcheck_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
	"github.com/ms365auth/ms365auth/pkg/internal/mailtest"
	"github.com/ms365auth/ms365auth/pkg/mailcheck"
)

const (
	adele   = "adele@contoso.com"
	shared  = "sales@contoso.com"
	outlook = mailtest.OutlookResource
)

var allScopes = []string{outlook + "/IMAP.AccessAsUser.All", outlook + "/POP.AccessAsUser.All", outlook + "/SMTP.Send"}

// tokens stands in for Entra: each token is adele's, good in one way or
// wrong in one way.
func tokens(token string) (entrasim.TokenInfo, bool) {
	info := entrasim.TokenInfo{Username: adele, Resource: outlook, ExpiresAt: time.Now().Add(time.Hour), Scopes: allScopes}
	switch token {
	case "good-token-Abc123":
	case "graph-token-Abc123":
		info.Resource = "https://graph.microsoft.com"
	default:
		return entrasim.TokenInfo{}, false
	}
	return info, true
}

// world is a mail server and the options to check a login against it.
type world struct {
	t    testing.TB
	srv  *mailtest.Server
	opts mailcheck.Options
}

func exchange(t *testing.T, e mailtest.Exchange) *world {
	return newWorld(t, mailtest.StartExchange(t, mailtest.Options{Lookup: tokens, Exchange: e}))
}

func newWorld(t testing.TB, srv *mailtest.Server) *world {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(srv.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("reading the CA: %v", err)
	}
	return &world{t: t, srv: srv, opts: mailcheck.Options{
		User: adele, Profile: "work", TLS: &tls.Config{RootCAs: pool}, Timeout: 5 * time.Second,
		Token: func(context.Context, mailcheck.Protocol) (mailcheck.Token, error) {
			return mailcheck.Token{AccessToken: "good-token-Abc123", Scopes: allScopes}, nil
		},
	}}
}

func target(t testing.TB, p mailcheck.Protocol, addr string) mailcheck.Target {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	mode := mailcheck.ImplicitTLS
	if p == mailcheck.SMTP {
		mode = mailcheck.StartTLS
	}
	return mailcheck.Target{Protocol: p, Host: host, Port: n, TLS: mode, Optional: p == mailcheck.POP}
}

func (w *world) targets() []mailcheck.Target {
	ts := []mailcheck.Target{target(w.t, mailcheck.IMAP, w.srv.IMAPS), target(w.t, mailcheck.SMTP, w.srv.Submission)}
	if w.srv.POP3S != "" {
		ts = append(ts, target(w.t, mailcheck.POP, w.srv.POP3S))
	}
	return ts
}

// check runs the check for p and checks what every result must hold: no
// token or SASL string in anything shown, and a cause and fix on failure.
func (w *world) check(p mailcheck.Protocol) mailcheck.Result {
	w.t.Helper()
	for _, r := range mailcheck.Check(context.Background(), w.targets(), w.opts) {
		shown := strings.Join([]string{r.Reply, r.Summary, r.Cause, r.Fix}, "\n")
		if strings.Contains(shown, "Abc123") || strings.Contains(shown, "auth=Bearer") {
			w.t.Errorf("%s shows the token:\n%s", r.ID(), shown)
		}
		if r.Status == mailcheck.Fail && (r.Cause == "" || r.Fix == "" || strings.Contains(r.Cause, "\n") || strings.Contains(r.Fix, "\n")) {
			w.t.Errorf("%s failed without one line of cause and one of fix: %+v", r.ID(), r)
		}
		if r.Target.Protocol == p {
			return r
		}
	}
	w.t.Fatalf("no result for %s", p)
	return mailcheck.Result{}
}

// want fails the test unless r stopped at stage with a reply and fix
// containing the given texts.
func want(t *testing.T, r mailcheck.Result, status mailcheck.Status, stage mailcheck.Stage, reply string, fix ...string) {
	t.Helper()
	if r.Status != status || r.Stage != stage || !strings.Contains(r.Reply, reply) {
		t.Fatalf("%s: status %s at %s, reply %q; want %s at %s with %q\n%+v", r.ID(), r.Status, r.Stage, r.Reply, status, stage, reply, r)
	}
	for _, f := range fix {
		if !strings.Contains(r.Fix, f) && !strings.Contains(r.Cause, f) && !strings.Contains(r.Summary, f) {
			t.Errorf("%s: cause %q, fix %q; want %q", r.ID(), r.Cause, r.Fix, f)
		}
	}
}

func TestAllLogInAtExchange(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	results := mailcheck.Check(context.Background(), w.targets(), w.opts)
	for _, r := range results {
		want(t, r, mailcheck.OK, mailcheck.StageDone, "")
	}
	if !mailcheck.AllOK(results) {
		t.Error("AllOK is false")
	}
	if n := len(w.srv.Sent()); n != 0 {
		t.Errorf("the check sent %d messages", n)
	}
}

func TestSMTPAuthDisabledForTenant(t *testing.T) {
	w := exchange(t, mailtest.Exchange{SMTPAuthDisabled: "Tenant"})
	want(t, w.check(mailcheck.SMTP), mailcheck.Fail, mailcheck.StageAuth,
		"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant",
		"Set-CASMailbox -Identity "+adele+" -SmtpClientAuthenticationDisabled $false", "Set-TransportConfig -SmtpClientAuthenticationDisabled $false", "wins")
}

func TestSMTPAuthDisabledForMailbox(t *testing.T) {
	w := exchange(t, mailtest.Exchange{SMTPAuthDisabled: "Mailbox"})
	r := w.check(mailcheck.SMTP)
	want(t, r, mailcheck.Fail, mailcheck.StageAuth, "disabled for the Mailbox",
		"turned off for the mailbox "+adele, "Set-CASMailbox -Identity "+adele+" -SmtpClientAuthenticationDisabled $false")
	if strings.Contains(r.Fix, "Set-TransportConfig") {
		t.Errorf("a mailbox setting needs no tenant change: %s", r.Fix)
	}
}

func TestSMTPUserNotTheTokens(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	w.opts.User = "a.vance@contoso.com" // an alias, or another account
	want(t, w.check(mailcheck.SMTP), mailcheck.Fail, mailcheck.StageAuth, "535 5.7.3 Authentication unsuccessful",
		"not an alias", "shared mailbox")
}

func TestSMTPSendAsDenied(t *testing.T) {
	w := exchange(t, mailtest.Exchange{FullAccess: map[string][]string{shared: {adele}}})
	w.opts.Mailbox = shared
	r := w.check(mailcheck.SMTP)
	want(t, r, mailcheck.Fail, mailcheck.StageSendAs, "554 5.2.252 SendAsDenied",
		"Add-RecipientPermission -Identity "+shared+" -Trustee "+adele+" -AccessRights SendAs")
	if r.User != adele {
		t.Errorf("SMTP logged in as %s, want the delegate %s", r.User, adele)
	}
}

func TestSharedMailboxDoneRight(t *testing.T) {
	w := exchange(t, mailtest.Exchange{FullAccess: map[string][]string{shared: {adele}}, SendAs: map[string][]string{shared: {adele}}})
	w.opts.Mailbox = shared
	for _, r := range mailcheck.Check(context.Background(), w.targets(), w.opts) {
		want(t, r, mailcheck.OK, mailcheck.StageDone, "")
		if wantUser := map[mailcheck.Protocol]string{mailcheck.SMTP: adele}[r.Target.Protocol]; wantUser == "" && r.User != shared || wantUser != "" && r.User != wantUser {
			t.Errorf("%s logged in as %s", r.ID(), r.User)
		}
	}
}

func TestIMAPDisabled(t *testing.T) {
	w := exchange(t, mailtest.Exchange{IMAPDisabled: true})
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageAuth, "NO AUTHENTICATE failed.",
		"Set-CASMailbox -Identity "+adele+" -ImapEnabled $true", "ms365auth reauth --profile work --scopes imap")
}

func TestIMAPGraphToken(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	w.opts.Token = func(context.Context, mailcheck.Protocol) (mailcheck.Token, error) {
		return mailcheck.Token{AccessToken: "graph-token-Abc123"}, nil // scopes unknown: only the server can tell
	}
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageAuth, "AUTHENTICATE failed.", "another resource", "--scopes imap")
}

func TestSharedMailboxWithoutFullAccess(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	w.opts.Mailbox = shared
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageMailbox, "User is authenticated but not connected.",
		"Add-MailboxPermission -Identity "+shared+" -User "+adele+" -AccessRights FullAccess", "address is wrong")
}

func TestPOPDisabled(t *testing.T) {
	w := exchange(t, mailtest.Exchange{POPDisabled: true})
	want(t, w.check(mailcheck.POP), mailcheck.Fail, mailcheck.StageAuth, "-ERR Authentication failure",
		"Set-CASMailbox -Identity "+adele+" -PopEnabled $true", "--scopes pop")
}

func TestTokenWithoutScope(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	w.opts.Token = func(context.Context, mailcheck.Protocol) (mailcheck.Token, error) {
		return mailcheck.Token{AccessToken: "good-token-Abc123", Scopes: []string{outlook + "/SMTP.Send"}}, nil
	}
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageScope, "", "`ms365auth reauth --profile work --scopes imap`")
	want(t, w.check(mailcheck.POP), mailcheck.Skip, mailcheck.StageScope, "", "`ms365auth reauth --profile work --scopes pop`")
	want(t, w.check(mailcheck.SMTP), mailcheck.OK, mailcheck.StageDone, "")
	for _, c := range w.srv.Checks() {
		if c.Service != "submission" {
			t.Errorf("a protocol without its scope was tried: %+v", c)
		}
	}
	w.opts.Profile = "default"
	if r := w.check(mailcheck.IMAP); !strings.Contains(r.Fix, "`ms365auth reauth --scopes imap`") {
		t.Errorf("default profile: %s", r.Fix)
	}
}

func TestHostNotFound(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	tg := target(t, mailcheck.IMAP, w.srv.IMAPS)
	tg.Host = "imap.mailcheck.invalid"
	r := mailcheck.CheckOne(context.Background(), tg, w.opts)
	want(t, r, mailcheck.Fail, mailcheck.StageDNS, "", "DNS", "imap.mailcheck.invalid")
}

func TestPortRefused(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := target(t, mailcheck.SMTP, ln.Addr().String())
	ln.Close()
	r := mailcheck.CheckOne(context.Background(), tg, w.opts)
	want(t, r, mailcheck.Fail, mailcheck.StageConnect, "", "refused", "allow outgoing TCP port "+strconv.Itoa(tg.Port))
}

func TestUntrustedCertificate(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	w.opts.TLS = nil // the system's roots do not know the stand-in's CA
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageTLS, "", "intercepts TLS")
	want(t, w.check(mailcheck.SMTP), mailcheck.Fail, mailcheck.StageTLS, "", "intercepts TLS")
}

func TestNotAMailServer(t *testing.T) {
	w := exchange(t, mailtest.Exchange{})
	// The SMTP port's greeting where IMAP's is expected: plain text, so
	// the TLS handshake fails; the IMAP port where POP is expected.
	tg := target(t, mailcheck.POP, w.srv.IMAPS)
	want(t, mailcheck.CheckOne(context.Background(), tg, w.opts), mailcheck.Fail, mailcheck.StageGreeting, "* OK The Microsoft Exchange IMAP4", "another service")
}

// TestDovecotRig logs in to the real Dovecot (IMAP, and POP when
// dovecot-pop3d is installed) and the submission server.
func TestDovecotRig(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Lookup: tokens})
	w := newWorld(t, srv)
	results := mailcheck.Check(context.Background(), w.targets(), w.opts)
	for _, r := range results {
		want(t, r, mailcheck.OK, mailcheck.StageDone, "")
	}
	if len(results) != 3 {
		t.Logf("Dovecot's POP is not installed (dovecot-pop3d): checked %d protocols", len(results))
	}
	for _, c := range srv.Checks() {
		if c.Refusal != "" {
			t.Errorf("refused: %+v", c)
		}
	}
}

// TestDovecotSharedMailbox opens a shared mailbox in the real Dovecot with
// the delegate's token, and refuses it to someone without Full Access.
func TestDovecotSharedMailbox(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Lookup: tokens, Exchange: mailtest.Exchange{
		FullAccess: map[string][]string{shared: {adele}}, SendAs: map[string][]string{shared: {adele}},
	}})
	w := newWorld(t, srv)
	w.opts.Mailbox = shared
	for _, r := range mailcheck.Check(context.Background(), w.targets(), w.opts) {
		want(t, r, mailcheck.OK, mailcheck.StageDone, "")
	}
	w.opts.Mailbox = "support@contoso.com"
	want(t, w.check(mailcheck.IMAP), mailcheck.Fail, mailcheck.StageAuth, "Authentication failed")
}

// BenchmarkCheckDovecot times a full check (IMAP, SMTP and POP at once)
// against the Dovecot rig.
func BenchmarkCheckDovecot(b *testing.B) {
	w := newWorld(b, mailtest.Start(b, mailtest.Options{Lookup: tokens}))
	targets := w.targets()
	b.ResetTimer()
	for b.Loop() {
		for _, r := range mailcheck.Check(context.Background(), targets, w.opts) {
			if r.Status != mailcheck.OK {
				b.Fatalf("%+v", r)
			}
		}
	}
}
