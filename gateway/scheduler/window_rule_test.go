package scheduler_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
)

var newYork = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

// local is y-m-d hh:mm in loc.
func local(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// TestFirstAttemptRule is the table of docs/scheduling.md ("The window
// rule"): before / inside / after × carry_over × overnight × excluded day,
// DST, and schedule_at. A call waits for an opening later the same local
// day whatever carry_over says; an opening on a later day needs carry_over,
// else the call is dropped with a reason naming the window and why.
func TestFirstAttemptRule(t *testing.T) {
	day := func(carry bool) *store.Window { return &store.Window{Start: "09:00", End: "18:00", CarryOver: carry} }
	night := func(carry bool) *store.Window { return &store.Window{Start: "22:00", End: "06:00", CarryOver: carry} }
	weekdays := func(carry bool) *store.Window {
		return &store.Window{Start: "09:00", End: "18:00", CarryOver: carry, Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	}
	fridayNight := func(carry bool) *store.Window {
		return &store.Window{Start: "22:00", End: "06:00", CarryOver: carry, Days: []string{"fri"}}
	}
	k := func(s string) time.Time { return local(kolkata, s) }
	n := func(s string) time.Time { return local(newYork, s) }
	// 2026-11-27 is a Friday, 2026-11-28 a Saturday, 2026-11-30 a Monday.
	tests := []struct {
		name      string
		now       time.Time
		notBefore time.Time
		tz        string
		w         *store.Window
		status    string
		at        time.Time // next_attempt_at; zero for dropped
		reason    string    // the whole reason ("" = empty), or a part of it after "~"
	}{
		{"no window: due now", k("2026-11-30 03:00"), time.Time{}, "", nil, store.CallScheduled, k("2026-11-30 03:00"), ""},

		{"day: before the opening waits, carry_over false", k("2026-11-30 07:10"), time.Time{}, "", day(false), store.CallScheduled, k("2026-11-30 09:00"),
			"waiting for the call window 09:00–18:00 Asia/Kolkata to open at Mon 2026-11-30 09:00 IST"},
		{"day: before the opening waits, carry_over true", k("2026-11-30 07:10"), time.Time{}, "", day(true), store.CallScheduled, k("2026-11-30 09:00"),
			"waiting for the call window 09:00–18:00 Asia/Kolkata to open at Mon 2026-11-30 09:00 IST"},
		{"day: just after midnight waits for the morning", k("2026-11-30 00:05"), time.Time{}, "", day(false), store.CallScheduled, k("2026-11-30 09:00"), "~waiting"},
		{"day: at the opening is inside", k("2026-11-30 09:00"), time.Time{}, "", day(false), store.CallScheduled, k("2026-11-30 09:00"), ""},
		{"day: inside, carry_over false", k("2026-11-30 12:34"), time.Time{}, "", day(false), store.CallScheduled, k("2026-11-30 12:34"), ""},
		{"day: inside, carry_over true", k("2026-11-30 12:34"), time.Time{}, "", day(true), store.CallScheduled, k("2026-11-30 12:34"), ""},
		{"day: at the close, carry_over false → dropped", k("2026-11-30 18:00"), time.Time{}, "", day(false), store.CallDropped, time.Time{},
			"not called: closed for today at 18:00 Asia/Kolkata (call window 09:00–18:00 Asia/Kolkata; the call was due Mon 18:00 IST) and carry_over is false; with carry_over it would wait for Tue 2026-12-01 09:00 IST"},
		{"day: after the close, carry_over false → dropped", k("2026-11-30 20:15"), time.Time{}, "", day(false), store.CallDropped, time.Time{},
			"not called: closed for today at 18:00 Asia/Kolkata (call window 09:00–18:00 Asia/Kolkata; the call was due Mon 20:15 IST) and carry_over is false; with carry_over it would wait for Tue 2026-12-01 09:00 IST"},
		{"day: after the close, carry_over true → next opening", k("2026-11-30 20:15"), time.Time{}, "", day(true), store.CallScheduled, k("2026-12-01 09:00"),
			"closed for today at 18:00 Asia/Kolkata (call window 09:00–18:00 Asia/Kolkata; the call was due Mon 20:15 IST); carried over to Tue 2026-12-01 09:00 IST"},
		{"day: 23:59, carry_over true", k("2026-11-30 23:59"), time.Time{}, "", day(true), store.CallScheduled, k("2026-12-01 09:00"), "~carried over to Tue 2026-12-01 09:00 IST"},

		{"overnight: noon waits for 22:00 today, carry_over false", k("2026-11-30 12:00"), time.Time{}, "", night(false), store.CallScheduled, k("2026-11-30 22:00"),
			"waiting for the call window 22:00–06:00 Asia/Kolkata to open at Mon 2026-11-30 22:00 IST"},
		{"overnight: just after the morning close waits for 22:00", k("2026-11-30 06:00"), time.Time{}, "", night(false), store.CallScheduled, k("2026-11-30 22:00"), "~waiting"},
		{"overnight: evening inside", k("2026-11-30 23:00"), time.Time{}, "", night(false), store.CallScheduled, k("2026-11-30 23:00"), ""},
		{"overnight: small hours inside (yesterday's period)", k("2026-11-30 03:00"), time.Time{}, "", night(false), store.CallScheduled, k("2026-11-30 03:00"), ""},

		{"excluded day: saturday morning, carry_over false → dropped", k("2026-11-28 08:00"), time.Time{}, "", weekdays(false), store.CallDropped, time.Time{},
			"not called: sat is not a calling day (call window 09:00–18:00 Asia/Kolkata on mon, tue, wed, thu, fri; the call was due Sat 08:00 IST) and carry_over is false; with carry_over it would wait for Mon 2026-11-30 09:00 IST"},
		{"excluded day: saturday noon, carry_over false → dropped", k("2026-11-28 12:00"), time.Time{}, "", weekdays(false), store.CallDropped, time.Time{}, "~sat is not a calling day"},
		{"excluded day: saturday, carry_over true → monday", k("2026-11-28 12:00"), time.Time{}, "", weekdays(true), store.CallScheduled, k("2026-11-30 09:00"),
			"sat is not a calling day (call window 09:00–18:00 Asia/Kolkata on mon, tue, wed, thu, fri; the call was due Sat 12:00 IST); carried over to Mon 2026-11-30 09:00 IST"},
		{"allowed day: friday after the close, carry_over true → monday", k("2026-11-27 19:00"), time.Time{}, "", weekdays(true), store.CallScheduled, k("2026-11-30 09:00"), "~closed for today at 18:00 Asia/Kolkata"},
		{"allowed day: monday before the opening waits", k("2026-11-30 07:00"), time.Time{}, "", weekdays(false), store.CallScheduled, k("2026-11-30 09:00"), "~waiting"},
		{"overnight friday only: friday noon waits for 22:00", k("2026-11-27 12:00"), time.Time{}, "", fridayNight(false), store.CallScheduled, k("2026-11-27 22:00"), "~waiting"},
		{"overnight friday only: saturday 03:00 is friday's night", k("2026-11-28 03:00"), time.Time{}, "", fridayNight(false), store.CallScheduled, k("2026-11-28 03:00"), ""},
		{"overnight friday only: saturday 07:00, carry_over false → dropped", k("2026-11-28 07:00"), time.Time{}, "", fridayNight(false), store.CallDropped, time.Time{}, "~sat is not a calling day"},
		{"overnight friday only: saturday 07:00, carry_over true → next friday", k("2026-11-28 07:00"), time.Time{}, "", fridayNight(true), store.CallScheduled, k("2026-12-04 22:00"), "~carried over to Fri 2026-12-04 22:00 IST"},
		{"overnight friday only: thursday, carry_over false → dropped", k("2026-11-26 12:00"), time.Time{}, "", fridayNight(false), store.CallDropped, time.Time{}, "~thu is not a calling day"},

		// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"DST spring forward: opening in the skipped hour waits for 03:00 EDT", n("2026-03-08 00:30"), time.Time{}, "America/New_York",
			&store.Window{Start: "02:30", End: "05:00"}, store.CallScheduled, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), "~to open at Sun 2026-03-08 03:00 EDT"},
		{"DST spring forward: 08:00 EDT waits for 09:00 EDT", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), time.Time{}, "America/New_York",
			day(false), store.CallScheduled, time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC), "~waiting"},
		{"DST spring forward: overnight window, morning waits for 22:00 EDT", time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC), time.Time{}, "America/New_York",
			night(false), store.CallScheduled, time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC), "~to open at Sun 2026-03-08 22:00 EDT"},
		{"DST spring forward: after the close carries to 09:00 EDT", n("2026-03-08 19:00"), time.Time{}, "America/New_York",
			day(true), store.CallScheduled, time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), "~carried over to Mon 2026-03-09 09:00 EDT"},
		{"DST fall back: before the repeated 01:30 waits for the first one", time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), time.Time{}, "America/New_York",
			&store.Window{Start: "01:30", End: "03:00"}, store.CallScheduled, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), "~to open at Sun 2026-11-01 01:30 EDT"},
		{"DST fall back: the second 01:45 is inside", time.Date(2026, 11, 1, 6, 45, 0, 0, time.UTC), time.Time{}, "America/New_York",
			&store.Window{Start: "01:30", End: "03:00"}, store.CallScheduled, time.Date(2026, 11, 1, 6, 45, 0, 0, time.UTC), ""},
		{"DST fall back: 23:30 on the 25-hour day is still that day → dropped", time.Date(2026, 11, 2, 4, 30, 0, 0, time.UTC), time.Time{}, "America/New_York",
			day(false), store.CallDropped, time.Time{}, "~closed for today at 18:00 America/New_York (call window 09:00–18:00 America/New_York; the call was due Sun 23:30 EST)"},
		{"DST fall back: 00:30 the next day waits for 09:00 EST", time.Date(2026, 11, 2, 5, 30, 0, 0, time.UTC), time.Time{}, "America/New_York",
			day(false), store.CallScheduled, time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC), "~waiting"},

		// schedule_at (NotBefore): "the same day" is schedule_at's day.
		{"schedule_at before that day's opening waits", k("2026-11-30 10:00"), k("2026-12-02 07:00"), "", day(false), store.CallScheduled, k("2026-12-02 09:00"),
			"waiting for the call window 09:00–18:00 Asia/Kolkata to open at Wed 2026-12-02 09:00 IST"},
		{"schedule_at inside", k("2026-11-30 08:00"), k("2026-11-30 11:00"), "", day(false), store.CallScheduled, k("2026-11-30 11:00"), ""},
		{"schedule_at after that day's close, carry_over false → dropped", k("2026-11-30 10:00"), k("2026-11-30 20:00"), "", day(false), store.CallDropped, time.Time{},
			"~closed for today at 18:00 Asia/Kolkata (call window 09:00–18:00 Asia/Kolkata; the call was due Mon 20:00 IST) and carry_over is false"},
		{"schedule_at after that day's close, carry_over true → next opening", k("2026-11-30 10:00"), k("2026-12-02 19:00"), "", day(true), store.CallScheduled, k("2026-12-03 09:00"), "~carried over to Thu 2026-12-03 09:00 IST"},
		{"schedule_at in the past counts as now", k("2026-11-30 07:00"), k("2026-11-29 23:00"), "", day(false), store.CallScheduled, k("2026-11-30 09:00"), "~open at Mon 2026-11-30 09:00 IST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.now)
			p := policy(tt.w, 3, 2*time.Hour)
			if tt.tz != "" {
				p.Timezone = tt.tz
			}
			res, err := e.s.Submit(context.Background(), scheduler.Submission{NotBefore: tt.notBefore, Call: store.Call{
				AgentID: "sales", ToNumber: "+919876543210", Dialer: "voice", Policy: p}})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Call
			if c.Status != tt.status {
				t.Fatalf("status %s (%q), want %s", c.Status, c.Reason, tt.status)
			}
			switch {
			case tt.at.IsZero() && c.NextAttemptAt != nil:
				t.Fatalf("next_attempt_at %v, want none", c.NextAttemptAt)
			case !tt.at.IsZero() && (c.NextAttemptAt == nil || !c.NextAttemptAt.Equal(tt.at)):
				t.Fatalf("next_attempt_at %v, want %v", c.NextAttemptAt, tt.at.UTC())
			}
			if part, ok := strings.CutPrefix(tt.reason, "~"); ok {
				if !strings.Contains(c.Reason, part) {
					t.Fatalf("reason %q lacks %q", c.Reason, part)
				}
			} else if c.Reason != tt.reason {
				t.Fatalf("reason\n %q, want\n %q", c.Reason, tt.reason)
			}
			if c.Status == store.CallDropped && e.finals(store.CallDropped) != 1 {
				t.Fatalf("finals{dropped} = %v, want 1", e.finals(store.CallDropped))
			}
		})
	}
}

