package mailtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/ms365auth/ms365auth/pkg/entrasim"
)

// OutlookResource is the audience Exchange Online accepts for IMAP, POP and
// SMTP.
const OutlookResource = "https://outlook.office.com"

// scopeFor is the permission each Dovecot service needs, as Exchange asks.
var scopeFor = map[string]string{
	"imap":       "IMAP.AccessAsUser.All",
	"pop3":       "POP.AccessAsUser.All",
	"submission": "SMTP.Send",
}

// refusal says why Exchange would refuse the token for service, or "" when
// it accepts it. Decision rules, in order: the token must be one Entra
// issued (known to the double); for the Outlook resource; unexpired by the
// server's clock; and carry the service's scope.
func refusal(info entrasim.TokenInfo, issued bool, service string, now time.Time) string {
	if !issued {
		return "not a token Entra issued"
	}
	if !strings.EqualFold(strings.TrimRight(info.Resource, "/"), OutlookResource) {
		return fmt.Sprintf("audience %s, not %s", info.Resource, OutlookResource)
	}
	if !now.Before(info.ExpiresAt) {
		return "expired at " + info.ExpiresAt.UTC().Format(time.RFC3339)
	}
	want := scopeFor[service]
	if want == "" {
		return fmt.Sprintf("unknown service %q", service)
	}
	for _, sc := range info.Scopes {
		// The double lists Outlook scopes as full URIs; the token's scp
		// claim has the bare names. Either way the name is what counts.
		if strings.EqualFold(sc[strings.LastIndex(sc, "/")+1:], want) {
			return ""
		}
	}
	return fmt.Sprintf("no %s scope (has %s)", want, strings.Join(info.Scopes, " "))
}
