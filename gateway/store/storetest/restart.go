package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var restartTests = []subtest{
	{"DataSurvives", testDataSurvivesRestart},
	{"EventLeases", testEventLeasesAtRestart},
	{"OrphanedDialingAtOpen", testOrphanedAtOpen},
}

func reopen(t *testing.T, h Harness, s store.Store) store.Store {
	t.Helper()
	if h.Reopen == nil {
		t.Skip("Harness.Reopen is nil: the restart subtests need it")
	}
	return h.Reopen(t, s)
}

// testDataSurvivesRestart: everything committed is there after a
// restart: events and their dedupe keys, calls, the outbox, DND,
// checkpoints.
func testDataSurvivesRestart(t *testing.T, h Harness) {
	s := h.Open(t)
	if h.Reopen == nil {
		t.Skip("Harness.Reopen is nil: the restart subtests need it")
	}
	ev := appendAt(t, s, t0, event("a")).Events[0]
	c := createCall(t, s, newCall("sales", "+14155550101"), store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: time.Hour, Now: t0})
	it := hook(s, c.ID, t0)
	must(t, s.EnqueueOutbox(ctx(t), it))
	must(t, s.AddDND(ctx(t), "+14155550199", "stop", t0))
	must(t, s.RecordListing(ctx(t), "hubspot", store.ListingCreated, t0, nil, t0.Add(-store.ListedRetention)))
	s = reopen(t, h, s)
	if got, err := s.GetEvent(ctx(t), ev.ID); err != nil || got.Key != "a" {
		t.Errorf("event after restart: %+v %v", got, err)
	}
	if res := appendAt(t, s, t0.Add(time.Minute), event("a")); !res.Duplicate[0] {
		t.Error("dedupe keys must survive a restart")
	}
	if got, err := s.GetCall(ctx(t), c.ID); err != nil || got.ToNumber != c.ToNumber {
		t.Errorf("call after restart: %+v %v", got, err)
	}
	if _, created, _ := s.CreateCall(ctx(t), newCall("sales", "+14155550102"), store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: time.Hour, Now: t0.Add(time.Minute)}); created {
		t.Error("the contact dedupe must survive a restart")
	}
	if got, err := s.GetOutbox(ctx(t), it.ID); err != nil || string(got.Body) != `{"n":1}` {
		t.Errorf("outbox after restart: %+v %v", got, err)
	}
	if on, _ := s.IsDND(ctx(t), "+14155550199"); !on {
		t.Error("DND after restart: the number is gone")
	}
	if cp, _ := s.Checkpoint(ctx(t), "hubspot", store.ListingCreated); !cp.Equal(t0) {
		t.Errorf("checkpoint after restart = %v", cp)
	}
	if p, _ := s.PendingEvents(ctx(t)); p != 1 {
		t.Errorf("pending after restart = %d, want 1", p)
	}
}

// testEventLeasesAtRestart: with one process holding the store, its
// restart proves the old process gone, so its leases are released at
// once; on a shared store another replica may be alive, so a lease is
// only taken back when it expires.
func testEventLeasesAtRestart(t *testing.T, h Harness) {
	s := h.Open(t)
	if h.Reopen == nil {
		t.Skip("Harness.Reopen is nil: the restart subtests need it")
	}
	appendAt(t, s, t0, event("a"), event("b"))
	if got := claim(t, s, t0, time.Hour, 10); len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	s = reopen(t, h, s)
	got := claim(t, s, t0.Add(time.Minute), time.Hour, 10)
	if h.Shared {
		if len(got) != 0 {
			t.Errorf("a restarted replica took %d leased events before their leases ended", len(got))
		}
		if got := claim(t, s, t0.Add(time.Hour), time.Hour, 10); len(got) != 2 {
			t.Errorf("after the leases ended: %d events, want 2", len(got))
		}
		return
	}
	if keys(got) != "a,b" {
		t.Errorf("after a restart claimed %q, want a,b at once", keys(got))
	}
}

// testOrphanedAtOpen: with one process holding the store, every call
// left dialing when it stopped is orphaned at the next open, whatever its
// lease; on a shared store only an expired lease makes one.
func testOrphanedAtOpen(t *testing.T, h Harness) {
	s := h.Open(t)
	if h.Reopen == nil {
		t.Skip("Harness.Reopen is nil: the restart subtests need it")
	}
	c := scheduleAt(t, s, "voice", "+14155550101", t0)
	scheduleAt(t, s, "voice", "+14155550102", t0.Add(time.Hour)) // waiting: not dialing
	if _, err := s.ClaimDue(ctx(t), "voice", t0, 1, dial(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, h, s)
	got, err := s.OrphanedDialing(ctx(t), t0.Add(time.Minute))
	must(t, err)
	if h.Shared {
		if len(got) != 0 {
			t.Errorf("orphaned before the lease ended: %v", callIDs(got))
		}
		got, err = s.OrphanedDialing(ctx(t), t0.Add(time.Hour))
		must(t, err)
	}
	if !slices.Equal(callIDs(got), []string{c.ID}) {
		t.Fatalf("OrphanedDialing = %v, want %s", callIDs(got), c.ID)
	}
	if got[0].Status != store.CallDialing || len(got[0].Attempts) != 1 {
		t.Errorf("orphaned call = %s with %d attempts", got[0].Status, len(got[0].Attempts))
	}
}
