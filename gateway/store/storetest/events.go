package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var eventTests = []subtest{
	{"AppendDedupesWithinTheTTL", testAppendDedupe},
	{"DuplicatesShowTheOriginal", testDuplicateShowsOriginal},
	{"ClaimByDueTime", testClaimByDueTime},
	{"LeaseAndExpiry", testEventLease},
	{"ClaimOnceConcurrently", func(t *testing.T, h Harness) { testClaimEventsOnce(t, h, false) }},
	{"ClaimOnceAcrossProcesses", func(t *testing.T, h Harness) { testClaimEventsOnce(t, h, true) }},
	{"AppendConcurrently", func(t *testing.T, h Harness) { testAppendConcurrently(t, h, false) }},
	{"AppendConcurrentlyAcrossProcesses", func(t *testing.T, h Harness) { testAppendConcurrently(t, h, true) }},
	{"SaveEvents", testSaveEvents},
	{"GetEventNotFound", testGetEventNotFound},
	{"ListEventsFiltersAndPages", testListEvents},
	{"ViewEventsFollowsTheCall", testViewEvents},
	{"ReplayEvent", testReplayEvent},
	{"ReplayEvents", testReplayEvents},
	{"PendingCounts", testPendingCounts},
	{"WakeOrphans", testWakeOrphans},
}

// event is a HubSpot contact creation for agent sales.
func event(key string) store.Event {
	return store.Event{Key: key, AgentID: "sales", Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		Kind: "created", ObjectType: "contact", ObjectID: "1"}
}

// failed is an event stored failed, for the replay tests.
func failed(agent, object string) store.Event {
	return store.Event{Key: agent + ":" + object, AgentID: agent, Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		ObjectType: "contact", ObjectID: object, Status: store.EventFailed, Reason: "token rejected (401)"}
}

// appendAt appends evs received at at.
func appendAt(t *testing.T, s store.Store, at time.Time, evs ...store.Event) store.AppendResult {
	t.Helper()
	res, err := s.AppendEvents(ctx(t), evs, store.AppendOptions{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(evs) || len(res.Duplicate) != len(evs) {
		t.Fatalf("AppendEvents of %d events answered %d events, %d flags", len(evs), len(res.Events), len(res.Duplicate))
	}
	return res
}

func keys(evs []store.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Key)
	}
	return strings.Join(s, ",")
}

func eventIDs(evs []store.Event) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

