package entra

import "fmt"

// LinkedAccount is who a profile was linked to, as its record keeps it:
// the ID token's sub, and Entra's tid and oid. An empty field is not known
// (records written before it was kept).
type LinkedAccount struct {
	Account  string // the name shown to people
	Subject  string
	TenantID string
	ObjectID string
}

// AccountChangedError is a refreshed ID token that names another account
// than the linked one.
type AccountChangedError struct {
	Claim         string // sub, tid or oid
	Linked, Got   string
	LinkedAccount string
	GotAccount    string
	LinkCommand   string // how to link the other account on purpose
}

func (e *AccountChangedError) Error() string {
	return fmt.Sprintf("the sign-in server answered the refresh with an ID token for another account (%s %q, but this profile is linked to %s with %s %q): nothing from it was kept. "+
		"Check that --authority-host is your sign-in server; to put the other account under this profile on purpose, sign in again: %s",
		e.Claim, e.Got, orUnnamed(e.LinkedAccount), e.Claim, e.Linked, e.LinkCommand)
}

func orUnnamed(s string) string {
	if s == "" {
		return "an account"
	}
	return s
}

// SameAccount checks that the claims of a refreshed ID token name the
// linked account: OpenID Connect Core 12.2 requires its sub to be the
// original ID token's (and for Entra, its tid and oid, which identify the
// user across apps). sub is required in every ID token, so one without it
// is refused too when the linked sub is known. tid and oid are compared
// when both sides have them (oid needs the profile scope). linkCommand is
// named in the error as the way to link another account on purpose.
func SameAccount(linked LinkedAccount, c Claims, linkCommand string) error {
	for _, f := range []struct{ claim, linked, got string }{
		{"sub", linked.Subject, c.Sub},
		{"tid", linked.TenantID, c.TID},
		{"oid", linked.ObjectID, c.OID},
	} {
		if f.linked == "" || f.linked == f.got || (f.got == "" && f.claim != "sub") {
			continue
		}
		return &AccountChangedError{Claim: f.claim, Linked: f.linked, Got: f.got,
			LinkedAccount: linked.Account, GotAccount: c.Account(), LinkCommand: linkCommand}
	}
	return nil
}
