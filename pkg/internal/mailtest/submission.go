//go:build linux

package mailtest

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// Message is one message submitted over SMTP.
type Message struct {
	User string // who authenticated
	From string // the envelope sender
	To   []string
	Data string // as received, CRLF line ends, dot-stuffing undone
}

// listenSubmission starts the SMTP submission server: STARTTLS, then AUTH
// XOAUTH2 with the checks of the oauth2 passdb, then mail, as Exchange
// Online's smtp.office365.com:587 answers. It is Go, not Dovecot: Dovecot
// 2.3's submission-login refuses an AUTH line with a token in it as "Line
// too long", which Exchange accepts and mutt sends.
func (s *Server) listenSubmission(t testing.TB, cert tls.Certificate) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return acceptUntilCleanup(t, ln, func(c net.Conn) { s.submit(c, cfg) }), nil
}

// The answers Exchange Online gives.
const (
	authOK       = "235 2.7.0 Authentication successful"
	authFailed   = "535 5.7.3 Authentication unsuccessful"
	notAuthed    = "530 5.7.57 Client not authenticated to send mail"
	needTLS      = "530 5.7.0 Must issue a STARTTLS command first"
	sendAsDenied = "554 5.2.252 SendAsDenied; %s not allowed to send as %s; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
	// SMTP AUTH turned off, for the tenant or the mailbox ("Tenant" or
	// "Mailbox" fills the blank).
	authDisabled   = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the %s. Visit https://aka.ms/smtp_auth_disabled for more information."
	unknownCommand = "502 5.3.3 Command not implemented"
)

func (s *Server) submit(c net.Conn, cfg *tls.Config) {
	defer func() { c.Close() }()
	c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 mailtest.localhost Microsoft ESMTP MAIL Service ready")
	secure, user := false, ""
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if secure {
				tp.PrintfLine("250-mailtest.localhost\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH XOAUTH2")
			} else {
				tp.PrintfLine("250-mailtest.localhost\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS")
			}
		case "STARTTLS":
			tp.PrintfLine("220 2.0.0 SMTP server ready")
			tc := tls.Server(c, cfg)
			if tc.Handshake() != nil {
				return
			}
			c, tp, secure, user = tc, textproto.NewConn(tc), true, ""
		case "AUTH":
			if !secure {
				tp.PrintfLine(needTLS)
				continue
			}
			if !isXOAUTH2(arg) {
				tp.PrintfLine("504 5.7.4 Unrecognized authentication type")
				continue
			}
			initial, err := saslResponse(tp, arg, "334 ")
			if err != nil {
				return
			}
			who, why := s.authenticate(initial, "submission")
			switch {
			case why == "":
				user = who
				tp.PrintfLine(authOK)
			case strings.HasSuffix(why, " is disabled for the mailbox"):
				tp.PrintfLine(authDisabled, s.opts.Exchange.SMTPAuthDisabled)
			default:
				tp.PrintfLine(authFailed)
			}
		case "MAIL":
			if user == "" {
				tp.PrintfLine(notAuthed)
				continue
			}
			m = Message{User: user, From: address(arg)}
			if !strings.EqualFold(m.From, user) && !allowed(s.opts.Exchange.SendAs, m.From, user) {
				tp.PrintfLine(sendAsDenied, user, m.From)
				continue
			}
			tp.PrintfLine("250 2.1.0 Sender OK")
		case "RCPT":
			m.To = append(m.To, address(arg))
			tp.PrintfLine("250 2.1.5 Recipient OK")
		case "DATA":
			if m.From == "" || len(m.To) == 0 {
				tp.PrintfLine("503 5.5.1 Bad sequence of commands")
				continue
			}
			tp.PrintfLine("354 Start mail input; end with <CRLF>.<CRLF>")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			m.Data = strings.Join(lines, "\r\n") + "\r\n"
			msg := m
			s.record(func() { s.sent = append(s.sent, msg) })
			tp.PrintfLine("250 2.6.0 Queued mail for delivery")
			m = Message{}
		case "QUIT":
			tp.PrintfLine("221 2.0.0 Service closing transmission channel")
			return
		case "RSET", "NOOP":
			m = Message{}
			tp.PrintfLine("250 2.0.0 OK")
		default:
			tp.PrintfLine(unknownCommand)
		}
	}
}

// authenticate checks an XOAUTH2 initial response
// (base64 of "user=U^Aauth=Bearer T^A^A") and returns the SASL user and
// why the login is refused ("" when it is not).
func (s *Server) authenticate(initial, service string) (string, string) {
	token, user := decodeXOAUTH2(initial)
	_, why := s.check(token, service, user)
	return user, why
}

// decodeXOAUTH2 takes the token and the user out of an XOAUTH2 initial
// response; both are "" when it is not one.
func decodeXOAUTH2(initial string) (token, user string) {
	raw, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		return "", ""
	}
	for _, field := range strings.Split(string(raw), "\x01") {
		if v, ok := strings.CutPrefix(field, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(field, "auth="); ok {
			token, _ = strings.CutPrefix(v, "Bearer ")
		}
	}
	return token, user
}

// address takes the mailbox out of "FROM:<a@b> SIZE=10" or "TO:<a@b>".
func address(arg string) string {
	_, rest, _ := strings.Cut(arg, ":")
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '>'); strings.HasPrefix(rest, "<") && i > 0 {
		return rest[1:i]
	}
	addr, _, _ := strings.Cut(rest, " ")
	return addr
}