func claim(t *testing.T, s store.Store, now time.Time, lease time.Duration, n int) []store.Event {
	t.Helper()
	evs, err := s.ClaimEvents(ctx(t), now, lease, n)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// testAppendDedupe: a key is remembered per (agent, integration) for the
// TTL (72h by default), lazily forgotten after it and swept by ExpireKeys,
// which keeps a key re-stored after its first expiry.
func testAppendDedupe(t *testing.T, h Harness) {
	s := h.Open(t)
	ignored := event("c")
	ignored.Status, ignored.Reason = store.EventIgnored, "record deleted"
	res := appendAt(t, s, t0, event("a"), event("a"), event("b"), ignored)
	if res.Accepted != 2 || res.Duplicates != 1 || res.Ignored != 1 {
		t.Fatalf("accepted/duplicates/ignored = %d/%d/%d, want 2/1/1", res.Accepted, res.Duplicates, res.Ignored)
	}
	if res.Duplicate[0] || !res.Duplicate[1] || res.Duplicate[2] || res.Duplicate[3] {
		t.Fatalf("duplicate flags = %v, want only the second a", res.Duplicate)
	}
	if res.Events[1].ID != res.Events[0].ID || res.Events[0].ID == "" {
		t.Fatalf("the second a should carry the first's id: %q %q", res.Events[0].ID, res.Events[1].ID)
	}
	for i, e := range res.Events {
		if i != 1 && (!e.ReceivedAt.Equal(t0) || !e.UpdatedAt.Equal(t0)) {
			t.Errorf("event %d received %v updated %v, want the append's time %v", i, e.ReceivedAt, e.UpdatedAt, t0)
		}
	}
	if res.Events[0].Status != store.EventPending || res.Events[3].Status != store.EventIgnored || res.Events[3].Reason != "record deleted" {
		t.Fatalf("statuses = %s, %s (%s)", res.Events[0].Status, res.Events[3].Status, res.Events[3].Reason)
	}
	other := event("a")
	other.AgentID = "support"
	otherIntegration := event("a")
	otherIntegration.Integration = "hubspot-eu"
	now := t0
	for _, tc := range []struct {
		name    string
		advance time.Duration
		ev      store.Event
		dup     bool
	}{
		{"redelivery a day later", 24 * time.Hour, event("a"), true},
		{"same key, other agent", 0, other, false},
		{"same key, other integration", 0, otherIntegration, false},
		{"just before the ttl", 47*time.Hour + 59*time.Minute, event("b"), true},
		{"after the ttl, before a sweep", 2 * time.Minute, event("a"), false},
	} {
		now = now.Add(tc.advance)
		res := appendAt(t, s, now, tc.ev)
		if res.Duplicate[0] != tc.dup {
			t.Errorf("%s: duplicate = %v, want %v", tc.name, res.Duplicate[0], tc.dup)
		}
	}
	n, err := s.ExpireKeys(ctx(t), now)
	must(t, err)
	if n != 2 { // b and c expired; a was stored again, support's and hubspot-eu's a are a day old
		t.Fatalf("ExpireKeys forgot %d keys, want 2 (b and c)", n)
	}
	if n, _ := s.ExpireKeys(ctx(t), now); n != 0 {
		t.Errorf("a second sweep forgot %d keys, want 0", n)
	}
	if res := appendAt(t, s, now, event("b")); res.Duplicate[0] {
		t.Error("b should be forgotten after the sweep")
	}
	if res := appendAt(t, s, now, event("a")); !res.Duplicate[0] {
		t.Error("the sweep must keep a key stored again after its first expiry")
	}
}

// testDuplicateShowsOriginal: a duplicate answers with the id, status and
// reason of the event it repeats, as that event is now, and stores nothing.
func testDuplicateShowsOriginal(t *testing.T, h Harness) {
	s := h.Open(t)
	ignored := event("gone")
	ignored.Status, ignored.Reason = store.EventIgnored, "record deleted"
	first := appendAt(t, s, t0, event("a"), ignored)
	got := claim(t, s, t0, time.Minute, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %d events, want 1", len(got))
	}
	got[0].Status, got[0].Reason, got[0].CallID, got[0].UpdatedAt = store.EventCalled, "call created", "01CALL", t0.Add(time.Second)
	must(t, s.SaveEvents(ctx(t), got))
	res := appendAt(t, s, t0.Add(time.Hour), event("a"), event("gone"))
	if res.Duplicates != 2 || res.Accepted != 0 || res.Ignored != 0 {
		t.Fatalf("accepted/duplicates/ignored = %d/%d/%d, want 0/2/0", res.Accepted, res.Duplicates, res.Ignored)
	}
	if e := res.Events[0]; e.ID != first.Events[0].ID || e.Status != store.EventCalled || e.CallID != "01CALL" {
		t.Errorf("duplicate of a = %s %s %s, want %s called 01CALL", e.ID, e.Status, e.CallID, first.Events[0].ID)
	}
	if e := res.Events[1]; e.ID != first.Events[1].ID || e.Status != store.EventIgnored || e.Reason != "record deleted" {
		t.Errorf("duplicate of gone = %s %s (%s)", e.ID, e.Status, e.Reason)
	}
	all, _, err := s.ListEvents(ctx(t), store.EventFilter{})
	must(t, err)
	if len(all) != 2 {
		t.Errorf("%d events stored, want 2: a duplicate is not stored", len(all))
	}
}

// testClaimByDueTime: claims follow the due time (the later of NotBefore
// and the lease), so a backlog waiting for retries neither hides due
// events nor goes first.
func testClaimByDueTime(t *testing.T, h Harness) {
	s := h.Open(t)
	var evs []store.Event
	for i := range 50 {
		e := event(fmt.Sprint("wait-", i))
		e.NotBefore = t0.Add(time.Hour)
		evs = append(evs, e)
	}
	for i, d := range []time.Duration{3 * time.Minute, time.Minute, 0, 2 * time.Minute} {
		e := event(fmt.Sprint("due-", i))
		if d > 0 {
			e.NotBefore = t0.Add(d)
		}
		evs = append(evs, e)
	}
	appendAt(t, s, t0, evs...)
	if got := claim(t, s, t0, 10*time.Minute, 1); keys(got) != "due-2" {
		t.Fatalf("claim at t0 = %q, want the one due event due-2", keys(got))
	}
	if got := claim(t, s, t0.Add(5*time.Minute), 10*time.Minute, 2); keys(got) != "due-1,due-3" {
		t.Fatalf("claim of 2 = %q, want due-1,due-3 (earliest NotBefore first)", keys(got))
	}
	got := claim(t, s, t0.Add(5*time.Minute), 10*time.Minute, 10)
	if keys(got) != "due-0" {
		t.Fatalf("claim = %q, want due-0: the rest are leased or waiting", keys(got))
	}
	// Released with a shorter wait than the backlog, it is due first again.
	got[0].NotBefore, got[0].UpdatedAt = t0.Add(6*time.Minute), t0.Add(5*time.Minute)
	must(t, s.SaveEvents(ctx(t), got))
	if got := claim(t, s, t0.Add(7*time.Minute), time.Hour, 5); keys(got) != "due-0" {
		t.Fatalf("after its retry wait: %q, want due-0", keys(got))
	}
	if all := claim(t, s, t0.Add(2*time.Hour), time.Minute, 1000); len(all) != 54 {
		t.Fatalf("two hours later %d events due, want the 50 waiting and the 4 whose leases ran out", len(all))
	}
}

// testEventLease: a claimed event is not claimed again until its lease
// ends or SaveEvents releases it; NotBefore delays a claim.
func testEventLease(t *testing.T, h Harness) {
	s := h.Open(t)
	later := event("later")
	later.NotBefore = t0.Add(time.Minute)
	appendAt(t, s, t0, event("1"), event("2"), later)
	got := claim(t, s, t0, 2*time.Minute, 10)
	if keys(got) != "1,2" {
		t.Fatalf("claim = %q, want 1,2", keys(got))
	}
	if again := claim(t, s, t0, 2*time.Minute, 10); len(again) != 0 {
		t.Fatalf("leased events claimed again: %q", keys(again))
	}
	if due := claim(t, s, t0.Add(time.Minute), 2*time.Minute, 10); keys(due) != "later" {
		t.Fatalf("at NotBefore: %q, want later", keys(due))
	}
	if early := claim(t, s, t0.Add(2*time.Minute-time.Second), 2*time.Minute, 10); len(early) != 0 {
		t.Fatalf("a second before the lease ends: %q claimed", keys(early))
	}
	expired := claim(t, s, t0.Add(2*time.Minute), 2*time.Minute, 10)
	if keys(expired) != "1,2" {
		t.Fatalf("when the lease ends: %q, want 1,2", keys(expired))
	}
	if p, err := s.PendingEvents(ctx(t)); err != nil || p != 3 {
		t.Fatalf("PendingEvents = %d %v, want 3: leased events are pending", p, err)
	}
}

// testClaimEventsOnce: workers claiming at once (on one handle, or on two
// processes) take every event exactly once.
func testClaimEventsOnce(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	hs := handles(t, h, s, peers, 8)
	var evs []store.Event
	for i := range 200 {
		evs = append(evs, event(fmt.Sprint("k", i)))
	}
	want := eventIDs(appendAt(t, s, t0, evs...).Events)
	claimed := make([][]string, len(hs))
	parallel(t, hs, func(i int, s store.Store) error {
		for range len(want) + 1 {
			got, err := s.ClaimEvents(t.Context(), t0, time.Hour, 7)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			claimed[i] = append(claimed[i], eventIDs(got)...)
		}
		return errNeverEmpty
	})
	count := map[string]int{}
	for _, ids := range claimed {
		for _, id := range ids {
			count[id]++
		}
	}
	exactlyOnce(t, "event", want, count)
}

// testAppendConcurrently: appends from many goroutines (on one handle, or
// on two processes) each get their own result, and a key sent by two of
// them at once is stored once.
func testAppendConcurrently(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	hs := handles(t, h, s, peers, 16)
	const each = 20
	ids := make([][]string, len(hs))
	parallel(t, hs, func(w int, s store.Store) error {
		for i := range each {
			// every key is sent by two writers (with peers, one per process):
			// one stores it, the other is told it is a duplicate
			res, err := s.AppendEvents(t.Context(), []store.Event{event(fmt.Sprintf("%d-%d", w/2, i))}, store.AppendOptions{Now: t0})
			if err != nil {
				return err
			}
			if len(res.Events) != 1 || res.Events[0].ID == "" {
				return fmt.Errorf("result = %+v", res)
			}
			ids[w] = append(ids[w], res.Events[0].ID)
		}
		return nil
	})
	for w := 0; w < len(hs); w += 2 {
		if !slices.Equal(ids[w], ids[w+1]) {
			t.Fatalf("writers %d and %d sent the same keys and got different ids", w, w+1)
		}
	}
	if p, _ := s.PendingEvents(ctx(t)); p != len(hs)/2*each {
		t.Errorf("pending = %d, want %d", p, len(hs)/2*each)
	}
	all, _, err := s.ListEvents(ctx(t), store.EventFilter{Limit: 1000})
	must(t, err)
	if len(all) != len(hs)/2*each {
		t.Errorf("stored %d events, want %d", len(all), len(hs)/2*each)
	}
}

// testSaveEvents: a terminal status leaves the queue, pending with a
// NotBefore comes back then, every field is kept, an unknown id fails.
func testSaveEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	appendAt(t, s, t0, event("done"), event("retry"))
	got := claim(t, s, t0, time.Minute, 10)
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	done, retry := got[0], got[1]
	done.Status, done.Reason, done.CallID, done.UpdatedAt = store.EventSkipped, "record not found", "", t0.Add(time.Second)
	retry.NotBefore, retry.Attempts, retry.Reason, retry.UpdatedAt = t0.Add(10*time.Minute), 1, "", t0.Add(time.Second)
	must(t, s.SaveEvents(ctx(t), []store.Event{done, retry}))
	if p, _ := s.PendingEvents(ctx(t)); p != 1 {
		t.Errorf("pending = %d, want 1", p)
	}
	stored, err := s.GetEvent(ctx(t), done.ID)
	must(t, err)
	if stored.Status != store.EventSkipped || stored.Reason != "record not found" || !stored.UpdatedAt.Equal(t0.Add(time.Second)) || stored.Key != "done" {
		t.Errorf("saved event = %+v", stored)
	}
	// The lease was released: due at NotBefore, not at the lease's end.
	if early := claim(t, s, t0.Add(10*time.Minute-time.Second), time.Minute, 10); len(early) != 0 {
		t.Fatalf("claimed before NotBefore: %q", keys(early))
	}
	again := claim(t, s, t0.Add(10*time.Minute), time.Minute, 10)
	if len(again) != 1 || again[0].ID != retry.ID || again[0].Attempts != 1 || !again[0].NotBefore.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("after NotBefore: %+v, want the retry with its attempt", again)
	}
	err = s.SaveEvents(ctx(t), []store.Event{{ID: s.NewID(t0), Status: store.EventFailed, Reason: "x", UpdatedAt: t0}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("saving an unknown event = %v, want ErrNotFound", err)
	}
}

