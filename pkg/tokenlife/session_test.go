package tokenlife

import (
	"testing"
	"time"
)

func TestLifetimeEnd(t *testing.T) {
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		life     time.Duration
		warnLast time.Duration // end - warnFrom
	}{
		{"10 hours: the last 2", 36000 * time.Second, 2 * time.Hour},
		{"1 day: the last fifth", 24 * time.Hour, 24 * time.Hour / 5},
		{"14 days", 14 * 24 * time.Hour, 14 * 24 * time.Hour / 5},
		{"3 hours: at least an hour", 3 * time.Hour, time.Hour},
		{"5 minutes: the whole of it, not before the sign-in", 5 * time.Minute, 5 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			end, warn, ok := LifetimeEnd(start, tt.life)
			if !ok || !end.Equal(start.Add(tt.life)) || end.Sub(warn) != tt.warnLast {
				t.Errorf("LifetimeEnd = %v, %v, %t; want end %v warning for the last %v", end, warn, ok, start.Add(tt.life), tt.warnLast)
			}
		})
	}
	if _, _, ok := LifetimeEnd(time.Time{}, time.Hour); ok {
		t.Error("a lifetime from an unknown start")
	}
	if _, _, ok := LifetimeEnd(start, 0); ok {
		t.Error("a lifetime of 0")
	}
}

// TestSignInFrequencyAtSeveralAges is the case: a 70043 refusal
// taught N = 36000 s, the person signed in again, and status looks at
// several ages of the new session. The 90-day countdown is still there,
// but the session's first end is the sign-in frequency.
func TestSignInFrequencyAtSeveralAges(t *testing.T) {
	signIn := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		age       time.Duration
		due, past bool
	}{
		{time.Hour, false, false},
		{7*time.Hour + 59*time.Minute, false, false},
		{8 * time.Hour, true, false},
		{9*time.Hour + 59*time.Minute, true, false},
		{10 * time.Hour, false, true},
		{30 * time.Hour, false, true},
	} {
		now := signIn.Add(tt.age)
		// Refreshes renew the 90 days but not the sign-in frequency.
		f := Facts{Entra: true, HasRefreshToken: true, RefreshedAt: now, SignedInAt: signIn, Frequency: 36000 * time.Second}
		ds := Deadlines(f)
		if len(ds) != 2 || ds[0].Kind != SignInFrequency || ds[1].Kind != Inactivity {
			t.Fatalf("at %v: deadlines %+v, want the sign-in frequency, then inactivity", tt.age, ds)
		}
		first := ds[0]
		if !first.At.Equal(signIn.Add(10*time.Hour)) || first.Due(now) != tt.due || first.Past(now) != tt.past {
			t.Errorf("at %v: %+v due %t past %t; want end %v due %t past %t", tt.age, first, first.Due(now), first.Past(now), signIn.Add(10*time.Hour), tt.due, tt.past)
		}
		if ds[1].Due(now) {
			t.Errorf("at %v: the 90-day rule warns right after a refresh", tt.age)
		}
	}
}

func TestDeadlines(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tt := range []struct {
		name  string
		f     Facts
		kinds []Kind
		first time.Time
	}{
		{"Entra, nothing learned: 90 days from the refresh", Facts{Entra: true, HasRefreshToken: true, RefreshedAt: t0, SignedInAt: t0}, []Kind{Inactivity}, t0.Add(90 * day)},
		{"a frequency longer than what is left of the 90 days comes second", Facts{Entra: true, HasRefreshToken: true, RefreshedAt: t0, SignedInAt: t0.Add(-5 * day), Frequency: 100 * day}, []Kind{Inactivity, SignInFrequency}, t0.Add(90 * day)},
		{"a frequency without a sign-in time is not guessed", Facts{Entra: true, HasRefreshToken: true, RefreshedAt: t0, Frequency: day}, []Kind{Inactivity}, t0.Add(90 * day)},
		{"another server that says nothing: unknown", Facts{HasRefreshToken: true, RefreshedAt: t0, SignedInAt: t0}, nil, time.Time{}},
		{"another server's refresh_expires_in", Facts{HasRefreshToken: true, RefreshedAt: t0, SignedInAt: t0, RefreshExpiresIn: 30 * day}, []Kind{ServerSaid}, t0.Add(30 * day)},
		{"no refresh token: no deadline", Facts{Entra: true, RefreshedAt: t0, SignedInAt: t0, Frequency: day}, nil, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds := Deadlines(tt.f)
			var kinds []Kind
			for _, d := range ds {
				kinds = append(kinds, d.Kind)
			}
			if len(kinds) != len(tt.kinds) {
				t.Fatalf("kinds %v, want %v", kinds, tt.kinds)
			}
			for i := range kinds {
				if kinds[i] != tt.kinds[i] {
					t.Fatalf("kinds %v, want %v", kinds, tt.kinds)
				}
			}
			first, ok := First(tt.f)
			if ok != (len(tt.kinds) > 0) || !first.At.Equal(tt.first) {
				t.Errorf("First = %+v, %t; want at %v", first, ok, tt.first)
			}
		})
	}
}
