package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var reconcileTests = []subtest{
	{"EventsForObject", testEventsForObject},
	{"CheckpointsAndListedRecords", testCheckpoints},
	{"RecentAccount", testRecentAccount},
}

// testEventsForObject: every event of one CRM record (any agent, any
// status), oldest first, and per record the newest one's time; a
// duplicate adds nothing.
func testEventsForObject(t *testing.T, h Harness) {
	s := h.Open(t)
	res := appendAt(t, s, t0,
		store.Event{Key: "a", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"},
		store.Event{Key: "b", AgentID: "support", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"},
		store.Event{Key: "c", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "70"},
		store.Event{Key: "d", AgentID: "sales", Integration: "hubspot", ObjectType: "deal", ObjectID: "8"},
		store.Event{Key: "e", AgentID: "sales", Integration: "other", ObjectType: "contact", ObjectID: "9"},
		store.Event{Key: "f", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", Status: store.EventIgnored, Reason: "test", ObjectID: "11"},
	)
	ids, err := s.EventsForObject(ctx(t), "hubspot", "contact", "7")
	must(t, err)
	if want := []string{res.Events[0].ID, res.Events[1].ID}; !slices.Equal(ids, want) {
		t.Errorf("EventsForObject(7) = %v, want %v (not 70's)", ids, want)
	}
	if ids, _ := s.EventsForObject(ctx(t), "hubspot", "contact", "12"); len(ids) != 0 {
		t.Errorf("an unseen record has events %v", ids)
	}
	later := t0.Add(time.Hour)
	appendAt(t, s, later, store.Event{Key: "g", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "70"})
	latest, err := s.LatestEvents(ctx(t), "hubspot", "contact", []string{"7", "70", "8", "9", "11", "12"})
	must(t, err)
	want := map[string]time.Time{"7": t0, "70": later, "11": t0}
	if len(latest) != len(want) {
		t.Errorf("LatestEvents = %v, want %v (a deal, another integration's record and an unseen id are absent)", latest, want)
	}
	for id, at := range want {
		if !latest[id].Equal(at) {
			t.Errorf("LatestEvents[%s] = %v, want %v", id, latest[id], at)
		}
	}
	appendAt(t, s, later, store.Event{Key: "a", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"})
	if ids, _ := s.EventsForObject(ctx(t), "hubspot", "contact", "7"); len(ids) != 2 {
		t.Errorf("after a duplicate: %v", ids)
	}
}

// testCheckpoints: a checkpoint per (integration, listing) that never
// moves back; listed records kept once, pruned by creation time, listed
// by [since, until).
func testCheckpoints(t *testing.T, h Harness) {
	s := h.Open(t)
	if cp, err := s.Checkpoint(ctx(t), "hubspot", store.ListingCreated); err != nil || !cp.IsZero() {
		t.Fatalf("a new checkpoint = %v %v, want zero", cp, err)
	}
	recs := []store.ListedRecord{
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "1", CreatedAt: t0.Add(-40 * 24 * time.Hour)}, // older than prune: not kept
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "2", CreatedAt: t0.Add(-time.Hour)},
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "3", CreatedAt: t0},
	}
	prune := t0.Add(-store.ListedRetention)
	must(t, s.RecordListing(ctx(t), "hubspot", store.ListingCreated, t0.Add(time.Minute), recs, prune))
	// The same record again (a re-listed page) is kept once; a lower
	// checkpoint does not move it back.
	must(t, s.RecordListing(ctx(t), "hubspot", store.ListingCreated, t0, recs[1:2], prune))
	must(t, s.RecordListing(ctx(t), "other", store.ListingCreated, t0, []store.ListedRecord{{Integration: "other", ObjectType: "lead", ObjectID: "x", CreatedAt: t0}}, prune))
	if cp, err := s.Checkpoint(ctx(t), "hubspot", store.ListingCreated); err != nil || !cp.Equal(t0.Add(time.Minute)) {
		t.Errorf("checkpoint = %v %v, want t0+1m", cp, err)
	}
	if cp, _ := s.Checkpoint(ctx(t), "hubspot", store.ListingModified); !cp.IsZero() {
		t.Errorf("the modified listing has its own checkpoint, got %v", cp)
	}
	if cp, _ := s.Checkpoint(ctx(t), "other", store.ListingCreated); !cp.Equal(t0) {
		t.Errorf("other's checkpoint = %v, want t0", cp)
	}
	same := func(got, want []store.ListedRecord) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Integration != w.Integration || g.ObjectType != w.ObjectType || g.ObjectID != w.ObjectID || !g.CreatedAt.Equal(w.CreatedAt) {
				return false
			}
		}
		return true
	}
	got, err := s.ListedRecords(ctx(t), "hubspot", t0.Add(-2*time.Hour), t0.Add(time.Second))
	must(t, err)
	if !same(got, recs[1:]) {
		t.Errorf("ListedRecords = %+v, want %+v", got, recs[1:])
	}
	if got, _ := s.ListedRecords(ctx(t), "hubspot", t0.Add(-2*time.Hour), t0); !same(got, recs[1:2]) {
		t.Errorf("until is exclusive: %+v", got)
	}
	if got, _ := s.ListedRecords(ctx(t), "hubspot", t0, t0.Add(time.Hour)); !same(got, recs[2:]) {
		t.Errorf("since is inclusive: %+v", got)
	}
	if got, _ := s.ListedRecords(ctx(t), "", t0.Add(-2*time.Hour), t0.Add(time.Second)); len(got) != 3 {
		t.Errorf("all integrations: %+v", got)
	}
	// Pruning at a later time forgets the older ones.
	must(t, s.RecordListing(ctx(t), "hubspot", store.ListingCreated, t0.Add(time.Minute), nil, t0.Add(-time.Minute)))
	if got, _ := s.ListedRecords(ctx(t), "hubspot", time.Time{}, t0.Add(time.Hour)); !same(got, recs[2:]) {
		t.Errorf("after prune: %+v", got)
	}
	if got, _ := s.ListedRecords(ctx(t), "other", time.Time{}, t0.Add(time.Hour)); len(got) != 1 {
		t.Errorf("pruning hubspot touched other: %+v", got)
	}
}

// testRecentAccount: the account of the newest of an integration's events
// that names one.
func testRecentAccount(t *testing.T, h Harness) {
	s := h.Open(t)
	if a, err := s.RecentAccount(ctx(t), "hubspot"); err != nil || a != "" {
		t.Fatalf("empty inbox: %q %v", a, err)
	}
	appendAt(t, s, t0,
		store.Event{Key: "a", AgentID: "sales", Integration: "hubspot", Account: "111", ObjectType: "contact", ObjectID: "7"},
		store.Event{Key: "b", AgentID: "sales", Integration: "hubspot", Account: "222", ObjectType: "contact", ObjectID: "8"},
		store.Event{Key: "c", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "9"},
		store.Event{Key: "d", AgentID: "sales", Integration: "other", Account: "333", ObjectType: "contact", ObjectID: "9"},
	)
	if a, _ := s.RecentAccount(ctx(t), "hubspot"); a != "222" {
		t.Errorf("RecentAccount = %q, want the newest event's that names one (222)", a)
	}
	if a, _ := s.RecentAccount(ctx(t), "leadsquared"); a != "" {
		t.Errorf("an integration without events: %q", a)
	}
}
