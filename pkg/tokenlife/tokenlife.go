// Package tokenlife applies Entra ID's refresh token lifetime to a stored
// record: how long its refresh token lives on unused, and from when that is
// worth a warning (entra-facts §7: a fixed 90-day maximum inactive time,
// renewed by every refresh, since each one returns a new refresh token).
//
// It judges from the record alone, without asking Entra; what to do about
// the verdict (a state, a warning, a command to run) is for the caller.
package tokenlife

import (
	"math"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

// inactivity is how long an unused refresh token lives. It has not been
// configurable since January 2021.
const inactivity = 90 * 24 * time.Hour

// Days left from which the refresh token's end is worth telling.
const (
	WarnDays   = 14 // status warns
	UrgentDays = 7  // token and reauth warn on stderr
)

// issued is when the record's refresh token was issued, which starts its
// inactivity window: the last refresh, or the link for a record that was
// never refreshed. Zero when unknown.
func issued(rec *store.Record) time.Time {
	if !rec.LastRefreshAt.IsZero() {
		return rec.LastRefreshAt
	}
	return rec.LinkedAt
}

// DaysLeft is how many days, rounded up, the refresh token lives on unused
// at now; never below 0, and 0 only once it is past the cut-off (Dead). ok
// is false when the record has no refresh token or no issue time.
func DaysLeft(rec *store.Record, now time.Time) (days int, ok bool) {
	at := issued(rec)
	if rec.RefreshToken == "" || at.IsZero() {
		return 0, false
	}
	left := at.Add(inactivity).Sub(now)
	return max(0, int(math.Ceil(left.Hours()/24))), true
}

// Dead reports whether the refresh token is past the cut-off, so that
// Entra refuses it (AADSTS700082).
func Dead(rec *store.Record, now time.Time) bool {
	days, ok := DaysLeft(rec, now)
	return ok && days == 0
}

// Urgent reports whether it is alive with fewer than UrgentDays left, so
// that every command using the profile should say so.
func Urgent(rec *store.Record, now time.Time) bool {
	days, ok := DaysLeft(rec, now)
	return ok && 0 < days && days < UrgentDays
}
