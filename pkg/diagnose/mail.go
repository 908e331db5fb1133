package diagnose

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entra"
	"github.com/ms365auth/ms365auth/pkg/mailcheck"
	"github.com/ms365auth/ms365auth/pkg/profile"
	"github.com/ms365auth/ms365auth/pkg/store"
)

// Mail asks for the mail logins (doctor --mail): with the profile's token
// for Outlook, log in to IMAP and SMTP submission (and POP, when the
// profile holds its scope or POPHost is given) with SASL XOAUTH2, then log
// out. Nothing is sent and the mailbox is opened read-only.
type Mail struct {
	// Mailbox is a shared mailbox to open with the account's token, ""
	// for the account's own.
	Mailbox string
	// IMAPHost, SMTPHost and POPHost (host or host:port) replace the
	// cloud's servers; a POPHost also asks for POP. The protocol's usual
	// port and TLS mode stay when no port is given.
	IMAPHost, SMTPHost, POPHost string
	// TLS is the base TLS configuration; nil trusts the system's roots.
	TLS *tls.Config
	// Timeout bounds each network step; zero is mailcheck's default.
	Timeout time.Duration
	// Resolver resolves the hosts; nil is the system's.
	Resolver *net.Resolver
}

// MailGroups are the groups doctor --mail runs: the settings and the store
// the token comes from, then the logins. The authority and the app
// registration are left to a plain doctor: a token that cannot be had
// says why in its own row.
func MailGroups() []Group {
	return []Group{SettingsGroup(), StoreGroup(), MailGroup()}
}

// MailGroup gets a token for Outlook, then logs in to each mail server
// with it, all at once (see pkg/mailcheck, which explains Exchange's
// refusals). Without Env.Mail it reports nothing.
func MailGroup() Group {
	return Group{Name: "mail", Checks: []Check{
		{ID: "mail.token", Title: "Outlook token", Run: checkMailToken},
		{ID: "mail.imap", Title: "IMAP login", Run: mailLogin(mailcheck.IMAP)},
		{ID: "mail.smtp", Title: "SMTP login", Run: mailLogin(mailcheck.SMTP)},
		{ID: "mail.pop", Title: "POP login", Run: mailLogin(mailcheck.POP)},
	}}
}

// mailFacts are the token for the logins and, once they ran, their results.
type mailFacts struct {
	user     string          // the signed-in account: the SASL user
	token    mailcheck.Token // Scopes empty (not nil) when the profile holds none
	held     []string        // the profile's Outlook scopes
	personal bool            // a personal Microsoft account (outlook.com)
	ready    bool            // the logins can be tried
	results  []mailcheck.Result
	ran      bool
}

// mailProtocols are the protocols whose scopes ask for an Outlook token.
var mailProtocols = []mailcheck.Protocol{mailcheck.IMAP, mailcheck.SMTP, mailcheck.POP}

// outlookScopes are the mail protocol scopes among the profile's.
func outlookScopes(scopes []string) []string {
	resolved, err := entra.ResolveScopes(scopes)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range resolved {
		last := s[strings.LastIndex(s, "/")+1:]
		for _, p := range mailProtocols {
			if entra.ScopeResource(s) != entra.GraphResource && strings.EqualFold(last, p.Scope()) {
				out = append(out, s)
			}
		}
	}
	return out
}

func holds(scopes []string, p mailcheck.Protocol) bool {
	for _, s := range scopes {
		if strings.EqualFold(s[strings.LastIndex(s, "/")+1:], p.Scope()) {
			return true
		}
	}
	return false
}

// checkMailToken reads who signed in and gets the access token for the
// profile's Outlook scopes (never shown). A profile without any leaves the
// logins to say, protocol by protocol, which scope to add.
func checkMailToken(ctx context.Context, x *Examination) Result {
	if x.env.Mail == nil {
		return Result{}
	}
	f := &mailFacts{}
	x.mail = f
	p := x.profile()
	name := x.env.Profile
	switch {
	case p == nil:
		return skip("needs valid settings")
	case p.Sandbox:
		return Result{Status: Fail, Summary: "the sandbox has no mail server: its tokens come from a stand-in for Entra ID that Exchange Online would refuse, so no login was tried",
			Fix: "check a real account's mail instead: ms365auth link --profile work --client-id <application ID> --scopes imap,smtp, then ms365auth doctor --mail --profile work"}
	case !x.openStore().usable() || x.Status("store.roundtrip") == Fail:
		return skip("needs a usable store")
	}
	rec, err := x.openStore().st.Load(name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Result{Status: Fail, Summary: fmt.Sprintf("profile %q is not linked, so it has no token for Outlook", name),
			Fix: "run: ms365auth link" + profileFlag(name) + " --client-id <application ID> --scopes imap,smtp"}
	case err != nil:
		return skip("needs the profile's tokens (see above)")
	case rec.Account == "":
		return Result{Status: Fail, Summary: "the stored tokens do not say which account signed in, so there is no user name to log in with",
			Fix: "run: " + x.env.ReauthCommand(name)}
	}
	f.user, f.held = rec.Account, outlookScopes(p.Scopes)
	f.personal = strings.EqualFold(p.Tenant, "consumers") || rec.TenantID == entra.ConsumersTenantID
	if len(f.held) == 0 {
		// mailcheck says per protocol which scope to add, before connecting.
		f.token, f.ready = mailcheck.Token{Scopes: []string{}}, true
		return Result{}
	}
	tok, err := x.env.AccessToken(ctx, name, f.held)
	if err != nil {
		return tokenFailure(err, x.env.ReauthCommand(name))
	}
	f.token, f.ready = mailcheck.Token{AccessToken: tok, Scopes: f.held}, true
	return Result{Status: OK, Summary: fmt.Sprintf("a token of %s for %s", f.user, strings.Join(scopeNames(f.held), " "))}
}

