package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// FuzzNextAllowed feeds window bounds and days as an operator or a
// webhook's min_trigger_time/max_trigger_time might write them: bad input
// is an error, never a panic, a result always lies inside the window, and
// Classify agrees with NextAllowed.
func FuzzNextAllowed(f *testing.F) {
	f.Add("09:00", "18:00", "mon,fri", int64(1764500000), "Asia/Kolkata")
	f.Add("22:00", "06:00", "", int64(1772953200), "America/New_York")
	f.Add("01:30", "01:30", "sun", int64(1774746000), "Europe/London")
	f.Add("9:5", "24:00", "funday", int64(0), "UTC")
	f.Fuzz(func(t *testing.T, start, end, days string, unix int64, zone string) {
		loc, err := time.LoadLocation(zone)
		if err != nil || unix < 0 || unix > 1<<40 {
			return
		}
		w := &store.Window{Start: start, End: end}
		if days != "" {
			w.Days = strings.Split(days, ",")
		}
		now := time.Unix(unix, 0)
		got, err := scheduler.NextAllowed(now, w, loc)
		if err != nil {
			return
		}
		if got.Before(now) || !scheduler.InWindow(got, w, loc) {
			t.Fatalf("window %+v in %s: NextAllowed(%s) = %s", w, zone, now, got)
		}
		p, err := scheduler.Classify(now, w, loc)
		if err != nil || !p.Next.Equal(got) || (p.Standing == scheduler.Open) != got.Equal(now) || (p.Standing == scheduler.ClosedToday) != (p.Why != "") {
			t.Fatalf("window %+v in %s: Classify(%s) = %+v, %v; NextAllowed = %s", w, zone, now, p, err, got)
		}
	})
}
