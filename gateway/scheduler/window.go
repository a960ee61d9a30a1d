package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// A window is a daily period [start, end) of wall-clock time in the call's
// timezone. end <= start means the period ends on the next day (22:00–06:00
// runs overnight; 09:00–09:00 is the whole day). Days name the day a period
// opens on: with days = ["fri"], 22:00–06:00 runs Friday night into Saturday.
// A wall time that does not exist (the skipped hour of a spring-forward
// change) is read as the first instant after the gap, so a window opening
// at 02:30 on that day in America/New_York opens at 03:00 EDT.
//
// Which attempt may wait where is decided here too, once: firstAttempt
// (a new call; the only reader of carry_over) and laterAttempt (retries,
// re-sends, attempts moved at claim time; they always wait).

// NextAllowed returns the earliest instant at or after t at which w allows
// a call in loc. A nil window allows any time.
func NextAllowed(t time.Time, w *store.Window, loc *time.Location) (time.Time, error) {
	if w == nil {
		return t, nil
	}
	sh, sm, eh, em, days, err := parseWindow(w)
	if err != nil {
		return time.Time{}, err
	}
	local := t.In(loc)
	y, m, d := local.Date()
	// A period that opened yesterday may still be running; a week and a
	// day ahead is as far as any set of days can push the next opening.
	for i := -1; i <= 8; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		if days != 0 && days&(1<<day.Weekday()) == 0 {
			continue
		}
		open, closing := period(day, sh, sm, eh, em, loc)
		if t.Before(closing) {
			if t.Before(open) {
				return open, nil
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("window %s–%s allows no day", w.Start, w.End)
}

// Standing is where an instant stands against a call window, in the terms
// of the scheduling rule (docs/scheduling.md, "Call windows").
type Standing int

const (
	// Open: the window allows a call at that instant.
	Open Standing = iota
	// OpensToday: the window is shut, and its next opening falls later on
	// the same local calendar day (before 09:00 in 09:00–18:00; at noon in
	// 22:00–06:00).
	OpensToday
	// ClosedToday: the day's chance has passed: today's period has closed,
	// or no period opens today (an excluded day); the next opening is on a
	// later calendar day.
	ClosedToday
)

// Placement is what Classify found.
type Placement struct {
	Standing Standing
	// Next is t when Open, else the window's next opening.
	Next time.Time
	// Why says, for ClosedToday, why today is over: "closed for today at
	// 18:00 Asia/Kolkata" or "sat is not a calling day".
	Why string
}

// Classify places t against w in loc: inside the window, waiting for an
// opening later the same local day, or past the day's chance. A nil window
// is always open. "The same day" is t's calendar date in loc, so DST
// changes (a 23- or 25-hour day) do not move the line.
func Classify(t time.Time, w *store.Window, loc *time.Location) (Placement, error) {
	next, err := NextAllowed(t, w, loc)
	if err != nil {
		return Placement{}, err
	}
	if next.Equal(t) {
		return Placement{Standing: Open, Next: t}, nil
	}
	lt, ln := t.In(loc), next.In(loc)
	if ty, tm, td := lt.Date(); ln.Year() == ty && ln.Month() == tm && ln.Day() == td {
		return Placement{Standing: OpensToday, Next: next}, nil
	}
	_, _, _, _, days, _ := parseWindow(w) // NextAllowed has validated it
	why := fmt.Sprintf("closed for today at %s %s", w.End, loc)
	if days != 0 && days&(1<<lt.Weekday()) == 0 {
		why = strings.ToLower(lt.Weekday().String()[:3]) + " is not a calling day"
	}
	return Placement{Standing: ClosedToday, Next: next, Why: why}, nil
}

// firstAttempt applies the window to a new call whose first attempt may
// start at start (now, or a later schedule_at): the one place carry_over
// is read. Inside the window the call is due at start; before an opening
// later the same day it waits for it, whatever carry_over says; once the
// day's chance has passed it moves to the next opening with carry_over,
// and is dropped without (dropped = true, reason says why).
func firstAttempt(start time.Time, w *store.Window, tz string, loc *time.Location) (at time.Time, reason string, dropped bool, err error) {
	p, err := Classify(start, w, loc)
	if err != nil {
		return time.Time{}, "", false, err
	}
	win := DescribeWindow(w, tz)
	switch {
	case p.Standing == Open:
		return start, "", false, nil
	case p.Standing == OpensToday:
		return p.Next, fmt.Sprintf("waiting for the call window %s to open at %s", win, localMinute(p.Next, loc)), false, nil
	}
	due := start.In(loc).Format("Mon 15:04 MST")
	if w.CarryOver {
		return p.Next, fmt.Sprintf("%s (call window %s; the call was due %s); carried over to %s", p.Why, win, due, localMinute(p.Next, loc)), false, nil
	}
	return time.Time{}, fmt.Sprintf("not called: %s (call window %s; the call was due %s) and carry_over is false; with carry_over it would wait for %s",
		p.Why, win, due, localMinute(p.Next, loc)), true, nil
}

// laterAttempt moves an attempt of a call already accepted (a retry, a
// re-send after a transport failure, an attempt whose window closed while
// it waited for a dial slot) to the first instant at or after earliest the
// window allows. Such an attempt is never dropped: carry_over governs only
// a new call's first attempt. note is "" when earliest is inside the
// window, else a clause saying the attempt waits and why.
func laterAttempt(earliest time.Time, w *store.Window, tz string, loc *time.Location) (at time.Time, note string, err error) {
	at, err = NextAllowed(earliest, w, loc)
	if err != nil || at.Equal(earliest) {
		return at, "", err
	}
	return at, fmt.Sprintf("%s, outside the call window %s; it waits for the next opening (attempts of an accepted call are never dropped, whatever carry_over says)",
		earliest.In(loc).Format("Mon 15:04 MST"), DescribeWindow(w, tz)), nil
}

// localMinute renders an instant for reasons: "Mon 2026-11-30 09:00 IST".
func localMinute(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST")
}

// InWindow reports whether w allows a call at t in loc.
func InWindow(t time.Time, w *store.Window, loc *time.Location) bool {
	next, err := NextAllowed(t, w, loc)
	return err == nil && next.Equal(t)
}

// period returns the instants the window opens and closes for the period
// opening on day's date.
func period(day time.Time, sh, sm, eh, em int, loc *time.Location) (time.Time, time.Time) {
	y, m, d := day.Date()
	open := wallTime(y, m, d, sh, sm, loc)
	ed := d
	if eh*60+em <= sh*60+sm {
		ed++
	}
	return open, wallTime(y, m, ed, eh, em, loc)
}

// wallTime is the instant the clocks in loc show y-m-d hh:mm; if they never
// show it (a DST gap) it is the instant the gap ends. Of a repeated wall
// time (the fall-back hour) it is the first.
func wallTime(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, hh, mm, 0, 0, loc)
	want := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	ly, lm, ld := t.Date()
	got := time.Date(ly, lm, ld, t.Hour(), t.Minute(), 0, 0, time.UTC)
	switch {
	case got.After(want): // read with the offset from before the gap: past the gap's end
		start, _ := t.ZoneBounds()
		return start
	case got.Before(want): // read with the offset from after the gap: before the gap
		_, end := t.ZoneBounds()
		return end
	}
	// In a repeated hour, Go may pick either reading; the earlier one is
	// an hour before if that instant shows the same wall time.
	if e := t.Add(-time.Hour); e.Hour() == hh && e.Minute() == mm {
		return e
	}
	return t
}

// parseWindow reads HH:MM bounds and the days as a weekday bit set (0 = every day).
func parseWindow(w *store.Window) (sh, sm, eh, em int, days uint8, err error) {
	if sh, sm, err = parseClock(w.Start); err != nil {
		return
	}
	if eh, em, err = parseClock(w.End); err != nil {
		return
	}
	for _, name := range w.Days {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			err = fmt.Errorf("window day %q: use mon, tue, wed, thu, fri, sat or sun", name)
			return
		}
		days |= 1 << wd
	}
	return
}

// ValidateWindow reports a window's first malformed field.
func ValidateWindow(w *store.Window) error {
	if w == nil {
		return nil
	}
	_, _, _, _, _, err := parseWindow(w)
	return err
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseClock(s string) (int, int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, 0, fmt.Errorf("window time %q: want HH:MM between 00:00 and 23:59", s)
	}
	return hh, mm, nil
}

// DescribeWindow renders a window for reasons and logs:
// "09:00–18:00 Asia/Kolkata on mon, tue".
func DescribeWindow(w *store.Window, tz string) string {
	if w == nil {
		return "any time"
	}
	s := w.Start + "–" + w.End + " " + tz
	if len(w.Days) > 0 {
		s += " on " + strings.Join(w.Days, ", ")
	}
	return s
}
