// Package store keeps a profile's secrets: its token record and, for
// confidential apps, its client secret.
//
// Keyring, the OS-keyring implementation, talks to the platform keyring
// through go-keyring with a timeout on every call, finds the user's D-Bus
// session bus where cron and SSH leave it unset (and never launches one),
// maps the Secret Service's failure modes to *UnavailableError (with a
// remedy), and splits values that exceed the platform's item size limit so
// that a reader never sees half of an old and half of a new value.
//
// File, for machines without a usable keyring, keeps the same data in
// private files, written atomically and optionally encrypted with a
// passphrase (age, scrypt). It is used only when chosen, never as a
// fallback.
//
// Lock is the cross-process lock a refresh holds. Profile settings do not
// live here (package profile).
package store

import (
	"errors"
	"time"
)

// ServiceName is the keyring service every item is stored under.
const ServiceName = "ms365auth"

// ErrNotFound means the profile has nothing stored.
var ErrNotFound = errors.New("not found")

// ErrCorrupt means a stored entry exists but cannot be read back: a part of a
// split entry is missing or fails its checksum, an encrypted file fails its
// authentication, or a record is not valid JSON. Saving the profile again
// (signing in again) repairs it.
var ErrCorrupt = errors.New("the stored entry is damaged")

// Record is everything kept about one linked profile. It is secret as a
// whole (it holds the tokens); fields needed by status sit beside them so
// that one read answers both token and status.
type Record struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry"`
	IssuedAt     time.Time `json:"issued_at,omitzero"` // when the access token was obtained
	RefreshToken string    `json:"refresh_token,omitempty"`
	Scopes       []string  `json:"scopes,omitempty"` // granted, as the server returned them
	// ScopesAsRequested says the server did not list the granted scopes,
	// which means as requested (RFC 6749 5.1): Scopes holds the requested.
	ScopesAsRequested bool `json:"scopes_as_requested,omitempty"`

	Account  string `json:"account,omitempty"` // see entra.Claims.Account
	Name     string `json:"name,omitempty"`
	TenantID string `json:"tenant_id,omitempty"`
	ObjectID string `json:"oid,omitempty"`
	// Subject is the ID token's sub, which a refreshed ID token must
	// repeat (OpenID Connect Core 12.2). Records written before it was
	// kept learn it at their next refresh.
	Subject string `json:"sub,omitempty"`

	// LinkedAt is when the person last signed in (link or reauth: each
	// writes a new record); a Conditional Access sign-in frequency runs
	// from it.
	LinkedAt      time.Time `json:"linked_at"`
	LastRefreshAt time.Time `json:"last_refresh_at,omitzero"`
	// SignInFrequencySeconds is the session lifetime a Conditional Access
	// sign-in frequency sets, learned from Entra's refusal of a refresh
	// (AADSTS70043); 0 when none is known. The policy outlives the session
	// it ended, so a new sign-in carries it over.
	SignInFrequencySeconds int64 `json:"sign_in_frequency_s,omitempty"`
	// RefreshExpiry is when the refresh token expires, where the server
	// said so (refresh_expires_in, which Entra does not send); zero when
	// unknown.
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	NeedsReauth   bool      `json:"needs_reauth,omitempty"`
	ReauthReason  string    `json:"reauth_reason,omitempty"`
	// ReauthFix is what the person must do beyond signing in, and
	// ReauthClaims the claims challenge the refusal carried, which the
	// next sign-in must send (AADSTS50076 and other Conditional Access
	// refusals carry one: learn.microsoft.com/entra/identity-platform/claims-challenge).
	ReauthFix    string `json:"reauth_fix,omitempty"`
	ReauthClaims string `json:"reauth_claims,omitempty"`

	// Resources holds access tokens for other resources (e.g. Exchange
	// IMAP/SMTP), keyed by the space-joined requested scopes.
	Resources map[string]ResourceToken `json:"resources,omitempty"`
}

// ResourceToken is an access token for a resource other than the main one.
type ResourceToken struct {
	AccessToken       string    `json:"access_token"`
	Expiry            time.Time `json:"expiry"`
	IssuedAt          time.Time `json:"issued_at,omitzero"`
	Scopes            []string  `json:"scopes,omitempty"`
	ScopesAsRequested bool      `json:"scopes_as_requested,omitempty"`
}

// Store holds records and client secrets by profile name.
type Store interface {
	Name() string                              // "keyring" or "file"
	Load(profile string) (*Record, error)      // ErrNotFound when absent
	Save(profile string, r *Record) error      // all or nothing
	Delete(profile string) error               // no error when absent
	LoadSecret(profile string) (string, error) // ErrNotFound when absent
	SaveSecret(profile, secret string) error
	DeleteSecret(profile string) error
}

// Backend is the raw keyring API, as go-keyring offers it.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}
