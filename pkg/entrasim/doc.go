// Package entrasim is an in-process simulator of the Microsoft Entra ID v2.0
// sign-in service that ships in the binary (link --sandbox runs it) and
// serves the tests, in the spirit of net/http/httptest: NewServer starts a
// real HTTP listener on a loopback port that speaks the authorize, token,
// device code and discovery endpoints the way Entra does on the wire, with
// Entra's AADSTS error codes, its error bodies and its quirks.
//
// It exists for two callers: tests of code that signs in to Entra (they drive
// it with a real OAuth client and assert on what it recorded), and the CLI's
// sandbox mode, which runs against it instead of login.microsoftonline.com.
// It is therefore ordinary (non-test) code and does not import testing.
//
// What it models: tenants (the common, organizations and consumers segments,
// tenant GUIDs and verified domains), app registrations with Web, SPA and
// Mobile & desktop redirect URIs and secrets, users (work accounts and
// personal Microsoft accounts), per-user consent, single-use codes bound to
// PKCE, refresh token rotation, revocation and expiry, MFA challenges, device
// code sign-in, the password grant, Conditional Access sign-in frequency and
// device code flow blocks, and injected failures (errors, 429s, delays). By default a sign-in needs no typing: the browser step signs in
// the user chosen with SignInAs and consents automatically, unless a knob
// says otherwise. SetInteractive turns on Entra's pages instead (sign-in
// form, MFA code, consent with Accept and Cancel), for tests that drive a
// real browser.
//
// What it is not: a security boundary or an identity provider for real use.
// Tokens are random and their signatures are fake; nothing here is secret.
// The authorization-code and device flows are modelled faithfully; client
// credentials, on-behalf-of, certificates and client assertions are not.
package entrasim
