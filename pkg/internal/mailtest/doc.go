// Package mailtest runs a mail server for tests of mail clients, standing in
// for Exchange Online: IMAP with TLS from the first byte (as
// outlook.office365.com:993) served by a real, private Dovecot (Debian's
// dovecot-imapd) started from a generated configuration on a loopback port
// with no root needed, and SMTP submission with STARTTLS (as
// smtp.office365.com:587) served by a small Go server. Both take SASL
// XOAUTH2 only, as Exchange does.
//
// Dovecot's oauth2 passdb asks an introspection endpoint served here whether
// a bearer token is good; the endpoint, and the submission server, apply
// Exchange's rules to the tokens the Entra double issued: audience
// https://outlook.office.com, the scope the protocol needs
// (IMAP.AccessAsUser.All, SMTP.Send), not expired, and the token's user is
// the SASL user (for IMAP Dovecot compares that itself). A refused token
// gets Dovecot's "NO [AUTHENTICATIONFAILED] Authentication failed." where
// Exchange says "NO AUTHENTICATE failed."; the submission server answers
// with Exchange's own "535 5.7.3 Authentication unsuccessful".
//
// Submission is not Dovecot's: Dovecot 2.3's submission-login refuses an
// AUTH command carrying a token ("500 5.5.2 Line too long"), which Exchange
// accepts and mutt sends. Submitted messages are kept for the test
// (Server.Sent); Deliver puts messages into a mailbox for IMAP clients.
//
// Options.Exchange sets what makes Exchange refuse a login (SMTP AUTH off
// for the tenant or the mailbox, IMAP or POP off) and the permissions on
// shared mailboxes (Full Access, Send As). With Full Access granted,
// Dovecot checks logins through a Lua passdb (dovecot-auth-lua) that tells
// the check the SASL user, so a delegate's token opens the shared mailbox
// as on Exchange. POP with TLS is served too when dovecot-pop3d is
// installed.
//
// StartExchange serves IMAP, POP and submission from Go alone, answering in
// Exchange's own words ("NO AUTHENTICATE failed.", "BAD User is
// authenticated but not connected.", "-ERR Authentication failure: …",
// "535 5.7.139 …"), for tests of what a program makes of those answers.
//
// When run as root (as in CI), Dovecot runs as the user nobody, since its
// login processes refuse to run as root.
package mailtest
