package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
)

func TestSubmitInsideWindowDialsNow(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	c := e.submit("+919876543210", policy(office, 0))
	r := e.dialed()
	if r.CallID != c.ID || r.Attempt != 1 || r.IdempotencyKey != c.ID+"-1" || r.ToNumber != "+919876543210" ||
		r.StatusCallbackURL != "https://calls.example.com/call/status/voice" || r.Variables["firstname"] != "Ada" || r.ObjectID != "123" {
		t.Fatalf("request = %+v", r)
	}
	got := e.waitStatus(c.ID, store.CallDialing)
	if got.LeaseUntil == nil || !got.LeaseUntil.Equal(monday8.Add(2*time.Hour+30*time.Minute)) {
		t.Fatalf("lease = %v, want now + the 30m outcome timeout", got.LeaseUntil)
	}
	e.eventually("attempt placed", func() bool { return e.call(c.ID).Attempts[0].PlacedAt != nil })
	e.outcome(c.ID, 1, store.OutcomeCompleted)
	got = e.call(c.ID)
	if got.Status != store.CallCompleted || got.Reason != "connected" || got.Attempts[0].ProviderCallID != "p-"+c.ID+"-1" {
		t.Fatalf("after completed: %s %q %+v", got.Status, got.Reason, got.Attempts)
	}
	e.outcome(c.ID, 1, store.OutcomeNoAnswer) // a late, contradicting redelivery changes nothing
	if again := e.call(c.ID); again.Status != store.CallCompleted || again.Attempts[0].Outcome != store.OutcomeCompleted {
		t.Fatalf("a duplicate callback changed the call: %+v", again)
	}
}

func TestSubmitDedupeAndTimezone(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	sub := scheduler.Submission{ContactKey: "hubspot:1:contact:123", DedupeWindow: 24 * time.Hour, Call: store.Call{
		AgentID: "sales", ToNumber: "+12125550123", Dialer: "voice", Policy: store.Policy{Timezone: "callee"}}}
	first, err := e.s.Submit(context.Background(), sub)
	if err != nil || first.Duplicate {
		t.Fatalf("first submit: %v %v", first.Duplicate, err)
	}
	if first.Call.Policy.Timezone != "America/New_York" {
		t.Fatalf("callee timezone of +1 212 = %q, want America/New_York", first.Call.Policy.Timezone)
	}
	again, err := e.s.Submit(context.Background(), sub)
	if err != nil || !again.Duplicate || again.Call.ID != first.Call.ID {
		t.Fatalf("second submit: duplicate=%v id=%s err=%v", again.Duplicate, again.Call.ID, err)
	}
	sub.Call.Dialer = "nope"
	if _, err := e.s.Submit(context.Background(), sub); !errors.Is(err, scheduler.ErrUnknownDialer) {
		t.Fatalf("unknown dialer: %v", err)
	}
	sub.Call.Dialer, sub.Call.Policy.Timezone = "voice", "Mars/Olympus"
	if _, err := e.s.Submit(context.Background(), sub); err == nil {
		t.Fatal("a bad timezone was accepted")
	}
}

// TestSubmitSaysWhyTheZoneFellBack: a call whose policy carries a
// timezone note (the number had several zones) says so in its reason.
func TestSubmitSaysWhyTheZoneFellBack(t *testing.T) {
	e := newEnv(t, monday8) // 08:00 Asia/Kolkata, an hour before the office opens
	note := "callee: the number is in several timezones (…); called in the agent's timezone Asia/Kolkata"
	for _, tc := range []struct {
		name   string
		window *store.Window
		want   string
	}{
		{"waits for the opening", office, "(timezone: " + note + ")"},
		{"due now", nil, "timezone: " + note},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy(tc.window, 0)
			p.TimezoneNote = note
			got, err := e.s.Submit(context.Background(), scheduler.Submission{Call: store.Call{
				AgentID: "sales-" + tc.name, ToNumber: "+18005551234", Dialer: "voice", Policy: p}})
			if err != nil || !strings.HasSuffix(got.Call.Reason, tc.want) {
				t.Fatalf("reason %q (%v), want it to end %q", got.Call.Reason, err, tc.want)
			}
		})
	}
}