func testGetEventNotFound(t *testing.T, h Harness) {
	s := h.Open(t)
	if _, err := s.GetEvent(ctx(t), s.NewID(t0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent(unknown) = %v, want ErrNotFound", err)
	}
}

// testListEvents: newest first, filters on status, agent, plugin, the
// received window and a search; pages chain through the cursor without
// gaps or repeats, and an exactly full last page has no cursor.
func testListEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	var want []string
	for i := range 23 {
		e := failed([]string{"sales", "support"}[i%2], fmt.Sprint(i))
		if i%3 == 0 {
			e.Type, e.Integration = "leadsquared", "lsq"
		}
		if i%5 == 0 {
			e.Status, e.Reason = "", ""
		}
		res := appendAt(t, s, t0.Add(time.Duration(i)*time.Minute), e)
		want = append([]string{res.Events[0].ObjectID}, want...)
	}
	objects := func(evs []store.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ObjectID)
		}
		return out
	}
	keep := func(f func(i int) bool) []string {
		var out []string
		for i := 22; i >= 0; i-- {
			if f(i) {
				out = append(out, fmt.Sprint(i))
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want []string
	}{
		{"all", store.EventFilter{}, want},
		{"agent", store.EventFilter{AgentID: "support"}, keep(func(i int) bool { return i%2 == 1 })},
		{"status", store.EventFilter{Status: store.EventPending}, keep(func(i int) bool { return i%5 == 0 })},
		{"type", store.EventFilter{Type: "leadsquared"}, keep(func(i int) bool { return i%3 == 0 })},
		{"since", store.EventFilter{Since: t0.Add(20 * time.Minute)}, []string{"22", "21", "20"}},
		{"until", store.EventFilter{Until: t0.Add(2 * time.Minute)}, []string{"1", "0"}},
		{"agent, status and window", store.EventFilter{AgentID: "sales", Status: store.EventFailed, Since: t0.Add(4 * time.Minute), Until: t0.Add(12 * time.Minute)},
			[]string{"8", "6", "4"}},
		{"search by object id", store.EventFilter{Search: store.NewSearch("17", nil)}, []string{"17"}},
		{"search matching none", store.EventFilter{Search: store.NewSearch("nobody", nil)}, nil},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 4, 50} {
			f := tt.f
			f.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatalf("%s: pagination does not end", tt.name)
				}
				page, next, err := s.ListEvents(ctx(t), f)
				must(t, err)
				if len(page) > limit {
					t.Fatalf("%s: page of %d > limit %d", tt.name, len(page), limit)
				}
				got = append(got, objects(page)...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s (limit %d) = %v, want %v", tt.name, limit, got, tt.want)
			}
		}
	}
	// A page that is exactly full has no cursor when nothing follows.
	if page, next, _ := s.ListEvents(ctx(t), store.EventFilter{Since: t0.Add(20 * time.Minute), Limit: 3}); len(page) != 3 || next != "" {
		t.Errorf("full last page: %d events, next %q", len(page), next)
	}
	if page, next, _ := s.ListEvents(ctx(t), store.EventFilter{Limit: 1}); len(page) != 1 || next == "" {
		t.Errorf("first page of one: %d events, next %q", len(page), next)
	}
	if page, _, _ := s.ListEvents(ctx(t), store.EventFilter{}); len(page) != 23 {
		t.Errorf("the default limit holds 23 events, got %d", len(page))
	}
}

