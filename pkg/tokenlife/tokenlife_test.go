package tokenlife

import (
	"testing"
	"time"

	"github.com/ms365auth/ms365auth/pkg/store"
)

func TestRefreshTokenClock(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cases := []struct {
		name   string
		rec    store.Record
		days   int
		known  bool
		dead   bool
		urgent bool
	}{
		{"just refreshed", store.Record{RefreshToken: "r", LastRefreshAt: now}, 90, true, false, false},
		{"half a day used counts as a day left", store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-89*day - 12*time.Hour)}, 1, true, false, true},
		{"seven days left is not urgent", store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-83 * day)}, 7, true, false, false},
		{"six days left is", store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-84 * day)}, 6, true, false, true},
		{"at the cut-off", store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-90 * day)}, 0, true, true, false},
		{"long past it", store.Record{RefreshToken: "r", LastRefreshAt: now.Add(-400 * day)}, 0, true, true, false},
		{"never refreshed: from the link", store.Record{RefreshToken: "r", LinkedAt: now.Add(-10 * day)}, 80, true, false, false},
		{"no refresh token", store.Record{LastRefreshAt: now}, 0, false, false, false},
		{"no time at all", store.Record{RefreshToken: "r"}, 0, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			days, known := DaysLeft(&c.rec, now)
			if days != c.days || known != c.known {
				t.Errorf("DaysLeft = %d, %t; want %d, %t", days, known, c.days, c.known)
			}
			if got := Dead(&c.rec, now); got != c.dead {
				t.Errorf("Dead = %t, want %t", got, c.dead)
			}
			if got := Urgent(&c.rec, now); got != c.urgent {
				t.Errorf("Urgent = %t, want %t", got, c.urgent)
			}
		})
	}
}
