// Package mailcheck proves that a mail login works before a mail client
// tries it: it signs in to Exchange Online's IMAP, SMTP submission and POP
// with SASL XOAUTH2 and an access token, then logs out. Nothing is sent and
// nothing in the mailbox changes. Each protocol gives a Result that names
// the stage that failed, the server's reply (cleaned, never the token), and
// the likely cause and fix, from what Exchange's refusals mean.
package mailcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Protocol is one of the mail protocols Exchange Online offers.
type Protocol string

const (
	IMAP Protocol = "imap"
	SMTP Protocol = "smtp"
	POP  Protocol = "pop"
)

// Name is the protocol as people write it.
func (p Protocol) Name() string { return strings.ToUpper(string(p)) }

// Scope is the permission Exchange asks of a token for the protocol: the
// last segment of its scope URI (ms365auth's --scopes names it after the
// protocol: imap, smtp, pop).
func (p Protocol) Scope() string {
	switch p {
	case IMAP:
		return "IMAP.AccessAsUser.All"
	case POP:
		return "POP.AccessAsUser.All"
	case SMTP:
		return "SMTP.Send"
	}
	return ""
}

// TLSMode is how a connection is protected.
type TLSMode string

const (
	ImplicitTLS TLSMode = "tls"      // TLS from the first byte (993, 995)
	StartTLS    TLSMode = "starttls" // plain greeting, then STARTTLS (587)
)

// Target is one server to log in to.
type Target struct {
	Protocol Protocol
	Host     string
	Port     int
	TLS      TLSMode
	// Optional targets are skipped, not failed, when the token lacks the
	// protocol's scope (POP, which few people use).
	Optional bool
}

// Address is host:port.
func (t Target) Address() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Cloud is the Microsoft cloud an account lives in, which decides the
// mail hosts.
type Cloud string

const (
	Global     Cloud = "global"
	USGov      Cloud = "usgov" // GCC High and DoD
	China      Cloud = "china" // operated by 21Vianet
	PersonalMS Cloud = "personal"
)

// CloudOf tells the cloud from the authority host of the sign-in and
// whether the account is a personal Microsoft account.
func CloudOf(authorityHost string, personal bool) Cloud {
	h := strings.ToLower(authorityHost)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	switch {
	case strings.HasSuffix(h, ".us") || strings.HasSuffix(h, "usgovcloudapi.net"):
		return USGov
	case strings.HasSuffix(h, ".cn"):
		return China
	case personal:
		return PersonalMS
	}
	return Global
}

// Targets are the default servers for a cloud, from Microsoft's published
// settings: IMAP 993 and POP 995 with TLS, SMTP submission 587 with
// STARTTLS; personal accounts (outlook.com, hotmail) submit to
// smtp-mail.outlook.com.
func Targets(c Cloud) []Target {
	mailbox, submission := "outlook.office365.com", "smtp.office365.com"
	switch c {
	case USGov:
		mailbox, submission = "outlook.office365.us", "smtp.office365.us"
	case China:
		mailbox, submission = "partner.outlook.cn", "smtp.partner.outlook.cn"
	case PersonalMS:
		submission = "smtp-mail.outlook.com"
	}
	return []Target{
		{Protocol: IMAP, Host: mailbox, Port: 993, TLS: ImplicitTLS},
		{Protocol: SMTP, Host: submission, Port: 587, TLS: StartTLS},
		{Protocol: POP, Host: mailbox, Port: 995, TLS: ImplicitTLS, Optional: true},
	}
}

// Token is an access token and the scopes it was granted (the token
// response's scope; nil when unknown, and then not checked).
type Token struct {
	AccessToken string
	Scopes      []string
}

// TokenFunc gets a token good for the protocol.
type TokenFunc func(ctx context.Context, p Protocol) (Token, error)

