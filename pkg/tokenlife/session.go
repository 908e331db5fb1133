package tokenlife

import (
	"slices"
	"time"
)

// A session can end for three reasons besides revocation, and Deadlines
// tells each apart: Entra's 90-day inactivity rule, which every refresh
// renews; a Conditional Access sign-in frequency, which runs from the
// sign-in and which no refresh renews (Entra names it only when it refuses
// a refresh: AADSTS70043, "the maximum allowed lifetime for this request is
// N"); and, for servers other than Entra, a refresh token lifetime the
// server announces (refresh_expires_in). These functions take plain values,
// not a stored record, so that any caller can feed them.

// Kind says where a deadline comes from.
type Kind string

const (
	Inactivity      Kind = "inactivity"         // Entra's 90 days without a refresh
	SignInFrequency Kind = "sign_in_frequency"  // Conditional Access: sign-in time + N
	ServerSaid      Kind = "refresh_expires_in" // the token answer said when
)

// Facts are what is known about a session.
type Facts struct {
	// Entra says the authority is Microsoft's, so the 90-day inactivity
	// rule applies. For other servers nothing is assumed.
	Entra bool
	// HasRefreshToken: without one, the session ends with its access token
	// and none of these deadlines apply.
	HasRefreshToken bool
	// RefreshedAt is when the current refresh token was issued: the last
	// refresh, or the sign-in.
	RefreshedAt time.Time
	// SignedInAt is when the person last signed in; a sign-in frequency
	// runs from it.
	SignedInAt time.Time
	// Frequency is the sign-in frequency learned from a refusal, 0 if none.
	Frequency time.Duration
	// RefreshExpiresIn is the refresh token's lifetime from RefreshedAt as
	// the server said it, 0 if it did not.
	RefreshExpiresIn time.Duration
}

// Deadline is one known end of the session.
type Deadline struct {
	Kind     Kind
	At       time.Time // the session ends then, unless renewed (Inactivity) or signed in again
	WarnFrom time.Time // from then on it is worth telling the person
}

// minWarning is the shortest warning ahead of a deadline set by a lifetime
// (sign-in frequency, refresh_expires_in): an hour, so that even a short
// lifetime warns in time to act.
const minWarning = time.Hour

// WarnFraction is the share of a lifetime that is its warning window: the
// last fifth (but at least minWarning, and never before the lifetime
// begins).
const WarnFraction = 5

// LifetimeEnd is the end of a lifetime that began at start, and the time
// from which it is worth a warning: the last 1/WarnFraction of it, at least
// an hour, but not before start. ok is false if start is zero or life is
// not positive.
func LifetimeEnd(start time.Time, life time.Duration) (end, warnFrom time.Time, ok bool) {
	if start.IsZero() || life <= 0 {
		return time.Time{}, time.Time{}, false
	}
	end = start.Add(life)
	warn := max(life/WarnFraction, minWarning)
	warnFrom = end.Add(-warn)
	if warnFrom.Before(start) {
		warnFrom = start
	}
	return end, warnFrom, true
}

// Deadlines lists the session's known deadlines, earliest first. It is
// empty when nothing is known: no refresh token, or a server other than
// Entra that did not say (then the lifetime is unknown, which the caller
// should say rather than guess).
func Deadlines(f Facts) []Deadline {
	if !f.HasRefreshToken {
		return nil
	}
	var out []Deadline
	if f.Entra && !f.RefreshedAt.IsZero() {
		at := f.RefreshedAt.Add(inactivity)
		out = append(out, Deadline{Kind: Inactivity, At: at, WarnFrom: at.Add(-WarnDays * 24 * time.Hour)})
	}
	if end, warn, ok := LifetimeEnd(f.SignedInAt, f.Frequency); ok {
		out = append(out, Deadline{Kind: SignInFrequency, At: end, WarnFrom: warn})
	}
	if end, warn, ok := LifetimeEnd(f.RefreshedAt, f.RefreshExpiresIn); ok {
		out = append(out, Deadline{Kind: ServerSaid, At: end, WarnFrom: warn})
	}
	slices.SortStableFunc(out, func(a, b Deadline) int { return a.At.Compare(b.At) })
	return out
}

// First is the earliest deadline; ok is false when none is known.
func First(f Facts) (Deadline, bool) {
	d := Deadlines(f)
	if len(d) == 0 {
		return Deadline{}, false
	}
	return d[0], true
}

// Due reports whether d is worth a warning at now (and not yet past).
func (d Deadline) Due(now time.Time) bool {
	return !now.Before(d.WarnFrom) && now.Before(d.At)
}

// Past reports whether the session has ended by d at now.
func (d Deadline) Past(now time.Time) bool { return !now.Before(d.At) }
