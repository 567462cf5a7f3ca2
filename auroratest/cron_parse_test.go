package auroratest

import (
	"testing"
	"time"
)

// TestNextCron checks fire times on Aurora's cron clock (UTC), in
// particular that a day field covering every day is "don't care", as in
// Quartz, and not OR-ed with the other day field as in crontab(5).
func TestNextCron(t *testing.T) {
	from := time.Date(2026, 1, 4, 12, 30, 0, 0, time.UTC) // a Sunday
	for _, tc := range []struct {
		schedule string
		want     time.Time
	}{
		{"* * * * *", time.Date(2026, 1, 4, 12, 31, 0, 0, time.UTC)},
		{"0 * * * *", time.Date(2026, 1, 4, 13, 0, 0, 0, time.UTC)},
		{"15 3 * * *", time.Date(2026, 1, 5, 3, 15, 0, 0, time.UTC)},
		{"0 0 * * MON", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
		{"0 0 * * 0", time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)},
		{"0 0 15 * 0-6", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"0 0 1-31 * TUE", time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)},
		{"0 0 1 feb *", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"*/20 13 * * *", time.Date(2026, 1, 4, 13, 0, 0, 0, time.UTC)},
		{"0 0 29 2 *", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
	} {
		got, ok := nextCron(tc.schedule, from.In(time.FixedZone("X", 3600)))
		if !ok || !got.Equal(tc.want) {
			t.Errorf("nextCron(%q) = %v, %v; want %v", tc.schedule, got, ok, tc.want)
		}
	}
}