func TestRetryLadder(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour)) // 10:00
	e.run()
	p := policy(office, 2, 2*time.Hour, 6*time.Hour)
	p.Retry.On = []string{store.OutcomeNoAnswer, store.OutcomeBusy}
	c := e.submit("+919876543210", p)

	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 1, store.OutcomeNoAnswer) // 10:00 → retry at 12:00
	got := e.call(c.ID)
	if got.Status != store.CallRetryScheduled || !got.NextAttemptAt.Equal(monday8.Add(4*time.Hour)) {
		t.Fatalf("after no_answer: %s at %v, want retry_scheduled at 12:00", got.Status, got.NextAttemptAt)
	}
	e.advanceTo(monday8.Add(4 * time.Hour))
	if r := e.dialed(); r.Attempt != 2 || r.IdempotencyKey != c.ID+"-2" {
		t.Fatalf("retry request %+v", r)
	}
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 2, store.OutcomeBusy) // 12:00 + 6h = 18:00, the window's end → next day 09:00
	got = e.call(c.ID)
	if want := monday8.Add(25 * time.Hour); !got.NextAttemptAt.Equal(want) {
		t.Fatalf("retry falling at closing time: %v, want the next opening %v", got.NextAttemptAt.In(kolkata), want)
	}
	e.advanceTo(monday8.Add(25 * time.Hour))
	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 3, store.OutcomeNoAnswer)
	got = e.call(c.ID)
	if got.Status != store.CallFailed || !strings.Contains(got.Reason, "no_answer, busy, no_answer") {
		t.Fatalf("exhausted: %s %q", got.Status, got.Reason)
	}
	e.noDial()
}

func TestOutcomesEndCalls(t *testing.T) {
	tests := []struct {
		outcome, status, reason string
	}{
		{store.OutcomeCompleted, store.CallCompleted, "connected"},
		{store.OutcomeCanceled, store.CallCanceled, "canceled by the voice platform"},
		{store.OutcomeVoicemail, store.CallFailed, "voicemail, which is not retried"},
		{store.OutcomeNoAnswer, store.CallRetryScheduled, "retry 1 of 1"},
		{store.OutcomeBusy, store.CallRetryScheduled, "retry 1 of 1"},
		{store.OutcomeFailed, store.CallRetryScheduled, "retry 1 of 1"},
	}
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	for i, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			p := policy(nil, 1)
			p.Retry.On = []string{store.OutcomeNoAnswer, store.OutcomeBusy, store.OutcomeFailed}
			c := e.submit("+91987654321"+string(rune('0'+i)), p)
			e.dialed()
			e.waitStatus(c.ID, store.CallDialing)
			e.outcome(c.ID, 1, tt.outcome)
			got := e.call(c.ID)
			if got.Status != tt.status || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("%s → %s %q, want %s with %q", tt.outcome, got.Status, got.Reason, tt.status, tt.reason)
			}
		})
	}
}

func TestTransportErrorsDoNotSpendAttempts(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.dialer.Next(schedtest.Unreachable, schedtest.Unreachable)
	e.run()
	c := e.submit("+919876543210", policy(office, 0))
	e.dialed()
	got := e.waitStatus(c.ID, store.CallScheduled)
	e.eventually("backoff", func() bool { got = e.call(c.ID); return got.NextAttemptAt != nil && got.TransportFailures == 1 })
	if len(got.Attempts) != 0 || !got.NextAttemptAt.Equal(monday8.Add(2*time.Hour+5*time.Second)) {
		t.Fatalf("after a 503: %d attempts, next %v; want none spent, re-sent in 5s", len(got.Attempts), got.NextAttemptAt)
	}
	e.advanceTo(*got.NextAttemptAt)
	e.dialed()
	e.eventually("second backoff", func() bool {
		got = e.call(c.ID)
		return got.TransportFailures == 2 && got.Status == store.CallScheduled
	})
	if !got.NextAttemptAt.Equal(monday8.Add(2*time.Hour + 15*time.Second)) {
		t.Fatalf("second backoff to %v, want 10s more", got.NextAttemptAt)
	}
	e.advanceTo(*got.NextAttemptAt)
	e.dialed()
	got = e.waitStatus(c.ID, store.CallDialing)
	if len(got.Attempts) != 1 || got.Attempts[0].N != 1 {
		t.Fatalf("attempts after the platform came back: %+v", got.Attempts)
	}
	for _, r := range e.dialer.Requests() {
		if r.IdempotencyKey != c.ID+"-1" {
			t.Fatalf("re-send used key %s, want %s-1 every time", r.IdempotencyKey, c.ID)
		}
	}
}

