package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func TestCallStats(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	ended := t0.Add(time.Minute)
	mk := func(i int, created time.Time, status string, attempts ...store.Attempt) {
		c := newCall("sales", fmt.Sprintf("+1555800%02d", i))
		c.CreatedAt, c.Status, c.Attempts = created, status, attempts
		if store.Final(status) {
			c.NextAttemptAt = nil
		}
		if _, _, err := s.CreateCall(ctx, c, store.CreateOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	mk(1, t0, store.CallCompleted, store.Attempt{N: 1, EndedAt: &ended, DurationS: 30})
	mk(2, t0.Add(time.Hour-time.Nanosecond), store.CallRetryScheduled, store.Attempt{N: 1, EndedAt: &ended})
	mk(3, t0.Add(time.Hour), store.CallCompleted, store.Attempt{N: 1, EndedAt: &ended, DurationS: 10}, store.Attempt{N: 2, EndedAt: &ended, DurationS: 20})
	mk(4, t0.Add(90*time.Minute), store.CallScheduled)
	mk(5, t0.Add(2*time.Hour), store.CallScheduled) // on the last bound: outside
	mk(6, t0.Add(-time.Nanosecond), store.CallScheduled)

	got, err := s.CallStats(ctx, []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"calls=2 by=map[completed:1 retry_scheduled:1] ended=2 completed=1 timed=1 talk=30",
		"calls=2 by=map[completed:1 scheduled:1] ended=1 completed=1 timed=2 talk=30",
	}
	for i, ps := range got {
		line := fmt.Sprintf("calls=%d by=%v ended=%d completed=%d timed=%d talk=%g", ps.Calls, ps.ByStatus, ps.Ended, ps.Completed, ps.Timed, ps.TalkS)
		if line != want[i] {
			t.Errorf("period %d: %s\nwant      %s", i, line, want[i])
		}
	}
	for _, bounds := range [][]time.Time{{t0}, {t0, t0}} {
		if _, err := s.CallStats(ctx, bounds); err == nil {
			t.Errorf("CallStats(%v) succeeded", bounds)
		}
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	call, _, err := s.CreateCall(ctx, newCall("sales", "+15559001"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	called := hubspotEvent("1", t0)
	called.CallID = call.ID
	putEvent(t, s, called)
	dup := hubspotEvent("1", t0.Add(time.Second))
	dup.CallID = call.ID // a duplicate of the same call counts it once
	putEvent(t, s, dup)
	for i, reason := range []string{"no valid phone: 5551234", "no valid phone: 5559876"} {
		ev := hubspotEvent(fmt.Sprint(10+i), t0.Add(time.Minute))
		ev.Status, ev.Reason, ev.Reconciled = store.EventSkipped, reason, true
		putEvent(t, s, ev)
	}
	late := hubspotEvent("3", t0.Add(time.Hour)) // at Until: outside
	putEvent(t, s, late)
	if err := s.RecordListing(ctx, "hs", store.ListingCreated, t0, []store.ListedRecord{
		{Integration: "hs", ObjectType: "contact", ObjectID: "1", CreatedAt: t0},
		{Integration: "hs", ObjectType: "contact", ObjectID: "missing", CreatedAt: t0},
	}, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	a, err := s.Audit(ctx, store.AuditFilter{Since: t0, Until: t0.Add(time.Hour), Integrations: []string{"hs"}})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("webhook=%d reconciled=%d events=%v calls=%d statuses=%v records=%d unaccounted=%d %v reasons=%v",
		a.Webhook, a.Reconciled, a.Events, a.Calls, a.CallStatuses, a.CRMRecords, a.Unaccounted, a.UnaccountedRecords[0].ObjectID, a.Reasons)
	want := `webhook=2 reconciled=2 events=map[called:2 skipped:2] calls=1 statuses=map[scheduled:1] records=2 unaccounted=1 missing reasons=[{skipped no valid phone: … 2}]`
	if got != want {
		t.Fatalf("audit:\n got %s\nwant %s", got, want)
	}
	if n, err := s.Unaccounted(ctx, "hs", t0, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Unaccounted = %d, %v", n, err)
	}
	if a, err := s.Audit(ctx, store.AuditFilter{Since: t0, Until: t0.Add(time.Hour), AgentID: "support", Integrations: []string{}}); err != nil || a.Webhook+a.Reconciled+a.CRMRecords != 0 {
		t.Fatalf("audit of another agent: %+v, %v", a, err)
	}
}