// testViewEvents: a view carries the status of the call the event became;
// an event without a call, or whose call is gone, keeps its own.
func testViewEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	c := createCall(t, s, newCall("sales", "+919812345678"), store.CreateOptions{Now: t0})
	called := store.Event{Key: "k", AgentID: "sales", Status: store.EventCalled, Reason: "call created", CallID: c.ID}
	gone := store.Event{Key: "gone", AgentID: "sales", Status: store.EventCalled, Reason: "call created", CallID: s.NewID(t0)}
	evs := appendAt(t, s, t0, called, failed("sales", "9"), gone).Events
	c.Status, c.Reason, c.NextAttemptAt, c.Policy.Timezone = store.CallDropped, "no attempt left in the window", nil, "Asia/Kolkata"
	must(t, s.UpdateCall(ctx(t), c, nil))
	views, err := s.ViewEvents(ctx(t), evs)
	must(t, err)
	if len(views) != 3 {
		t.Fatalf("%d views for 3 events", len(views))
	}
	if v := views[0]; v.ShownStatus() != store.CallDropped || v.ShownReason() != "no attempt left in the window" || v.Status != store.EventCalled || v.CallTimezone != "Asia/Kolkata" {
		t.Errorf("called event shows %s (%s), own status %s, zone %q", v.ShownStatus(), v.ShownReason(), v.Status, v.CallTimezone)
	}
	if v := views[1]; v.ShownStatus() != store.EventFailed || v.CallStatus != "" || v.ID != evs[1].ID {
		t.Errorf("failed event shows %s", v.ShownStatus())
	}
	if v := views[2]; v.ShownStatus() != store.EventCalled || v.CallStatus != "" {
		t.Errorf("event of a missing call shows %s", v.ShownStatus())
	}
}