func TestRejectedDialFailsTheAttempt(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.dialer.Always(schedtest.Rejected)
	e.run()
	c := e.submit("+919876543210", policy(nil, 1, 30*time.Minute))
	e.dialed()
	got := e.waitStatus(c.ID, store.CallRetryScheduled)
	if got.Attempts[0].Outcome != store.OutcomeFailed || !strings.Contains(got.Attempts[0].Reason, "422") {
		t.Fatalf("attempt 1 = %+v, want failed with the platform's answer", got.Attempts[0])
	}
	e.advanceTo(*got.NextAttemptAt)
	e.dialed()
	got = e.waitStatus(c.ID, store.CallFailed)
	if !strings.Contains(got.Reason, "2 attempt") {
		t.Fatalf("reason %q", got.Reason)
	}
}

// TestUncertainDialIsNotRetried: a platform that cannot deduplicate took
// the request but its answer was lost; the attempt must wait for its
// outcome (or its lease), never be retried at once.
func TestUncertainDialIsNotRetried(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(scheduler.Limits{OutcomeTimeout: 10 * time.Minute}))
	e.dialer.Next(func(context.Context, dialer.Request) (dialer.Placed, error) {
		return dialer.Placed{}, errors.Join(dialer.ErrRejected, dialer.ErrUncertain)
	})
	e.run()
	c := e.submit("+919876543210", policy(nil, 2, 30*time.Minute))
	e.dialed()
	var got store.Call
	e.eventually("attempt marked for an operator", func() bool {
		got = e.call(c.ID)
		return len(got.Attempts) == 1 && got.Attempts[0].NeedsOperator
	})
	if got.Status != store.CallDialing || got.Attempts[0].Outcome != "" || !strings.Contains(got.Reason, "may have been placed") {
		t.Fatalf("call = %s %q, attempt %+v; want dialing, waiting for its outcome", got.Status, got.Reason, got.Attempts[0])
	}
	e.noDial()
	e.outcome(c.ID, 1, store.OutcomeCompleted)
	if got := e.waitStatus(c.ID, store.CallCompleted); len(got.Attempts) != 1 {
		t.Fatalf("attempts = %d, want 1", len(got.Attempts))
	}
}

func TestNoOutcomeFailsTheAttempt(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(scheduler.Limits{OutcomeTimeout: 10 * time.Minute}))
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	got := e.waitStatus(c.ID, store.CallDialing)
	e.advanceTo(*got.LeaseUntil)
	got = e.waitStatus(c.ID, store.CallFailed)
	if got.Attempts[0].Reason != "no outcome within 10m0s" {
		t.Fatalf("attempt = %+v", got.Attempts[0])
	}
}

func TestSynchronousDialer(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.dialer.Always(schedtest.Sync(store.OutcomeCompleted))
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	got := e.waitStatus(c.ID, store.CallCompleted)
	if got.Attempts[0].PlacedAt == nil || got.Attempts[0].EndedAt == nil {
		t.Fatalf("attempt = %+v", got.Attempts[0])
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, monday8)
	e.run()
	c := e.submit("+919876543210", policy(office, 0))
	other := e.submit("+919876543211", policy(office, 0))
	got, err := e.s.Cancel(context.Background(), c.ID, "")
	if err != nil || got.Status != store.CallCanceled || got.Reason == "" {
		t.Fatalf("Cancel = %s %q %v", got.Status, got.Reason, err)
	}
	if _, err := e.s.Cancel(context.Background(), c.ID, "again"); !errors.Is(err, scheduler.ErrFinal) {
		t.Fatalf("second cancel: %v, want ErrFinal", err)
	}
	if _, err := e.s.Cancel(context.Background(), "01NOPE", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown call: %v", err)
	}
	n, err := e.s.CancelNumber(context.Background(), "", "+919876543211", "number added to DND")
	if err != nil || n != 1 {
		t.Fatalf("CancelNumber = %d, %v", n, err)
	}
	if got := e.call(other.ID); got.Status != store.CallCanceled || got.Reason != "number added to DND" {
		t.Fatalf("other = %s %q", got.Status, got.Reason)
	}
	e.clock.Set(monday8.Add(time.Hour))
	e.noDial()
}

