package mailcheck

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ms365auth/ms365auth/pkg/servertext"
)

// check is one login in progress.
type check struct {
	t      Target
	o      Options
	user   string
	secret []string // what must never appear in a reply: the token, the SASL string
	conn   net.Conn
	tp     *textproto.Conn
	r      Result
}

// fail records the end of the check at stage.
func (c *check) fail(stage Stage, reply, summary, cause, fix string) {
	c.r.Status, c.r.Stage, c.r.Reply = Fail, stage, c.clean(reply)
	c.r.Summary, c.r.Cause, c.r.Fix = summary, cause, fix
}

// clean makes a server reply safe to show: no control characters, and
// neither the token nor the SASL string even if a server echoed them.
func (c *check) clean(reply string) string {
	for _, s := range c.secret {
		if s != "" {
			reply = strings.ReplaceAll(reply, s, servertext.Redacted)
		}
	}
	return strings.TrimSpace(servertext.Safe(reply))
}

func (c *check) run(ctx context.Context) {
	p := c.t.Protocol
	tok, err := c.o.Token(ctx, p)
	if err != nil {
		c.fail(StageToken, "", fmt.Sprintf("no token for %s", p.Name()),
			servertext.Safe(err.Error()), "Run `"+c.o.reauth(p)+"` and sign in.")
		return
	}
	if !hasScope(tok.Scopes, p) {
		summary := fmt.Sprintf("the token has no %s scope, so %s was not tried", p.Scope(), p.Name())
		cause := fmt.Sprintf("The profile was linked without %s access (granted: %s).", p.Name(), strings.Join(tok.Scopes, " "))
		c.fail(StageScope, "", summary, cause, "Run `"+c.o.reauth(p)+"` to add it.")
		if c.t.Optional {
			c.r.Status = Skip
		}
		return
	}
	sasl := base64.StdEncoding.EncodeToString([]byte("user=" + c.user + "\x01auth=Bearer " + tok.AccessToken + "\x01\x01"))
	c.secret = []string{sasl, tok.AccessToken}

	if !c.dial(ctx) {
		return
	}
	defer c.conn.Close()
	// One deadline for the whole conversation: a server that stops
	// answering must not hang the check.
	c.conn.SetDeadline(time.Now().Add(3 * c.o.Timeout))
	if stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) }); stop != nil {
		defer stop()
	}
	switch p {
	case IMAP:
		c.imap(sasl)
	case SMTP:
		c.smtp(sasl)
	case POP:
		c.pop(sasl)
	}
}

// dial resolves, connects and, for implicit TLS, shakes hands.
func (c *check) dial(ctx context.Context) bool {
	resolver := c.o.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	ips, err := resolver.LookupHost(rctx, c.t.Host)
	cancel()
	if err != nil {
		c.fail(StageDNS, "", fmt.Sprintf("%s: cannot resolve %s", c.t.Protocol.Name(), c.t.Host),
			fmt.Sprintf("DNS has no address for %s (%s).", c.t.Host, dnsReason(err)),
			"Check the host name and the network's DNS (is this machine online, or behind a proxy that must be used?).")
		return false
	}
	d := net.Dialer{Timeout: c.o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ips[0], fmt.Sprint(c.t.Port)))
	if err != nil {
		c.connectFailed(err)
		return false
	}
	c.conn = conn
	if c.t.TLS == ImplicitTLS {
		return c.handshake()
	}
	c.tp = textproto.NewConn(conn)
	return true
}

func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "the DNS server did not answer"
		}
		return de.Err
	}
	return err.Error()
}