// testReplayEvent: failed, skipped, ignored and blocked events go back to
// pending with the old outcome in History; pending and called events
// give ErrNotReplayable, an unknown id ErrNotFound.
func testReplayEvent(t *testing.T, h Harness) {
	s := h.Open(t)
	var evs []store.Event
	for _, st := range []string{store.EventFailed, store.EventSkipped, store.EventIgnored, store.EventBlocked, store.EventCalled} {
		e := event("k-" + st)
		e.Status, e.Reason, e.Attempts = st, "because "+st, 2
		evs = append(evs, e)
	}
	evs = append(evs, event("k-pending"))
	stored := appendAt(t, s, t0, evs...).Events
	now := t0.Add(time.Hour)
	for _, e := range stored {
		r, err := s.ReplayEvent(ctx(t), e.ID, now)
		if !store.Replayable(e.Status) {
			if !errors.Is(err, store.ErrNotReplayable) {
				t.Errorf("replaying a %s event = %v, want ErrNotReplayable", e.Status, err)
			}
			continue
		}
		must(t, err)
		want := []string{t0.Format(time.RFC3339) + " " + e.Status + ": because " + e.Status}
		if r.Status != store.EventPending || r.Reason != "" || r.Attempts != 0 || !r.NotBefore.IsZero() || !slices.Equal(r.History, want) || !r.UpdatedAt.Equal(now) {
			t.Errorf("replayed %s = %+v, want pending, history %q", e.Status, r, want)
		}
		if got, _ := s.GetEvent(ctx(t), e.ID); got.Status != store.EventPending || !slices.Equal(got.History, want) {
			t.Errorf("stored after replay: %s %q", got.Status, got.History)
		}
		if _, err := s.ReplayEvent(ctx(t), e.ID, now); !errors.Is(err, store.ErrNotReplayable) {
			t.Errorf("replaying it again = %v, want ErrNotReplayable", err)
		}
	}
	if _, err := s.ReplayEvent(ctx(t), s.NewID(t0), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replaying an unknown event = %v, want ErrNotFound", err)
	}
	if got := claim(t, s, now, time.Minute, 10); len(got) != 5 {
		t.Errorf("after replays %d events are due, want the 4 replayed and the pending one", len(got))
	}
	if p, _ := s.PendingEvents(ctx(t)); p != 5 {
		t.Errorf("pending = %d, want 5", p)
	}
}