// TestTheHostedExampleURL: min_trigger_time=09:00&max_trigger_time=18:00
// &num_of_retries=3&gap_between_retries=2,4,6 without carry_over. A lead
// created at 07:10 is called at 09:00, not dropped.
func TestTheHostedExampleURL(t *testing.T) {
	e := newEnv(t, local(kolkata, "2026-11-30 07:10"))
	e.run()
	c := e.submit("+919876543210", policy(&store.Window{Start: "09:00", End: "18:00"}, 3, 2*time.Hour, 4*time.Hour, 6*time.Hour))
	if c.Status != store.CallScheduled || !c.NextAttemptAt.Equal(local(kolkata, "2026-11-30 09:00")) {
		t.Fatalf("call = %s %v %q, want scheduled for 09:00", c.Status, c.NextAttemptAt, c.Reason)
	}
	e.noDial()
	e.advanceTo(local(kolkata, "2026-11-30 09:00"))
	if r := e.dialed(); r.CallID != c.ID || r.Attempt != 1 {
		t.Fatalf("dialed %s attempt %d", r.CallID, r.Attempt)
	}
}

// TestLaterAttemptsWaitForTheWindow: a retry, a transport re-send and an
// attempt whose window closed while it waited for a slot are never
// dropped, even with carry_over false; each waits for the next opening and
// its reason says so.
func TestLaterAttemptsWaitForTheWindow(t *testing.T) {
	weekdays := &store.Window{Start: "09:00", End: "18:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	t.Run("retry after the close", func(t *testing.T) {
		e := newEnv(t, local(kolkata, "2026-11-30 16:00"))
		e.run()
		c := e.submit("+919876543210", policy(&store.Window{Start: "09:00", End: "18:00"}, 1, 3*time.Hour))
		e.dialed()
		e.waitStatus(c.ID, store.CallDialing)
		e.outcome(c.ID, 1, store.OutcomeNoAnswer) // 16:00 + 3h = 19:00, closed
		got := e.call(c.ID)
		want := local(kolkata, "2026-12-01 09:00")
		if got.Status != store.CallRetryScheduled || !got.NextAttemptAt.Equal(want) {
			t.Fatalf("retry = %s %v, want retry_scheduled at Tue 09:00", got.Status, got.NextAttemptAt)
		}
		for _, part := range []string{"retry 1 of 1 at Tue 2026-12-01 09:00 IST", "the gap ends at Mon 19:00 IST, outside the call window 09:00–18:00 Asia/Kolkata",
			"never dropped, whatever carry_over says"} {
			if !strings.Contains(got.Reason, part) {
				t.Fatalf("reason %q lacks %q", got.Reason, part)
			}
		}
		e.advanceTo(want)
		if r := e.dialed(); r.Attempt != 2 {
			t.Fatalf("dialed attempt %d, want the retry", r.Attempt)
		}
	})
	t.Run("retry before the opening", func(t *testing.T) {
		e := newEnv(t, local(kolkata, "2026-11-30 23:00"))
		e.run()
		c := e.submit("+919876543210", policy(&store.Window{Start: "22:00", End: "01:00"}, 1, 3*time.Hour))
		e.dialed()
		e.waitStatus(c.ID, store.CallDialing)
		e.outcome(c.ID, 1, store.OutcomeBusy) // 02:00, after the close: tonight's 22:00
		got := e.call(c.ID)
		if want := local(kolkata, "2026-12-01 22:00"); !got.NextAttemptAt.Equal(want) || got.Status != store.CallRetryScheduled {
			t.Fatalf("retry = %s %v, want Tue 22:00", got.Status, got.NextAttemptAt)
		}
	})
	t.Run("retry onto an excluded day", func(t *testing.T) {
		e := newEnv(t, local(kolkata, "2026-11-27 17:00")) // Friday
		e.run()
		c := e.submit("+919876543210", policy(weekdays, 1, 2*time.Hour))
		e.dialed()
		e.waitStatus(c.ID, store.CallDialing)
		e.outcome(c.ID, 1, store.OutcomeNoAnswer)
		got := e.call(c.ID)
		if want := local(kolkata, "2026-11-30 09:00"); !got.NextAttemptAt.Equal(want) || !strings.Contains(got.Reason, "on mon, tue, wed, thu, fri") {
			t.Fatalf("retry = %v %q, want Monday 09:00 naming the days", got.NextAttemptAt, got.Reason)
		}
	})
	t.Run("transport re-send after the close", func(t *testing.T) {
		e := newEnv(t, local(kolkata, "2026-11-30 17:59").Add(58*time.Second))
		e.dialer.Next(schedtest.Unreachable)
		e.run()
		c := e.submit("+919876543210", policy(&store.Window{Start: "09:00", End: "18:00"}, 0))
		e.dialed()
		var got store.Call
		e.eventually("the back-off", func() bool { got = e.call(c.ID); return got.TransportFailures == 1 })
		if got.Status != store.CallScheduled || !got.NextAttemptAt.Equal(local(kolkata, "2026-12-01 09:00")) || len(got.Attempts) != 0 {
			t.Fatalf("after a 503 at 17:59:58: %s %v %d attempts, want scheduled Tue 09:00 with none spent", got.Status, got.NextAttemptAt, len(got.Attempts))
		}
		if !strings.Contains(got.Reason, "the back-off ends at Mon 18:00 IST, outside the call window") || !strings.Contains(got.Reason, "never dropped") {
			t.Fatalf("reason %q", got.Reason)
		}
		e.advanceTo(local(kolkata, "2026-12-01 09:00"))
		if r := e.dialed(); r.IdempotencyKey != c.ID+"-1" {
			t.Fatalf("re-send key %s", r.IdempotencyKey)
		}
	})
	t.Run("window closes while waiting for a slot", func(t *testing.T) {
		e := newEnv(t, local(kolkata, "2026-11-30 17:50"), withLimits(schedLimits(1)))
		e.run()
		w := &store.Window{Start: "09:00", End: "18:00"}
		first := e.submit("+919876543210", policy(w, 0))
		e.dialed()
		e.waitStatus(first.ID, store.CallDialing)
		waiting := e.submit("+919876543211", policy(w, 0)) // due now, but the one slot is taken
		if waiting.Status != store.CallScheduled {
			t.Fatalf("second call %s", waiting.Status)
		}
		e.noDial()
		e.clock.Set(local(kolkata, "2026-11-30 18:05"))
		e.outcome(first.ID, 1, store.OutcomeCompleted) // frees the slot after the close
		var got store.Call
		e.eventually("the waiting call moved", func() bool {
			got = e.call(waiting.ID)
			return got.NextAttemptAt != nil && !got.NextAttemptAt.Equal(*waiting.NextAttemptAt)
		})
		if got.Status != store.CallScheduled || !got.NextAttemptAt.Equal(local(kolkata, "2026-12-01 09:00")) ||
			!strings.Contains(got.Reason, "closed before attempt 1 could be dialed (no dial slot was free, or the gateway was down); moved to the next opening Tue 2026-12-01 09:00 IST") ||
			!strings.Contains(got.Reason, "whatever carry_over says") {
			t.Fatalf("waiting call = %s %v %q", got.Status, got.NextAttemptAt, got.Reason)
		}
		e.noDial()
	})
}

