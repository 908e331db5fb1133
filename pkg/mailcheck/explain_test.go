package mailcheck

import (
	"strings"
	"testing"
)

// TestExplainClientReplies covers the replies a check never provokes
// itself but mail clients' logs show: a client that sends without logging
// in, and a From the account may not use.
func TestExplainClientReplies(t *testing.T) {
	c := Context{User: "adele@contoso.com", SASLUser: "adele@contoso.com", Reauth: "ms365auth reauth --scopes smtp"}
	for _, tt := range []struct {
		reply string
		want  []string
	}{
		{"530 5.7.57 Client not authenticated to send mail. [BN1P110CA0052.NAMP110.PROD.OUTLOOK.COM]",
			[]string{"without logging in", "ms365auth token --scopes smtp"}},
		{"554 5.2.252 SendAsDenied; adele@contoso.com not allowed to send as adele@laptop.local",
			[]string{"Set the From address to adele@contoso.com", "Add-RecipientPermission"}},
		{"421 4.3.2 Service not available", []string{"refused the SMTP login", "ms365auth reauth --scopes smtp"}},
	} {
		e := Explain(SMTP, tt.reply, c)
		for _, w := range tt.want {
			if !strings.Contains(e.Cause+" "+e.Fix, w) {
				t.Errorf("%q: %+v, want %q", tt.reply, e, w)
			}
		}
	}
}
