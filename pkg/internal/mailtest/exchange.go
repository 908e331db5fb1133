//go:build linux

package mailtest

import (
	"crypto/tls"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartExchange starts IMAP, POP and SMTP submission servers that answer in
// Exchange Online's own words, refusals included, for tests of what a
// program makes of those answers. Unlike Start it needs no Dovecot: its
// mailboxes are always empty, and its IMAP knows only what a login check
// does (CAPABILITY, AUTHENTICATE XOAUTH2, EXAMINE, LOGOUT).
func StartExchange(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{dir: t.TempDir(), opts: opts, changed: make(chan struct{}), uid: os.Getuid(), gid: os.Getgid()}
	if err := writeCertificates(s.dir); err != nil {
		t.Fatal(err)
	}
	s.CAFile = filepath.Join(s.dir, "ca.pem")
	cert, err := tls.LoadX509KeyPair(filepath.Join(s.dir, "cert.pem"), filepath.Join(s.dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Submission, err = s.listenSubmission(t, cert); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if s.IMAPS, err = serveTLS(t, cfg, s.exchangeIMAP); err != nil {
		t.Fatal(err)
	}
	if s.POP3S, err = serveTLS(t, cfg, s.exchangePOP); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveTLS accepts TLS connections on a loopback port for the test, each
// closed after serve, or after a minute.
func serveTLS(t testing.TB, cfg *tls.Config, serve func(net.Conn)) (string, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		return "", err
	}
	return acceptUntilCleanup(t, ln, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		serve(c)
	}), nil
}

// acceptUntilCleanup hands each connection ln accepts to handle, on a
// goroutine of its own, until the test ends; it returns ln's address.
func acceptUntilCleanup(t testing.TB, ln net.Listener, handle func(net.Conn)) string {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().String()
}

// isXOAUTH2 says whether an AUTH or AUTHENTICATE argument ("XOAUTH2
// [initial response]") names the XOAUTH2 mechanism.
func isXOAUTH2(arg string) bool {
	mech, _, _ := strings.Cut(arg, " ")
	return strings.EqualFold(mech, "XOAUTH2")
}

// saslResponse is the client's XOAUTH2 response: the initial response on
// the command line, or else the line it sends after the prompt (IMAP's
// and POP's "+ ", SMTP's "334 ").
func saslResponse(tp *textproto.Conn, arg, prompt string) (string, error) {
	if _, initial, _ := strings.Cut(arg, " "); initial != "" {
		return initial, nil
	}
	tp.PrintfLine("%s", prompt)
	return tp.ReadLine()
}

// Exchange Online's IMAP and POP answers.
const (
	imapGreeting      = "* OK The Microsoft Exchange IMAP4 service is ready."
	imapCapability    = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
	imapAuthFailed    = "NO AUTHENTICATE failed."
	imapNotConnected  = "BAD User is authenticated but not connected."
	popGreeting       = "+OK The Microsoft Exchange POP3 service is ready."
	popAuthFailed     = "-ERR Authentication failure: unknown user name or bad password."
	popAuthSuccessful = "+OK User successfully authenticated."
)

// login checks an XOAUTH2 initial response for service the way Exchange
// does, and says whether it is accepted and whether the mailbox opens: a
// good token for another mailbox without Full Access logs in but opens
// nothing ("authenticated but not connected").
func (s *Server) login(initial, service string) (accepted, connected bool) {
	user, why := s.authenticate(initial, service)
	if why == "" {
		return true, true
	}
	if strings.HasPrefix(why, "token of ") && !disabled(s.opts.Exchange, service) {
		// The token itself was good: only the mailbox is out of reach.
		_, bare := s.decide(tokenOf(initial), service, "")
		if bare == "" && user != "" {
			return true, false
		}
	}
	return false, false
}

// tokenOf takes the bearer token out of an XOAUTH2 initial response.
func tokenOf(initial string) string {
	raw, _ := decodeXOAUTH2(initial)
	return raw
}

func (s *Server) exchangeIMAP(c net.Conn) {
	tp := textproto.NewConn(c)
	tp.PrintfLine(imapGreeting)
	authed, connected := false, false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		tag, rest, _ := strings.Cut(line, " ")
		verb, arg, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(verb) {
		case "CAPABILITY":
			tp.PrintfLine(imapCapability)
			tp.PrintfLine("%s OK CAPABILITY completed.", tag)
		case "AUTHENTICATE":
			if authed || !isXOAUTH2(arg) {
				tp.PrintfLine("%s BAD Command Argument Error. 11", tag)
				continue
			}
			initial, err := saslResponse(tp, arg, "+ ")
			if err != nil {
				return
			}
			if authed, connected = s.login(initial, "imap"); authed {
				tp.PrintfLine("%s OK AUTHENTICATE completed.", tag)
			} else {
				tp.PrintfLine("%s %s", tag, imapAuthFailed)
			}
		case "SELECT", "EXAMINE", "LIST", "STATUS":
			switch {
			case !authed:
				tp.PrintfLine("%s BAD Command received in Invalid state.", tag)
			case !connected:
				tp.PrintfLine("%s %s", tag, imapNotConnected)
			default:
				tp.PrintfLine("* 0 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)\r\n* OK [UIDVALIDITY 14] UIDVALIDITY value")
				tp.PrintfLine("%s OK [READ-ONLY] %s completed.", tag, strings.ToUpper(verb))
			}
		case "LOGOUT":
			tp.PrintfLine("* BYE Microsoft Exchange Server IMAP4 server signing off.")
			tp.PrintfLine("%s OK LOGOUT completed.", tag)
			return
		case "NOOP":
			tp.PrintfLine("%s OK NOOP completed.", tag)
		default:
			tp.PrintfLine("%s BAD Command Error. 10", tag)
		}
	}
}

func (s *Server) exchangePOP(c net.Conn) {
	tp := textproto.NewConn(c)
	tp.PrintfLine(popGreeting)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "CAPA":
			tp.PrintfLine("+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.")
		case "AUTH":
			if !isXOAUTH2(arg) {
				tp.PrintfLine("-ERR Protocol error. 14")
				continue
			}
			initial, err := saslResponse(tp, arg, "+ ")
			if err != nil {
				return
			}
			if ok, connected := s.login(initial, "pop3"); ok && connected {
				tp.PrintfLine(popAuthSuccessful)
			} else {
				tp.PrintfLine(popAuthFailed)
			}
		case "STAT":
			tp.PrintfLine("+OK 0 0")
		case "QUIT":
			tp.PrintfLine("+OK Microsoft Exchange Server POP3 server signing off.")
			return
		default:
			tp.PrintfLine("-ERR Protocol error. 14")
		}
	}
}