// testReplayEvents: a bulk replay takes the filter's replayable events
// and counts the others skipped; a dry run changes nothing.
func testReplayEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	appendAt(t, s, t0, failed("sales", "1"), failed("sales", "2"), failed("support", "3"))
	late := appendAt(t, s, t0.Add(48*time.Hour), failed("sales", "4")).Events[0]
	appendAt(t, s, t0, store.Event{Key: "p", AgentID: "sales"}) // pending: matched by agent, never replayed
	now := t0.Add(72 * time.Hour)

	dry, err := s.ReplayEvents(ctx(t), store.EventFilter{AgentID: "sales"}, now, true)
	if err != nil || dry.Replayed != 3 || dry.Skipped != 1 || dry.Truncated {
		t.Fatalf("dry run = %+v, %v; want 3 replayed, 1 skipped", dry, err)
	}
	if n, _ := s.PendingEvents(ctx(t)); n != 1 {
		t.Fatalf("a dry run changed the queue: %d pending", n)
	}
	res, err := s.ReplayEvents(ctx(t), store.EventFilter{Status: store.EventFailed, AgentID: "sales", Until: t0.Add(time.Hour), Limit: 1, Cursor: "ignored"}, now, false)
	if err != nil || res.Replayed != 2 || res.Skipped != 0 || res.Truncated {
		t.Fatalf("replay = %+v, %v; want 2 replayed (Limit and Cursor ignored)", res, err)
	}
	if n, _ := s.PendingEvents(ctx(t)); n != 3 {
		t.Errorf("%d events pending, want 3", n)
	}
	if got, _ := s.GetEvent(ctx(t), late.ID); got.Status != store.EventFailed {
		t.Errorf("an event outside the window was replayed: %s", got.Status)
	}
	evs, _, _ := s.ListEvents(ctx(t), store.EventFilter{Status: store.EventPending, AgentID: "sales"})
	if len(evs) != 3 {
		t.Errorf("%d pending sales events, want 3", len(evs))
	}
	for _, ev := range evs {
		if ev.Key != "p" && (len(ev.History) != 1 || !strings.Contains(ev.History[0], "failed: token rejected (401)")) {
			t.Errorf("replayed event %s history %q", ev.ID, ev.History)
		}
	}
	if res, _ := s.ReplayEvents(ctx(t), store.EventFilter{Status: store.EventFailed, AgentID: "sales", Until: t0.Add(time.Hour)}, now, false); res.Replayed != 0 {
		t.Errorf("a second replay = %+v, want nothing left", res)
	}
}

