package scheduler_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNextAllowed(t *testing.T) {
	kol, ny, lon := mustLoad(t, "Asia/Kolkata"), mustLoad(t, "America/New_York"), mustLoad(t, "Europe/London")
	day := &store.Window{Start: "09:00", End: "18:00"}
	night := &store.Window{Start: "22:00", End: "06:00"}
	weekdays := &store.Window{Start: "09:00", End: "18:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	fridayNight := &store.Window{Start: "22:00", End: "06:00", Days: []string{"fri"}}
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-11-27 is a Friday.
	tests := []struct {
		name string
		w    *store.Window
		loc  *time.Location
		t    time.Time
		want time.Time
	}{
		{"no window", nil, kol, at(kol, "2026-11-27 03:00"), at(kol, "2026-11-27 03:00")},
		{"inside", day, kol, at(kol, "2026-11-27 10:30"), at(kol, "2026-11-27 10:30")},
		{"at opening", day, kol, at(kol, "2026-11-27 09:00"), at(kol, "2026-11-27 09:00")},
		{"before opening", day, kol, at(kol, "2026-11-27 07:59"), at(kol, "2026-11-27 09:00")},
		{"at closing is outside", day, kol, at(kol, "2026-11-27 18:00"), at(kol, "2026-11-28 09:00")},
		{"after closing", day, kol, at(kol, "2026-11-27 21:00"), at(kol, "2026-11-28 09:00")},
		{"midnight crossing, evening inside", night, kol, at(kol, "2026-11-27 23:00"), at(kol, "2026-11-27 23:00")},
		{"midnight crossing, early morning inside", night, kol, at(kol, "2026-11-28 03:00"), at(kol, "2026-11-28 03:00")},
		{"midnight crossing, at end", night, kol, at(kol, "2026-11-28 06:00"), at(kol, "2026-11-28 22:00")},
		{"midnight crossing, noon", night, kol, at(kol, "2026-11-27 12:00"), at(kol, "2026-11-27 22:00")},
		{"days: friday evening → monday", weekdays, kol, at(kol, "2026-11-27 19:00"), at(kol, "2026-11-30 09:00")},
		{"days: saturday → monday", weekdays, kol, at(kol, "2026-11-28 10:00"), at(kol, "2026-11-30 09:00")},
		{"days: crossing window keeps its opening day", fridayNight, kol, at(kol, "2026-11-28 03:00"), at(kol, "2026-11-28 03:00")},
		{"days: crossing window, saturday night closed", fridayNight, kol, at(kol, "2026-11-28 23:00"), at(kol, "2026-12-04 22:00")},
		{"timezone: 09:00 New York from UTC", day, ny, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)},
		// DST. 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"NY spring forward: opening in the skipped hour opens at 03:00 EDT", &store.Window{Start: "02:30", End: "05:00"}, ny,
			at(ny, "2026-03-08 00:00"), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"NY spring forward: day window stays 09:00 local", day, ny, at(ny, "2026-03-08 08:00"), time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC)},
		{"NY day before spring forward", day, ny, at(ny, "2026-03-07 08:00"), time.Date(2026, 3, 7, 14, 0, 0, 0, time.UTC)},
		{"NY fall back: repeated 01:30 opens at the first", &store.Window{Start: "01:30", End: "03:00"}, ny,
			at(ny, "2026-11-01 00:00"), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		{"NY fall back: night window spans the long night", night, ny,
			time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC)}, // 05:30 EST, inside (closes 06:00 EST)
		// London 2026-03-29 01:00 GMT → 02:00 BST; 2026-10-25 02:00 BST → 01:00 GMT.
		{"London spring forward: 01:30 opens at 02:00 BST", &store.Window{Start: "01:30", End: "04:00"}, lon,
			at(lon, "2026-03-29 00:10"), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"London after spring forward: 09:00 BST", day, lon, time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)},
		{"London after fall back: 09:00 GMT", day, lon, time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 9, 0, 0, 0, time.UTC)},
		{"London window ending in the skipped hour", &store.Window{Start: "00:00", End: "01:30"}, lon,
			time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC)},
		{"whole day window", &store.Window{Start: "00:00", End: "00:00"}, kol, at(kol, "2026-11-27 13:13"), at(kol, "2026-11-27 13:13")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scheduler.NextAllowed(tt.t, tt.w, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("NextAllowed(%s) = %s, want %s", tt.t.In(tt.loc), got.In(tt.loc), tt.want.In(tt.loc))
			}
			if !scheduler.InWindow(got, tt.w, tt.loc) {
				t.Fatalf("%s is not inside the window it was moved to", got.In(tt.loc))
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	for _, w := range []*store.Window{
		{Start: "9", End: "18:00"}, {Start: "24:00", End: "18:00"}, {Start: "09:00", End: "18:60"},
		{Start: "09:00", End: "18:00", Days: []string{"funday"}},
	} {
		if err := scheduler.ValidateWindow(w); err == nil {
			t.Errorf("window %+v: want an error", w)
		}
		if _, err := scheduler.NextAllowed(time.Now(), w, time.UTC); err == nil {
			t.Errorf("NextAllowed with window %+v: want an error", w)
		}
	}
}

// TestNextAllowedProperty: for random instants, windows, days and zones
// (with DST), the computed attempt time is never before now, always inside
// the window, and is either now or an opening (a second earlier is outside).
func TestNextAllowedProperty(t *testing.T) {
	zones := []string{"Asia/Kolkata", "America/New_York", "Europe/London", "Australia/Sydney", "UTC", "America/Santiago"}
	dayNames := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	rng := rand.New(rand.NewPCG(7, 2026))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() string {
		return time.Date(2000, 1, 1, rng.IntN(24), rng.IntN(60), 0, 0, time.UTC).Format("15:04")
	}
	var locs []*time.Location
	for _, z := range zones {
		locs = append(locs, mustLoad(t, z))
	}
	for i := 0; i < 20000; i++ {
		loc := locs[rng.IntN(len(locs))]
		w := &store.Window{Start: clock(), End: clock()}
		for _, d := range dayNames {
			if rng.IntN(3) == 0 {
				w.Days = append(w.Days, d)
			}
		}
		now := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		got, err := scheduler.NextAllowed(now, w, loc)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case got.Before(now):
			t.Fatalf("window %+v %s: NextAllowed(%s) = %s, before now", w, loc, now.In(loc), got.In(loc))
		case !scheduler.InWindow(got, w, loc):
			t.Fatalf("window %+v %s: NextAllowed(%s) = %s, outside the window", w, loc, now.In(loc), got.In(loc))
		case !got.Equal(now) && scheduler.InWindow(got.Add(-time.Second), w, loc):
			t.Fatalf("window %+v %s: NextAllowed(%s) = %s, but a second earlier was already inside", w, loc, now.In(loc), got.In(loc))
		case got.Sub(now) > 8*24*time.Hour:
			t.Fatalf("window %+v %s: NextAllowed(%s) = %s, more than a week ahead", w, loc, now.In(loc), got.In(loc))
		}
	}
}
