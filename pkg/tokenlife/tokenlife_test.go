package tokenlife

import (
	"testing"
	"time"
)

func TestRefreshTokenClock(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cases := []struct {
		name   string
		rt     RefreshToken
		days   int
		known  bool
		dead   bool
		urgent bool
	}{
		{"just refreshed", RefreshToken{Issued: now}, 90, true, false, false},
		{"half a day used counts as a day left", RefreshToken{Issued: now.Add(-89*day - 12*time.Hour)}, 1, true, false, true},
		{"seven days left is not urgent", RefreshToken{Issued: now.Add(-83 * day)}, 7, true, false, false},
		{"six days left is", RefreshToken{Issued: now.Add(-84 * day)}, 6, true, false, true},
		{"at the cut-off", RefreshToken{Issued: now.Add(-90 * day)}, 0, true, true, false},
		{"long past it", RefreshToken{Issued: now.Add(-400 * day)}, 0, true, true, false},
		{"no refresh token, or of unknown age", RefreshToken{}, 0, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			days, known := DaysLeft(c.rt, now)
			if days != c.days || known != c.known {
				t.Errorf("DaysLeft = %d, %t; want %d, %t", days, known, c.days, c.known)
			}
			if got := Dead(c.rt, now); got != c.dead {
				t.Errorf("Dead = %t, want %t", got, c.dead)
			}
			if got := Urgent(c.rt, now); got != c.urgent {
				t.Errorf("Urgent = %t, want %t", got, c.urgent)
			}
		})
	}
}