func (c *check) connectFailed(err error) {
	name, port := c.t.Protocol.Name(), c.t.Port
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		c.fail(StageConnect, "", fmt.Sprintf("%s: %s refused the connection", name, c.t.Address()),
			fmt.Sprintf("Nothing accepts connections on port %d there, or a firewall rejects them.", port),
			fmt.Sprintf("Check the host and port; if they are right, ask the network's admin to allow outgoing TCP port %d.", port))
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		c.fail(StageConnect, "", fmt.Sprintf("%s: no answer from %s within %s", name, c.t.Address(), c.o.Timeout),
			fmt.Sprintf("The network drops connections to port %d (many networks block 587 and 993).", port),
			fmt.Sprintf("Try another network (a phone's hotspot) to confirm, then ask the network's admin to allow outgoing TCP port %d.", port))
	default:
		c.fail(StageConnect, "", fmt.Sprintf("%s: cannot connect to %s", name, c.t.Address()),
			servertext.Safe(err.Error())+".", "Check that this machine is online and that the network allows outgoing TCP port "+fmt.Sprint(port)+".")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handshake turns the connection into TLS.
func (c *check) handshake() bool {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.o.TLS != nil {
		cfg = c.o.TLS.Clone()
	}
	cfg.ServerName = c.t.Host
	tc := tls.Client(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(c.o.Timeout))
	if err := tc.Handshake(); err != nil {
		c.fail(StageTLS, "", fmt.Sprintf("%s: TLS with %s failed", c.t.Protocol.Name(), c.t.Address()),
			"TLS failed: "+servertext.Safe(err.Error())+".",
			"If the certificate is not Microsoft's, something on the network intercepts TLS (a proxy or firewall): use another network or ask its admin to exempt "+c.t.Host+"; otherwise check the system's CA certificates and clock.")
		return false
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	return true
}

// network is a read or write that failed midway.
func (c *check) network(stage Stage, err error) {
	c.fail(stage, "", fmt.Sprintf("%s: the connection to %s broke off", c.t.Protocol.Name(), c.t.Address()),
		"The server closed the connection or stopped answering ("+servertext.Safe(err.Error())+").",
		"Try again; if it repeats, the network may interfere with port "+fmt.Sprint(c.t.Port)+".")
}

func (c *check) imap(sasl string) {
	greeting, err := c.tp.ReadLine()
	if err != nil {
		c.network(StageGreeting, err)
		return
	}
	if !strings.HasPrefix(greeting, "* OK") {
		c.fail(StageGreeting, greeting, "IMAP: the server did not greet as an IMAP server", "Its first line was not `* OK`: the port may belong to another service.", "Check the IMAP host and port (outlook.office365.com:993).")
		return
	}
	lines, status, err := c.imapCommand("a1", "CAPABILITY")
	if err != nil {
		c.network(StageCapability, err)
		return
	}
	caps := strings.ToUpper(strings.Join(lines, " "))
	if !strings.Contains(caps, "AUTH=XOAUTH2") {
		c.fail(StageCapability, status, "IMAP: the server offers no XOAUTH2", "It does not take OAuth tokens: it is not Exchange Online, or a proxy stands in between.", "Check the IMAP host (outlook.office365.com for Microsoft 365).")
		return
	}
	cmd := "AUTHENTICATE XOAUTH2"
	if strings.Contains(caps, "SASL-IR") {
		cmd += " " + sasl
	}
	if _, status, err = c.imapCommand("a2", cmd, sasl); err != nil {
		c.network(StageAuth, err)
		return
	}
	if !imapOK(status, "a2") {
		c.refused(StageAuth, status)
		return
	}
	// Exchange can accept the token and still not open the mailbox (a
	// shared mailbox without Full Access); EXAMINE opens it read-only.
	if _, status, err = c.imapCommand("a3", "EXAMINE INBOX"); err != nil {
		c.network(StageMailbox, err)
		return
	}
	if !imapOK(status, "a3") {
		c.refused(StageMailbox, status)
		return
	}
	c.imapCommand("a4", "LOGOUT")
}

func imapOK(status, tag string) bool { return strings.HasPrefix(status, tag+" OK") }

// imapCommand sends a tagged command and reads to its tagged answer,
// answering a continuation with answer the first time (or with an empty
// line, which ends a failed XOAUTH2 exchange).
func (c *check) imapCommand(tag, cmd string, answer ...string) (untagged []string, status string, err error) {
	if err := c.tp.PrintfLine("%s %s", tag, cmd); err != nil {
		return nil, "", err
	}
	for {
		line, err := c.tp.ReadLine()
		if err != nil {
			return untagged, "", err
		}
		switch {
		case strings.HasPrefix(line, tag+" "):
			return untagged, line, nil
		case strings.HasPrefix(line, "+"):
			reply := ""
			if len(answer) > 0 {
				reply, answer = answer[0], nil
			}
			if err := c.tp.PrintfLine("%s", reply); err != nil {
				return untagged, "", err
			}
		default:
			untagged = append(untagged, line)
		}
	}
}

func (c *check) smtp(sasl string) {
	if _, msg, err := c.tp.ReadResponse(220); err != nil {
		c.smtpGreeting(msg, err)
		return
	}
	ext, ok := c.ehlo()
	if !ok {
		return
	}
	if c.t.TLS == StartTLS {
		if !strings.Contains(ext, "STARTTLS") {
			c.fail(StageCapability, "", "SMTP: the server offers no STARTTLS", "The connection cannot be encrypted, so no token is sent over it (a network device may strip STARTTLS).", "Use smtp.office365.com:587 from a network that does not interfere with SMTP.")
			return
		}
		if code, msg, err := c.smtpCommand(220, "STARTTLS"); err != nil {
			c.fail(StageTLS, fmt.Sprintf("%d %s", code, msg), "SMTP: STARTTLS was refused", "The server would not start TLS.", "Check the SMTP host and port (smtp.office365.com:587).")
			return
		}
		if !c.handshake() {
			return
		}
		if ext, ok = c.ehlo(); !ok {
			return
		}
	}
	if !strings.Contains(ext, "XOAUTH2") {
		c.fail(StageCapability, "", "SMTP: the server offers no XOAUTH2", "It does not take OAuth tokens: it is not Exchange Online's submission server, or a proxy stands in between.", "Check the SMTP host (smtp.office365.com, or smtp-mail.outlook.com for personal accounts).")
		return
	}
	code, msg, err := c.smtpCommand(235, "AUTH XOAUTH2 "+sasl)
	if code == 334 { // the error challenge: an empty line gets the failure
		code, msg, err = c.smtpCommand(235, "")
	}
	if err != nil {
		if code == 0 {
			c.network(StageAuth, err)
			return
		}
		c.refused(StageAuth, fmt.Sprintf("%d %s", code, msg))
		return
	}
	if c.o.Mailbox != "" {
		// A delegate sends as the shared mailbox: ask whether MAIL FROM
		// it is accepted, then take it back. Exchange may refuse Send As
		// only at the end of a message, which this does not send.
		code, msg, err := c.smtpCommand(250, "MAIL FROM:<"+c.o.Mailbox+">")
		if err != nil {
			if code == 0 {
				c.network(StageSendAs, err)
				return
			}
			c.refused(StageSendAs, fmt.Sprintf("%d %s", code, msg))
			return
		}
		c.smtpCommand(250, "RSET")
	}
	c.smtpCommand(221, "QUIT")
}

func (c *check) smtpGreeting(msg string, err error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		c.fail(StageGreeting, fmt.Sprintf("%d %s", te.Code, te.Msg), "SMTP: the server refused the session", "It greeted with an error instead of 220.", "Check the SMTP host and port (smtp.office365.com:587); if they are right, try again later.")
		return
	}
	c.network(StageGreeting, err)
}

// ehlo says EHLO and returns the extensions, upper case.
func (c *check) ehlo() (string, bool) {
	code, msg, err := c.smtpCommand(250, "EHLO localhost")
	if err != nil {
		if code == 0 {
			c.network(StageCapability, err)
		} else {
			c.fail(StageCapability, fmt.Sprintf("%d %s", code, msg), "SMTP: EHLO was refused", "The server would not list its extensions.", "Check the SMTP host and port (smtp.office365.com:587).")
		}
		return "", false
	}
	return strings.ToUpper(msg), true
}

// smtpCommand sends a command and reads the answer; err is a
// *textproto.Error when the code is not want, and code is 0 when the
// connection failed.
func (c *check) smtpCommand(want int, cmd string) (int, string, error) {
	if err := c.tp.PrintfLine("%s", cmd); err != nil {
		return 0, "", err
	}
	code, msg, err := c.tp.ReadResponse(want)
	var te *textproto.Error
	if err != nil && !errors.As(err, &te) {
		return 0, "", err
	}
	return code, msg, err
}

func (c *check) pop(sasl string) {
	greeting, err := c.tp.ReadLine()
	if err != nil {
		c.network(StageGreeting, err)
		return
	}
	if !strings.HasPrefix(greeting, "+OK") {
		c.fail(StageGreeting, greeting, "POP: the server did not greet as a POP server", "Its first line was not `+OK`: the port may belong to another service.", "Check the POP host and port (outlook.office365.com:995).")
		return
	}
	capa, status, err := c.popCommand("CAPA", true)
	if err != nil {
		c.network(StageCapability, err)
		return
	}
	if !strings.HasPrefix(status, "+OK") || !strings.Contains(strings.ToUpper(strings.Join(capa, " ")), "XOAUTH2") {
		c.fail(StageCapability, status, "POP: the server offers no XOAUTH2", "It does not take OAuth tokens: it is not Exchange Online, or a proxy stands in between.", "Check the POP host (outlook.office365.com for Microsoft 365).")
		return
	}
	_, status, err = c.popCommand("AUTH XOAUTH2 "+sasl, false)
	if err == nil && (strings.HasPrefix(status, "+ ") || status == "+") {
		_, status, err = c.popCommand("", false) // the error challenge
	}
	if err != nil {
		c.network(StageAuth, err)
		return
	}
	if !strings.HasPrefix(status, "+OK") {
		c.refused(StageAuth, status)
		return
	}
	c.popCommand("QUIT", false)
}

// popCommand sends a command and reads its status line, and for a
// multi-line answer the lines up to ".".
func (c *check) popCommand(cmd string, multi bool) ([]string, string, error) {
	if err := c.tp.PrintfLine("%s", cmd); err != nil {
		return nil, "", err
	}
	status, err := c.tp.ReadLine()
	if err != nil || !multi || !strings.HasPrefix(status, "+OK") {
		return nil, status, err
	}
	lines, err := c.tp.ReadDotLines()
	return lines, status, err
}

// refused records a refusal the server gave, explained.
func (c *check) refused(stage Stage, reply string) {
	e := explain(c.t.Protocol, reply, c.context())
	c.fail(stage, reply, fmt.Sprintf("%s: %s refused %s: %s", c.t.Protocol.Name(), c.t.Host, c.user, c.clean(reply)), e.Cause, e.Fix)
}

func (c *check) context() Context {
	return Context{User: c.o.User, Mailbox: c.o.Mailbox, SASLUser: c.user, Reauth: c.o.reauth(c.t.Protocol)}
}
