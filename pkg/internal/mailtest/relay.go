//go:build linux

package mailtest

import (
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// Message is one message Dovecot's submission service relayed.
type Message struct {
	From string
	To   []string
	Data string // as received, CRLF line ends, dot-stuffing undone
}

// listenSMTP starts the SMTP receiver Dovecot relays submitted mail to, and
// returns its port. It speaks just enough SMTP for Dovecot's relay client
// and keeps every message.
func (s *Server) listenSMTP(t testing.TB) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.receive(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) receive(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 relay.mailtest.localhost ESMTP")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			tp.PrintfLine("250-relay.mailtest.localhost\r\n250-8BITMIME\r\n250 PIPELINING")
		case "MAIL":
			m = Message{From: address(arg)}
			tp.PrintfLine("250 2.1.0 Ok")
		case "RCPT":
			m.To = append(m.To, address(arg))
			tp.PrintfLine("250 2.1.5 Ok")
		case "DATA":
			tp.PrintfLine("354 End data with <CR><LF>.<CR><LF>")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			m.Data = strings.Join(lines, "\r\n") + "\r\n"
			msg := m
			s.record(func() { s.sent = append(s.sent, msg) })
			tp.PrintfLine("250 2.0.0 Ok: queued")
		case "QUIT":
			tp.PrintfLine("221 2.0.0 Bye")
			return
		case "RSET", "NOOP":
			tp.PrintfLine("250 2.0.0 Ok")
		default:
			tp.PrintfLine("502 5.5.2 Command not recognized")
		}
	}
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