// testPendingCounts: PendingEvents and PendingByAgent count the events
// not yet terminal, leased or not (on a shared store, as every process
// sees them).
func testPendingCounts(t *testing.T, h Harness) {
	s := h.Open(t)
	lsq := event("l")
	lsq.Integration = "lsq"
	support := event("s")
	support.AgentID = "support"
	ignored := event("i")
	ignored.Status, ignored.Reason = store.EventIgnored, "no"
	appendAt(t, s, t0, event("a"), event("b"), lsq, support, ignored)
	claim(t, s, t0, time.Hour, 1)
	check := func(s store.Store, n int, want map[string]map[string]int) {
		t.Helper()
		if p, err := s.PendingEvents(ctx(t)); err != nil || p != n {
			t.Errorf("PendingEvents = %d %v, want %d", p, err, n)
		}
		got, err := s.PendingByAgent(ctx(t))
		must(t, err)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("PendingByAgent = %v, want %v", got, want)
		}
	}
	check(s, 4, map[string]map[string]int{"sales": {"hubspot": 2, "lsq": 1}, "support": {"hubspot": 1}})
	got := claim(t, s, t0, time.Hour, 10)
	for i := range got {
		got[i].Status, got[i].Reason, got[i].UpdatedAt = store.EventSkipped, "no phone", t0
	}
	must(t, s.SaveEvents(ctx(t), got))
	check(s, 1, map[string]map[string]int{"sales": {"hubspot": 1}})
	if h.Peer != nil {
		check(peer(t, h, s), 1, map[string]map[string]int{"sales": {"hubspot": 1}})
	}
}

// testWakeOrphans: events waiting for a missing agent or integration
// (OrphanedAt set, NotBefore ahead) become due at once when back says
// they returned; the others keep waiting.
func testWakeOrphans(t *testing.T, h Harness) {
	s := h.Open(t)
	other := event("b")
	other.AgentID = "gone"
	plain := event("c")
	appendAt(t, s, t0, event("a"), other, plain)
	got := claim(t, s, t0, time.Minute, 10)
	if len(got) != 3 {
		t.Fatalf("claimed %d, want 3", len(got))
	}
	for i := range got {
		got[i].NotBefore, got[i].UpdatedAt = t0.Add(time.Hour), t0
		if got[i].Key != "c" { // c waits for a retry, not for its agent
			got[i].OrphanedAt = t0
		}
	}
	must(t, s.SaveEvents(ctx(t), got))
	asked := map[string]bool{}
	now := t0.Add(time.Minute)
	n, err := s.WakeOrphans(ctx(t), now, func(agent, integration string) bool {
		asked[agent+"/"+integration] = true
		return agent == "sales"
	})
	must(t, err)
	if n != 1 {
		t.Fatalf("WakeOrphans woke %d, want 1 (sales's)", n)
	}
	if !asked["sales/hubspot"] || !asked["gone/hubspot"] {
		t.Errorf("back was asked about %v, want sales/hubspot and gone/hubspot", asked)
	}
	if due := claim(t, s, now, time.Minute, 10); keys(due) != "a" {
		t.Fatalf("due after the wake-up: %q, want a", keys(due))
	}
	if n, _ := s.WakeOrphans(ctx(t), now, func(string, string) bool { return false }); n != 0 {
		t.Errorf("nobody back: woke %d", n)
	}
}
