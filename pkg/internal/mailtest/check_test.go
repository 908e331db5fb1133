package mailtest

import (
	"strings"
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

func TestRefusal(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	outlook := entrasim.TokenInfo{
		Username: "adele@contoso.com", Resource: OutlookResource, ExpiresAt: now.Add(time.Hour),
		Scopes: []string{OutlookResource + "/IMAP.AccessAsUser.All", OutlookResource + "/SMTP.Send"},
	}
	graph := outlook
	graph.Resource, graph.Scopes = "https://graph.microsoft.com", []string{"Mail.Send", "User.Read"}
	expired := outlook
	expired.ExpiresAt = now
	smtpOnly := outlook
	smtpOnly.Scopes = []string{OutlookResource + "/SMTP.Send"}

	for _, c := range []struct {
		name    string
		info    entrasim.TokenInfo
		issued  bool
		service string
		want    string // "" accepts; otherwise part of the reason
	}{
		{"imap", outlook, true, "imap", ""},
		{"submission", outlook, true, "submission", ""},
		{"unknown token", entrasim.TokenInfo{}, false, "imap", "not a token Entra issued"},
		{"graph token", graph, true, "imap", "audience https://graph.microsoft.com"},
		{"expired", expired, true, "imap", "expired"},
		{"scope for smtp only", smtpOnly, true, "imap", "no IMAP.AccessAsUser.All scope"},
		{"pop without scope", outlook, true, "pop3", "no POP.AccessAsUser.All scope"},
	} {
		got := refusal(c.info, c.issued, c.service, now)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: refusal = %q, want %q", c.name, got, c.want)
		}
	}
}