func TestCancelWhileDialingFreesTheSlot(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(scheduler.Limits{Concurrency: 1}))
	e.run()
	a := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	e.waitStatus(a.ID, store.CallDialing)
	b := e.submit("+919876543211", policy(nil, 0))
	e.noDial() // the one slot is taken
	if _, err := e.s.Cancel(context.Background(), a.ID, "operator"); err != nil {
		t.Fatal(err)
	}
	if r := e.dialed(); r.CallID != b.ID {
		t.Fatalf("dialed %s, want the waiting call", r.CallID)
	}
	e.outcome(a.ID, 1, store.OutcomeNoAnswer) // the canceled call's attempt still gets its outcome
	if got := e.call(a.ID); got.Status != store.CallCanceled || got.Attempts[0].Outcome != store.OutcomeNoAnswer {
		t.Fatalf("canceled call after its outcome: %s %+v", got.Status, got.Attempts)
	}
}

// TestPacing: 40 calls carried over to 09:00 are dialed at the dialer's
// rate and concurrency, not all at once.
func TestPacing(t *testing.T) {
	t.Run("rate", func(t *testing.T) {
		e := newEnv(t, monday8, withLimits(scheduler.Limits{Concurrency: 100, Rate: 4, Burst: 4}))
		e.dialer.Always(schedtest.Sync(store.OutcomeCompleted))
		e.run()
		for i := range 40 {
			e.submit("+9198765432"+string(rune('0'+i/10))+string(rune('0'+i%10)), policy(office, 0))
		}
		open := monday8.Add(time.Hour)
		e.advanceTo(open)
		for steps := 0; ; steps++ {
			time.Sleep(5 * time.Millisecond)
			n := len(e.dialer.Requests())
			elapsed := e.clock.Now().Sub(open).Seconds()
			if float64(n) > 4+4*elapsed+0.001 {
				t.Fatalf("%d dials %.2fs after the opening: over burst 4 + 4/s", n, elapsed)
			}
			if n == 40 {
				if elapsed < 8.9 {
					t.Fatalf("40 dials took %.2fs of clock time, want ≥ 9s at 4/s after a burst of 4", elapsed)
				}
				break
			}
			if steps > 1000 {
				t.Fatalf("stuck at %d dials", n)
			}
			if next, ok := e.clock.NextTimer(); ok {
				e.clock.Set(next)
			}
		}
	})
	t.Run("concurrency", func(t *testing.T) {
		e := newEnv(t, monday8, withLimits(scheduler.Limits{Concurrency: 5}))
		e.run()
		var ids []string
		for i := range 8 {
			ids = append(ids, e.submit("+91987654320"+string(rune('0'+i)), policy(office, 0)).ID)
		}
		e.advanceTo(monday8.Add(time.Hour))
		e.eventually("5 dials", func() bool { return len(e.dialer.Requests()) == 5 })
		e.noDialBeyond(5)
		first := e.dialer.Requests()[0]
		e.eventually("dialing", func() bool { return e.call(first.CallID).Status == store.CallDialing })
		e.outcome(first.CallID, 1, store.OutcomeCompleted)
		e.eventually("a 6th dial", func() bool { return len(e.dialer.Requests()) == 6 })
		e.noDialBeyond(6)
	})
}

// noDialBeyond asserts the dialer stays at n requests for a moment.
func (e *env) noDialBeyond(n int) {
	e.t.Helper()
	time.Sleep(30 * time.Millisecond)
	if got := len(e.dialer.Requests()); got != n {
		e.t.Fatalf("%d dials, want %d", got, n)
	}
}