// TestDueAttemptAfterAnOutage: a first attempt due at 17:00 inside its
// window, with the scheduler down until 19:00 and carry_over false, moves
// to the next opening; it was accepted, so it is not dropped.
func TestDueAttemptAfterAnOutage(t *testing.T) {
	e := newEnv(t, local(kolkata, "2026-11-30 17:00"))
	c := e.submit("+919876543210", policy(&store.Window{Start: "09:00", End: "18:00"}, 0))
	if c.Status != store.CallScheduled || !c.NextAttemptAt.Equal(local(kolkata, "2026-11-30 17:00")) {
		t.Fatalf("call = %s %v", c.Status, c.NextAttemptAt)
	}
	e.clock.Set(local(kolkata, "2026-11-30 19:00"))
	e.run()
	var got store.Call
	e.eventually("the call moved", func() bool {
		got = e.call(c.ID)
		return got.NextAttemptAt != nil && got.NextAttemptAt.After(e.clock.Now())
	})
	if got.Status != store.CallScheduled || !got.NextAttemptAt.Equal(local(kolkata, "2026-12-01 09:00")) || !strings.Contains(got.Reason, "or the gateway was down") {
		t.Fatalf("after the outage: %s %v %q, want scheduled for Tue 09:00", got.Status, got.NextAttemptAt, got.Reason)
	}
	e.noDial()
}