// tokenFailure turns the error of an access token request into a row:
// its first line, and the fix it carries ("fix: …") or the command it
// names, or reauth.
func tokenFailure(err error, reauth string) Result {
	msg, fix, _ := strings.Cut(err.Error(), "\nfix: ")
	r := Result{Status: Fail, Summary: oneLine(msg), Fix: oneLine(fix), Cause: err}
	var ee *entra.Error
	if errors.As(err, &ee) {
		r.AADSTS = ee.Code
	}
	var cmd interface{ Command() string }
	switch {
	case r.Fix != "":
	case errors.As(err, &cmd):
		r.Fix = "run: " + cmd.Command()
	default:
		r.Fix = "run: " + reauth
	}
	return r
}

// scopeNames are scopes without their resource, as people say them.
func scopeNames(scopes []string) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s[strings.LastIndex(s, "/")+1:]
	}
	return out
}

// mailLogin is the check of one protocol's login.
func mailLogin(p mailcheck.Protocol) func(context.Context, *Examination) Result {
	return func(ctx context.Context, x *Examination) Result {
		f := x.mail
		if x.env.Mail == nil || f == nil {
			return Result{}
		}
		if p == mailcheck.POP && !x.env.Mail.wantPOP(f.held) {
			return Result{} // not asked for
		}
		if !f.ready {
			return skip("needs an Outlook token")
		}
		x.runMail(ctx)
		for _, r := range f.results {
			if r.Target.Protocol == p {
				return Result{Title: r.Title(), Status: Status(r.Status), Summary: r.Summary, Reason: r.Cause, Fix: r.Fix}
			}
		}
		return Result{} // not asked for (POP)
	}
}

// wantPOP says whether POP is tried: when the profile holds its scope, or
// a POP host was given.
func (m *Mail) wantPOP(held []string) bool { return m.POPHost != "" || holds(held, mailcheck.POP) }

// runMail logs in to every target at once, the first time a login check
// asks.
func (x *Examination) runMail(ctx context.Context) {
	f := x.mail
	if f.ran {
		return
	}
	f.ran = true
	p, m := x.profile(), x.env.Mail
	cloud := mailcheck.CloudOf(p.AuthorityHost, f.personal)
	var targets []mailcheck.Target
	for _, t := range mailcheck.Targets(cloud) {
		host := map[mailcheck.Protocol]string{mailcheck.IMAP: m.IMAPHost, mailcheck.SMTP: m.SMTPHost, mailcheck.POP: m.POPHost}[t.Protocol]
		if t.Protocol == mailcheck.POP {
			if !m.wantPOP(f.held) {
				continue
			}
			t.Optional = false // asked for: a missing scope fails
		}
		if host != "" {
			t.Host, t.Port = splitHostPort(host, t.Port)
		}
		targets = append(targets, t)
	}
	token := f.token
	f.results = mailcheck.Check(ctx, targets, mailcheck.Options{
		User: f.user, Mailbox: m.Mailbox, Profile: x.env.Profile, ReauthCommand: x.env.ReauthCommand(x.env.Profile),
		TLS: m.TLS, Timeout: m.Timeout, Resolver: m.Resolver,
		Token: func(context.Context, mailcheck.Protocol) (mailcheck.Token, error) { return token, nil },
	})
}

// splitHostPort reads host[:port]; without a port, dflt.
func splitHostPort(s string, dflt int) (string, int) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			return host, n
		}
	}
	return strings.Trim(s, "[]"), dflt
}

// profileFlag is the --profile flag a printed command needs.
func profileFlag(name string) string {
	if name == "" || name == profile.DefaultName {
		return ""
	}
	return " --profile " + name
}

// Validate checks the hosts given: host or host:port, with a port from 1
// to 65535.
func (m *Mail) Validate() error {
	for flag, h := range map[string]string{"--imap-host": m.IMAPHost, "--smtp-host": m.SMTPHost, "--pop-host": m.POPHost} {
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			if net.ParseIP(strings.Trim(h, "[]")) == nil && strings.ContainsAny(h, ":[] /") {
				return fmt.Errorf("%s %q: give host or host:port, such as outlook.office365.com:993", flag, h)
			}
			continue
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s %q: give host or host:port, with a port from 1 to 65535", flag, h)
		}
	}
	return nil
}
