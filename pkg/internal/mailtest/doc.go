// Package mailtest runs a real mail server for tests of mail clients: a
// private Dovecot (Debian's dovecot-imapd and dovecot-submissiond) started
// from a generated configuration on loopback ports, with no root needed. It
// stands in for Exchange Online: IMAP with TLS from the first byte (as
// outlook.office365.com:993), SMTP submission with STARTTLS (as
// smtp.office365.com:587), and SASL XOAUTH2 as the only way to log in.
//
// Dovecot's oauth2 passdb asks an introspection endpoint served here whether
// a bearer token is good, and this endpoint applies Exchange's rules to the
// tokens the Entra double issued: audience https://outlook.office.com, the
// scope the protocol needs (IMAP.AccessAsUser.All, SMTP.Send), not expired.
// Dovecot itself compares the token's user with the SASL user. A refused
// token gets Dovecot's "NO [AUTHENTICATIONFAILED] Authentication failed."
// where Exchange says "NO AUTHENTICATE failed."; both are the same failure.
//
// Messages submitted over SMTP are relayed by Dovecot to a small SMTP
// receiver here, which keeps them for the test (Server.Sent).
//
// When run as root (as in CI), Dovecot runs as the user nobody, since its
// login processes refuse to run as root.
package mailtest