func TestClassify(t *testing.T) {
	w := &store.Window{Start: "09:00", End: "18:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	for _, tt := range []struct {
		t     time.Time
		want  scheduler.Standing
		next  time.Time
		why   string
		label string
	}{
		{local(kolkata, "2026-11-30 08:00"), scheduler.OpensToday, local(kolkata, "2026-11-30 09:00"), "", "before"},
		{local(kolkata, "2026-11-30 10:00"), scheduler.Open, local(kolkata, "2026-11-30 10:00"), "", "inside"},
		{local(kolkata, "2026-11-30 18:30"), scheduler.ClosedToday, local(kolkata, "2026-12-01 09:00"), "closed for today at 18:00 Asia/Kolkata", "after"},
		{local(kolkata, "2026-11-29 08:00"), scheduler.ClosedToday, local(kolkata, "2026-11-30 09:00"), "sun is not a calling day", "excluded"},
	} {
		t.Run(tt.label, func(t *testing.T) {
			p, err := scheduler.Classify(tt.t, w, kolkata)
			if err != nil || p.Standing != tt.want || !p.Next.Equal(tt.next) || p.Why != tt.why {
				t.Fatalf("Classify = %+v, %v; want %v %v %q", p, err, tt.want, tt.next, tt.why)
			}
		})
	}
	if p, err := scheduler.Classify(monday8, nil, kolkata); err != nil || p.Standing != scheduler.Open {
		t.Fatalf("no window: %+v %v", p, err)
	}
	if _, err := scheduler.Classify(monday8, &store.Window{Start: "9", End: "18:00"}, kolkata); err == nil {
		t.Fatal("a malformed window was classified")
	}
}

