//go:build linux

package mailtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

const adele = "adele@contoso.com"

// tokens is a stand-in for the Entra double: "good" is an Outlook token
// for adele with both mail scopes, the others are each wrong in one way;
// nothing else exists.
func tokens(token string) (entrasim.TokenInfo, bool) {
	info := entrasim.TokenInfo{Username: adele, Resource: OutlookResource, ExpiresAt: time.Now().Add(time.Hour),
		Scopes: []string{OutlookResource + "/IMAP.AccessAsUser.All", OutlookResource + "/SMTP.Send"}}
	switch token {
	case "good":
		return info, true
	case "graph":
		info.Resource = "https://graph.microsoft.com"
		return info, true
	case "expired":
		info.ExpiresAt = time.Now().Add(-time.Second)
		return info, true
	case "smtp-only":
		info.Scopes = info.Scopes[1:]
		return info, true
	}
	return entrasim.TokenInfo{}, false
}

func xoauth2(user, token string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
}

func tlsConfig(t *testing.T, s *Server) *tls.Config {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(s.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("reading the CA: %v", err)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// imapLogin logs in over IMAPS with XOAUTH2 and returns the tagged answer.
func imapLogin(t *testing.T, s *Server, user, token string) string {
	t.Helper()
	c, err := tls.Dial("tcp", s.IMAPS, tlsConfig(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	r.ReadString('\n') // greeting
	c.Write([]byte("a1 AUTHENTICATE XOAUTH2 " + xoauth2(user, token) + "\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the IMAP answer: %v", err)
		}
		switch {
		case strings.HasPrefix(line, "+ "): // the error challenge; XOAUTH2 wants an empty reply
			c.Write([]byte("\r\n"))
		case strings.HasPrefix(line, "a1 "):
			return strings.TrimSpace(line)
		}
	}
}

func TestIMAPChecksTokens(t *testing.T) {
	s := Start(t, Options{Lookup: tokens})
	for _, c := range []struct {
		user, token, want, refusal string
	}{
		{adele, "good", "a1 OK", ""},
		{adele, "graph", "a1 NO [AUTHENTICATIONFAILED]", "audience https://graph.microsoft.com"},
		{adele, "forged", "a1 NO [AUTHENTICATIONFAILED]", "not a token Entra issued"},
		{adele, "expired", "a1 NO [AUTHENTICATIONFAILED]", "expired at"},
		{adele, "smtp-only", "a1 NO [AUTHENTICATIONFAILED]", "no IMAP.AccessAsUser.All scope"},
		{"bob@contoso.com", "good", "a1 NO [AUTHENTICATIONFAILED]", ""}, // Dovecot compares the user
	} {
		before := len(s.Checks())
		if got := imapLogin(t, s, c.user, c.token); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s with %q: %s, want %s", c.user, c.token, got, c.want)
		}
		checks := s.Checks()[before:]
		if len(checks) != 1 || checks[0].Service != "imap" || !strings.Contains(checks[0].Refusal, c.refusal) {
			t.Errorf("%s with %q: checks %+v, want one imap check refusing %q", c.user, c.token, checks, c.refusal)
		}
	}
}

// xoauth2Auth is XOAUTH2 for net/smtp.
type xoauth2Auth struct{ user, token string }

func (a xoauth2Auth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a xoauth2Auth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return []byte{}, nil // the error challenge: answer empty, get the failure
	}
	return nil, nil
}

func TestSubmissionChecksTokens(t *testing.T) {
	s := Start(t, Options{Lookup: tokens})
	send := func(user, token string) error {
		c, err := smtp.Dial(s.Submission)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(tlsConfig(t, s)); err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(xoauth2Auth{user, token}); err != nil {
			return err
		}
		if err := c.Mail("bob@contoso.com"); err == nil || !strings.Contains(err.Error(), "SendAsDenied") {
			t.Errorf("sending as someone else: %v, want SendAsDenied", err)
		}
		c.Reset()
		c.Mail(adele)
		c.Rcpt("bob@contoso.com")
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("Subject: hello\r\n\r\n.dot-stuffed line\r\n"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return c.Quit()
	}
	for token, want := range map[string]string{"graph": "5.7.3 Authentication unsuccessful", "forged": "5.7.3 Authentication unsuccessful"} {
		if err := send(adele, token); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("token %q: %v, want %s", token, err, want)
		}
	}
	if err := send("bob@contoso.com", "good"); err == nil || !strings.Contains(err.Error(), "5.7.3 Authentication unsuccessful") {
		t.Errorf("adele's token for bob: %v, want 535 5.7.3", err)
	}
	if err := send(adele, "good"); err != nil {
		t.Fatalf("an Outlook token: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent, err := s.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := sent[0]; m.User != adele || m.From != adele || len(m.To) != 1 || m.To[0] != "bob@contoso.com" || !strings.Contains(m.Data, "\r\n.dot-stuffed line\r\n") {
		t.Errorf("relayed %+v", m)
	}
}
