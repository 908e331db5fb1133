package mailcheck

import (
	"fmt"
	"strings"
)

// Context names the people and commands an explanation mentions.
type Context struct {
	User     string // the signed-in account (the token's)
	Mailbox  string // the shared mailbox, "" when none
	SASLUser string // who logged in
	Reauth   string // the command that gets a token with the protocol's scope
}

// Explanation is the cause and the fix of a refusal, one line each.
type Explanation struct {
	Cause, Fix string
}

// Explain reads a refusal from Exchange Online (an SMTP reply such as
// "535 5.7.139 …", an IMAP or POP status line) for protocol p. Mail
// clients' logs can be read with it too.
func Explain(p Protocol, reply string, c Context) Explanation {
	return explain(p, reply, c)
}

func explain(p Protocol, reply string, c Context) Explanation {
	r := strings.ToLower(reply)
	who, box := or(c.User, "the signed-in account"), or(c.SASLUser, or(c.User, "the mailbox"))
	switch {
	case strings.Contains(r, "5.7.139") && strings.Contains(r, "for the mailbox"):
		return Explanation{
			Cause: fmt.Sprintf("SMTP AUTH is turned off for the mailbox %s.", box),
			Fix:   fmt.Sprintf("Ask an Exchange admin to run `Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false` (the mailbox setting wins over the organisation's).", box),
		}
	case strings.Contains(r, "5.7.139"):
		return Explanation{
			Cause: "SMTP AUTH is turned off for the whole organisation (or by its security defaults).",
			Fix:   fmt.Sprintf("Ask an Exchange admin to run `Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false` for this mailbox (it wins over the organisation's setting), or `Set-TransportConfig -SmtpClientAuthenticationDisabled $false` for everyone.", box),
		}
	case strings.Contains(r, "5.7.3"):
		return Explanation{
			Cause: fmt.Sprintf("Exchange refused the token for %s: the SMTP user is not the token's account (an alias, another account, or a shared mailbox, which cannot sign in to SMTP).", box),
			Fix:   fmt.Sprintf("Authenticate SMTP as %s, the account that signed in (its sign-in name, not an alias); to send from a shared mailbox, keep that user and set only the From address, with Send As.", who),
		}
	case strings.Contains(r, "5.7.57"):
		return Explanation{
			Cause: "The client tried to send without logging in first.",
			Fix:   "Turn on authentication in the mail client: XOAUTH2, with the password command `ms365auth token --scopes smtp`.",
		}
	case strings.Contains(r, "5.2.252") || strings.Contains(r, "sendasdenied"):
		from := or(c.Mailbox, "that address")
		return Explanation{
			Cause: fmt.Sprintf("%s may not send as %s.", who, from),
			Fix:   fmt.Sprintf("Set the From address to %s, or ask an Exchange admin to run `Add-RecipientPermission -Identity %s -Trustee %s -AccessRights SendAs`.", who, from, who),
		}
	case strings.Contains(r, "authenticated but not connected"):
		return Explanation{
			Cause: fmt.Sprintf("Exchange took the token but could not open the mailbox %s: %s has no Full Access to it, or the address is wrong.", box, who),
			Fix:   fmt.Sprintf("Check the address; for a shared mailbox ask an Exchange admin to run `Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess`.", box, who),
		}
	case p == IMAP && strings.Contains(r, "authenticate failed"),
		p == POP && strings.Contains(r, "-err"):
		cmd := "-ImapEnabled"
		if p == POP {
			cmd = "-PopEnabled"
		}
		return Explanation{
			Cause: fmt.Sprintf("Exchange refused the %s login for %s: %s is off for the mailbox, or the token lacks %s (or is for another resource, such as Graph).", p.Name(), box, p.Name(), p.Scope()),
			Fix:   fmt.Sprintf("Ask an Exchange admin to run `Set-CASMailbox -Identity %s %s $true`; if it is on, run `%s`.", box, cmd, or(c.Reauth, "ms365auth reauth --scopes "+string(p))),
		}
	}
	return Explanation{
		Cause: fmt.Sprintf("The server refused the %s login for %s.", p.Name(), box),
		Fix:   fmt.Sprintf("Check the user (%s) and the host; run `%s` if the token may be stale or lack the scope.", box, or(c.Reauth, "ms365auth reauth --scopes "+string(p))),
	}
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}
