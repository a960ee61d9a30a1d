package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
)

// TestEarlierInsertWakesTheLane: the lane sleeps until 09:00 for a
// carried-over call; a call due now must not wait for that timer.
func TestEarlierInsertWakesTheLane(t *testing.T) {
	e := newEnv(t, monday8)
	e.run()
	later := e.submit("+919876543210", policy(office, 0))
	e.eventually("the lane's timer for 09:00", func() bool {
		for _, at := range e.clock.Timers() {
			if at.Equal(*later.NextAttemptAt) {
				return true
			}
		}
		return false
	})
	now := e.submit("+919876543211", policy(nil, 0))
	if r := e.dialed(); r.CallID != now.ID {
		t.Fatalf("dialed %s, want the call due now", r.CallID)
	}
}

// TestSlowDialer: a platform that does not answer within the dial timeout
// counts as unreachable (no attempt spent), and does not hold up other
// calls while it hangs.
func TestSlowDialer(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(scheduler.Limits{Concurrency: 2, DialTimeout: 100 * time.Millisecond}))
	e.dialer.Next(schedtest.Hang)
	e.run()
	slow := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	fast := e.submit("+919876543211", policy(nil, 0))
	if r := e.dialed(); r.CallID != fast.ID {
		t.Fatalf("dialed %s while the slow dial hangs, want %s", r.CallID, fast.ID)
	}
	got := e.waitStatus(slow.ID, store.CallScheduled)
	if len(got.Attempts) != 0 || got.TransportFailures != 1 || !strings.Contains(got.Reason, "unreachable") {
		t.Fatalf("after the dial timeout: %d attempts, %d transport failures, %q", len(got.Attempts), got.TransportFailures, got.Reason)
	}
}

// TestNotificationsCommittedWithChanges: each attempt outcome and each
// final status leaves an outbox item, written with the change itself.
func TestNotificationsCommittedWithChanges(t *testing.T) {
	e := newEnv(t, monday8)
	e.run()
	early := &store.Window{Start: "05:00", End: "07:00"} // closed for today at 08:00, no carry_over
	dropped := e.submit("+919876543210", policy(early, 0))
	e.clock.Set(monday8.Add(2 * time.Hour))
	c := e.submit("+919876543211", policy(nil, 1, time.Minute))
	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 1, store.OutcomeBusy)
	got := e.call(c.ID)
	e.advanceTo(*got.NextAttemptAt)
	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 2, store.OutcomeCompleted)
	events := func(id string) []string {
		items, _, err := e.db.ListOutbox(context.Background(), store.OutboxFilter{CallID: id})
		if err != nil {
			t.Fatal(err)
		}
		var ev []string
		for _, it := range items {
			ev = append(ev, it.Event)
		}
		return ev
	}
	if got := strings.Join(events(dropped.ID), ","); got != "call_ended" {
		t.Errorf("dropped call notifications = %q, want call_ended", got)
	}
	if got := strings.Join(events(c.ID), ","); got != "attempt_ended,call_ended" {
		t.Errorf("call notifications = %q, want attempt_ended,call_ended", got)
	}
}

// TestOutcomeAfterTransportFailure: the dial timed out but the platform
// had placed the call and reports its outcome; the attempt is restored
// from the outcome and not sent again.
func TestOutcomeAfterTransportFailure(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.dialer.Next(schedtest.Unreachable)
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	e.eventually("backoff", func() bool { return e.call(c.ID).TransportFailures == 1 })
	e.outcome(c.ID, 1, store.OutcomeCompleted)
	got := e.call(c.ID)
	if got.Status != store.CallCompleted || len(got.Attempts) != 1 || got.Attempts[0].Outcome != store.OutcomeCompleted {
		t.Fatalf("call = %s %+v", got.Status, got.Attempts)
	}
	e.clock.Advance(time.Minute)
	e.noDial()
	if err := e.s.HandleOutcome(t.Context(), "voice", scheduler.Outcome{CallID: c.ID, Attempt: 2, Status: "completed"}); err == nil {
		t.Fatal("an outcome for an attempt never made was accepted")
	}
}