// TestClassifyProperty: for random instants, windows, days and zones (with
// DST), Classify agrees with NextAllowed and with the rule's calendar-day
// line: OpensToday's opening is on the instant's local date, ClosedToday's
// on a later one, and an overnight window on every day is never closed for
// today.
func TestClassifyProperty(t *testing.T) {
	zones := []string{"Asia/Kolkata", "America/New_York", "Europe/London", "Australia/Sydney", "UTC", "America/Santiago"}
	dayNames := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	rng := rand.New(rand.NewPCG(12, 2026))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hhmm := func() string {
		return time.Date(2000, 1, 1, rng.IntN(24), rng.IntN(60), 0, 0, time.UTC).Format("15:04")
	}
	date := func(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }
	for i := 0; i < 20000; i++ {
		loc, err := time.LoadLocation(zones[rng.IntN(len(zones))])
		if err != nil {
			t.Fatal(err)
		}
		w := &store.Window{Start: hhmm(), End: hhmm()}
		everyDay := rng.IntN(2) == 0
		if !everyDay {
			for _, d := range dayNames {
				if rng.IntN(3) == 0 {
					w.Days = append(w.Days, d)
				}
			}
		}
		now := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second)
		p, err := scheduler.Classify(now, w, loc)
		if err != nil {
			t.Fatal(err)
		}
		next, _ := scheduler.NextAllowed(now, w, loc)
		bad := !p.Next.Equal(next)
		switch p.Standing {
		case scheduler.Open:
			bad = bad || !next.Equal(now)
		case scheduler.OpensToday:
			bad = bad || !next.After(now) || date(next, loc) != date(now, loc)
		case scheduler.ClosedToday:
			bad = bad || date(next, loc) <= date(now, loc) || p.Why == ""
			overnight := w.End <= w.Start
			bad = bad || (overnight && len(w.Days) == 0)
		}
		if bad {
			t.Fatalf("window %+v %s at %s: Classify = %+v (NextAllowed %s)", w, loc, now.In(loc), p, next.In(loc))
		}
	}
}
