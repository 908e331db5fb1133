// Package tokenlife applies Entra ID's refresh token lifetime: how long a
// refresh token lives on unused, and from when that is worth a warning.
// Microsoft documents a fixed 90-day maximum inactive time for refresh
// tokens (learn.microsoft.com/entra/identity-platform/refresh-tokens),
// renewed by every refresh, since each one returns a new refresh token.
//
// It judges from when the token was issued alone, without asking Entra;
// what to do about the verdict (a state, a warning, a command to run) is
// for the caller.
package tokenlife

import (
	"math"
	"time"
)

// inactivity is how long an unused refresh token lives. It has not been
// configurable since January 2021.
const inactivity = 90 * 24 * time.Hour

// Days left from which the refresh token's end is worth telling.
const (
	WarnDays   = 14 // status warns
	UrgentDays = 7  // token and reauth warn on stderr
)

// RefreshToken is what is known of a refresh token: when it was issued,
// which starts its inactivity window (the last refresh, or the sign-in).
// The zero value is no refresh token, or one of unknown age.
type RefreshToken struct {
	Issued time.Time
}

// DaysLeft is how many days, rounded up, the refresh token lives on unused
// at now; never below 0, and 0 only once it is past the cut-off (Dead). ok
// is false when there is no refresh token or its issue time is unknown.
func DaysLeft(t RefreshToken, now time.Time) (days int, ok bool) {
	if t.Issued.IsZero() {
		return 0, false
	}
	left := t.Issued.Add(inactivity).Sub(now)
	return max(0, int(math.Ceil(left.Hours()/24))), true
}

// Dead reports whether the refresh token is past the cut-off, so that
// Entra refuses it (AADSTS700082).
func Dead(t RefreshToken, now time.Time) bool {
	days, ok := DaysLeft(t, now)
	return ok && days == 0
}

// Urgent reports whether it is alive with fewer than UrgentDays left, so
// that every command using the profile should say so.
func Urgent(t RefreshToken, now time.Time) bool {
	days, ok := DaysLeft(t, now)
	return ok && 0 < days && days < UrgentDays
}
