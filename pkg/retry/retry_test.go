package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	serverNow := now.Add(-time.Hour) // the server's clock is an hour behind ours
	for _, tc := range []struct {
		v, date string
		want    time.Duration
		ok      bool
	}{
		{"7", "", 7 * time.Second, true},
		{" 7 ", "", 7 * time.Second, true},
		{"0", "", 0, true},
		{"", "", 0, false},
		{"soon", "", 0, false},
		{"-5", "", 0, false},
		{"1.5", "", 1500 * time.Millisecond, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), "", 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), "", 0, true},
		{now.Add(30 * time.Second).Format(time.RFC850), "", 30 * time.Second, true},
		{now.Add(30 * time.Second).Format(time.ANSIC), "", 30 * time.Second, true},
		{serverNow.Add(20 * time.Second).Format(http.TimeFormat), serverNow.Format(http.TimeFormat), 20 * time.Second, true},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		if tc.date != "" {
			h.Set("Date", tc.date)
		}
		if got, ok := After(h, now); got != tc.want || ok != tc.ok {
			t.Errorf("After(%q, Date %q) = %s, %v; want %s, %v", tc.v, tc.date, got, ok, tc.want, tc.ok)
		}
	}
	for _, v := range []string{"99999999999999999999", "1000000000000", "9223372036854775807", "1e999"} {
		if got, ok := After(http.Header{"Retry-After": {v}}, now); ok && got < 24*time.Hour {
			t.Errorf("After(%q) = %s: a huge value must be a long wait", v, got)
		}
	}
}

func TestIdempotent(t *testing.T) {
	for m, want := range map[string]bool{"GET": true, "PUT": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "POST": false, "PATCH": false} {
		if Idempotent(m) != want {
			t.Errorf("Idempotent(%s) = %v", m, !want)
		}
	}
}

// TestDo checks the loop's decisions by the waits it asks for.
func TestDo(t *testing.T) {
	errAgain, errFinal := errors.New("again"), errors.New("final")
	cases := []struct {
		name     string
		fails    []error
		after    time.Duration
		attempts int
		waits    []time.Duration
		err      error
	}{
		{"first try", nil, 0, 1, nil, nil},
		{"backoff doubles", []error{errAgain, errAgain}, 0, 3, []time.Duration{time.Second, 2 * time.Second}, nil},
		{"final failure is not retried", []error{errFinal}, 0, 1, nil, errFinal},
		{"attempts run out", []error{errAgain, errAgain, errAgain, errAgain}, 0, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, errAgain},
		{"Retry-After within the cap", []error{errAgain}, 5 * time.Second, 2, []time.Duration{5 * time.Second}, nil},
		{"Retry-After beyond the cap ends at once", []error{errAgain}, 11 * time.Second, 1, nil, errAgain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var waits []time.Duration
			p := Policy{Attempts: 4, FirstBackoff: time.Second, MaxWait: 10 * time.Second,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			n := 0
			_, err := Do(context.Background(), p, func(context.Context) (int, error) {
				n++
				if n <= len(c.fails) {
					return 0, c.fails[n-1]
				}
				return n, nil
			}, func(err error) Verdict { return Verdict{Again: err == errAgain, After: c.after} })
			if err != c.err || n != c.attempts {
				t.Errorf("err %v after %d attempts; want %v after %d", err, n, c.err, c.attempts)
			}
			if diff := cmp.Diff(c.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoStopsWhenTheWaitIsInterrupted(t *testing.T) {
	stop := errors.New("interrupted")
	p := Policy{Attempts: 4, FirstBackoff: time.Second, MaxWait: time.Minute,
		Sleep: func(context.Context, time.Duration) error { return stop }}
	_, err := Do(context.Background(), p, func(context.Context) (int, error) { return 0, errors.New("x") },
		func(error) Verdict { return Verdict{Again: true} })
	if err != stop {
		t.Errorf("err = %v, want the sleep's", err)
	}
}
