package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestDNDCheckedWhenDue: a number put on the do-not-call list after its
// call was scheduled (directly in the store, so nothing cancels the call)
// is never dialed: the claim that would dial it reads the list in the same
// transaction and ends the call blocked, with its final notification and
// the finals metric.
func TestDNDCheckedWhenDue(t *testing.T) {
	e := newEnv(t, monday8) // 08:00, the window opens at 09:00
	e.run()
	c := e.submit("+919876543210", policy(office, 2, time.Hour))
	other := e.submit("+919876543211", policy(office, 2, time.Hour))
	if c.Status != store.CallScheduled {
		t.Fatalf("call %s, want scheduled", c.Status)
	}
	if err := e.db.AddDND(context.Background(), "+919876543210", "asked not to be called", monday8.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(monday8.Add(time.Hour))
	if r := e.dialed(); r.CallID != other.ID {
		t.Fatalf("dialed %s, want only the unlisted call %s", r.CallID, other.ID)
	}
	got := e.waitStatus(c.ID, store.CallBlocked)
	if got.Reason != "not dialed: the number is on the do-not-call list (checked when attempt 1 was due)" ||
		len(got.Attempts) != 0 || got.NextAttemptAt != nil || got.LeaseUntil != nil {
		t.Fatalf("blocked call = %q, %d attempts, next %v, lease %v", got.Reason, len(got.Attempts), got.NextAttemptAt, got.LeaseUntil)
	}
	e.noDial()
	for _, r := range e.dialer.Requests() {
		if r.CallID == c.ID {
			t.Fatal("the listed number reached the dialer")
		}
	}
	if ev := strings.Join(e.outboxEvents(c.ID), ","); ev != "call_ended" {
		t.Fatalf("notifications = %q, want call_ended", ev)
	}
	if n := e.finals(store.CallBlocked); n != 1 {
		t.Fatalf("finals{blocked} = %v, want 1", n)
	}
}

// TestDNDBlocksARetry: the number was listed after attempt 1; the retry is
// blocked, not dialed.
func TestDNDBlocksARetry(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	c := e.submit("+919876543210", policy(office, 2, time.Hour))
	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	e.outcome(c.ID, 1, store.OutcomeNoAnswer)
	if err := e.db.AddDND(context.Background(), "+919876543210", "", monday8.Add(2*time.Hour+time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := e.call(c.ID)
	e.advanceTo(*got.NextAttemptAt)
	got = e.waitStatus(c.ID, store.CallBlocked)
	if !strings.Contains(got.Reason, "do-not-call list (checked when attempt 2 was due)") || len(got.Attempts) != 1 {
		t.Fatalf("blocked retry = %q with %d attempts", got.Reason, len(got.Attempts))
	}
	e.noDial()
	if n := len(e.dialer.Requests()); n != 1 {
		t.Fatalf("%d dials, want only attempt 1", n)
	}
	if ev := strings.Join(e.outboxEvents(c.ID), ","); ev != "attempt_ended,call_ended" {
		t.Fatalf("notifications = %q", ev)
	}
}

// TestDNDRemovedBeforeDue: a number taken off the list before its call is
// due is dialed as usual; the claim reads the list as it is then.
func TestDNDRemovedBeforeDue(t *testing.T) {
	e := newEnv(t, monday8)
	e.run()
	c := e.submit("+919876543210", policy(office, 0))
	if err := e.db.AddDND(context.Background(), "+919876543210", "", monday8); err != nil {
		t.Fatal(err)
	}
	if err := e.db.RemoveDND(context.Background(), "+919876543210"); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(monday8.Add(time.Hour))
	if r := e.dialed(); r.CallID != c.ID {
		t.Fatalf("dialed %s", r.CallID)
	}
}
