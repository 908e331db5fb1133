// Package retry holds the rules ms365auth follows when it tries a request
// again: how long a Retry-After header asks to wait, how the waits grow
// without one, which requests may be sent twice, and a bounded loop for
// callers whose attempts are alike (the token refresh). It knows nothing of
// Entra or Graph; each caller says what a failure means.
package retry

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// forever stands for a Retry-After too large to represent: a very long
// wait, never none.
const forever = time.Duration(1 << 62)

// After is how long a Retry-After header asks to wait: delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3), and fractions of a second, which
// some gateways send. A date is measured from the answer's Date header
// when it has one, so that a local clock that is off does not matter; now
// otherwise. ok is false without a usable value.
func After(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > int64(forever/time.Second) {
			return forever, true
		}
		return time.Duration(s) * time.Second, true
	}
	if strings.Trim(v, "0123456789.") == "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(min(s, float64(forever/time.Second)) * float64(time.Second)), true
		}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(t.Sub(now), 0), true
}

// Backoff is the wait before each next attempt when the server did not say:
// it starts at First and doubles.
type Backoff struct {
	next time.Duration
}

// NewBackoff starts a backoff at first.
func NewBackoff(first time.Duration) *Backoff { return &Backoff{next: first} }

// Next is the wait before the next attempt, and doubles the one after.
func (b *Backoff) Next() time.Duration {
	d := b.next
	b.next *= 2
	return d
}

// Idempotent says whether a request with method can be sent twice with the
// effect of once (RFC 9110 section 9.2.2), so that a lost answer is no
// reason not to send it again. POST and PATCH (sending mail, creating an
// event) are not: they are never sent again once they may have arrived.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// Policy bounds a loop of alike attempts: at most Attempts of them, waits
// from a Backoff starting at FirstBackoff unless the failure says how long
// (a Retry-After), and never a wait longer than MaxWait, which ends the
// loop at once instead: the caller cannot wait that long, and trying
// sooner would only hammer the server.
type Policy struct {
	Attempts     int
	FirstBackoff time.Duration
	MaxWait      time.Duration
	// Sleep waits, or returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Verdict is what an attempt's failure means for the loop.
type Verdict struct {
	Again bool          // a later attempt may succeed
	After time.Duration // how long the server asked to wait; 0: not said
}

// Do runs attempt until it succeeds, its failure is final (judge says not
// Again), the attempts run out, the wait asked is beyond MaxWait, or ctx is
// done. It returns the last attempt's result.
func Do[T any](ctx context.Context, p Policy, attempt func(context.Context) (T, error), judge func(error) Verdict) (T, error) {
	backoff := NewBackoff(p.FirstBackoff)
	for n := 1; ; n++ {
		res, err := attempt(ctx)
		if err == nil || n >= p.Attempts || ctx.Err() != nil {
			return res, err
		}
		v := judge(err)
		if !v.Again {
			return res, err
		}
		wait := backoff.Next()
		if v.After > 0 {
			wait = v.After
		}
		if wait > p.MaxWait {
			return res, err
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return res, serr
		}
	}
}