// Options describe whose login to check and how to name the fixes.
type Options struct {
	// User is the signed-in account: the SASL user for SMTP, and for IMAP
	// and POP unless Mailbox is set.
	User string
	// Mailbox is a shared mailbox to open with User's token: the SASL user
	// for IMAP and POP. SMTP still authenticates as User (a shared mailbox
	// cannot sign in) and checks that it may send as Mailbox.
	Mailbox string
	Token   TokenFunc
	// Profile is the ms365auth profile, named in the commands of fixes
	// when it is not "default".
	Profile string
	// ReauthCommand, when set, is the reauth command to extend with
	// --scopes (for instance with --sandbox); by default it is built from
	// Profile.
	ReauthCommand string
	// TLS is the base TLS configuration (RootCAs for tests); nil uses the
	// system's roots. ServerName is set per target.
	TLS *tls.Config
	// Timeout bounds each step that waits for the network; zero means 15 s.
	Timeout time.Duration
	// Resolver resolves host names; nil uses net.DefaultResolver.
	Resolver *net.Resolver
}

// Status is the outcome of one check.
type Status string

const (
	OK   Status = "ok"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Stage is the step a check reached.
type Stage string

const (
	StageToken      Stage = "token"      // getting the access token
	StageScope      Stage = "scope"      // the token lacks the protocol's scope
	StageDNS        Stage = "dns"        // resolving the host
	StageConnect    Stage = "connect"    // TCP connection (refused, blocked, timed out)
	StageTLS        Stage = "tls"        // TLS handshake or STARTTLS
	StageGreeting   Stage = "greeting"   // the server's first line
	StageCapability Stage = "capability" // XOAUTH2 or STARTTLS not offered
	StageAuth       Stage = "auth"       // the XOAUTH2 login
	StageMailbox    Stage = "mailbox"    // opening the mailbox after the login (IMAP)
	StageSendAs     Stage = "send-as"    // MAIL FROM the shared address (SMTP)
	StageDone       Stage = "done"       // logged in and out
)

// Result is what one protocol's check found. It maps onto a diagnosis row:
// ID, Title, Status, Summary, Cause, Fix.
type Result struct {
	Target  Target
	User    string // the SASL user
	Status  Status
	Stage   Stage  // where it stopped; StageDone when it worked
	Reply   string // the server's reply at that stage, cleaned; "" when none
	Summary string // one line: what happened
	Cause   string // one line, "" when OK
	Fix     string // one line, "" when OK
	Elapsed time.Duration
}

// ID is a stable name for the check ("mail-imap").
func (r Result) ID() string { return "mail-" + string(r.Target.Protocol) }

// Title names the check ("IMAP login to outlook.office365.com:993").
func (r Result) Title() string {
	return fmt.Sprintf("%s login to %s", r.Target.Protocol.Name(), r.Target.Address())
}

// Check logs in to each target, all at once, and returns their results in
// the targets' order.
func Check(ctx context.Context, targets []Target, o Options) []Result {
	results := make([]Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = CheckOne(ctx, t, o)
		}()
	}
	wg.Wait()
	return results
}

// AllOK reports whether every result that was not skipped logged in.
func AllOK(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return false
		}
	}
	return true
}

// CheckOne logs in to one target.
func CheckOne(ctx context.Context, t Target, o Options) Result {
	start := time.Now()
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	c := &check{t: t, o: o, user: o.saslUser(t.Protocol)}
	c.run(ctx)
	c.r.Target, c.r.User, c.r.Elapsed = t, c.user, time.Since(start)
	if c.r.Status == "" {
		c.r.Status, c.r.Stage = OK, StageDone
		c.r.Summary = fmt.Sprintf("%s logged in to %s as %s and logged out", t.Protocol.Name(), t.Address(), c.user)
	}
	return c.r
}

// saslUser is who logs in to p.
func (o Options) saslUser(p Protocol) string {
	if o.Mailbox != "" && p != SMTP {
		return o.Mailbox
	}
	return o.User
}

// reauth is the command that gets a token with p's scope.
func (o Options) reauth(p Protocol) string {
	cmd := o.ReauthCommand
	if cmd == "" {
		cmd = "ms365auth reauth"
		if o.Profile != "" && o.Profile != "default" {
			cmd += " --profile " + o.Profile
		}
	}
	return cmd + " --scopes " + string(p)
}

// hasScope reports whether scopes grant p's scope; unknown scopes (nil)
// count as granted, since only the server can tell then.
func hasScope(scopes []string, p Protocol) bool {
	if scopes == nil {
		return true
	}
	for _, s := range scopes {
		if strings.EqualFold(s[strings.LastIndex(s, "/")+1:], p.Scope()) {
			return true
		}
	}
	return false
}
