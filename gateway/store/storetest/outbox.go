package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var outboxTests = []subtest{
	{"ClaimInDueOrder", testOutboxDueOrder},
	{"LeaseMovesNextAt", testOutboxLease},
	{"ClaimOnceConcurrently", func(t *testing.T, h Harness) { testClaimOutboxOnce(t, h, false) }},
	{"ClaimOnceAcrossProcesses", func(t *testing.T, h Harness) { testClaimOutboxOnce(t, h, true) }},
	{"DeadLettersAndRetry", testOutboxDead},
	{"Delete", testOutboxDelete},
	{"ListPages", testOutboxList},
	{"EnqueueIsAtomic", testOutboxAtomic},
	{"FillsIDsAndTimes", testOutboxFills},
}

// items enqueues one webhook per due time, ids in order, and returns them.
func items(t *testing.T, s store.Store, at ...time.Time) []store.OutboxItem {
	t.Helper()
	var out []store.OutboxItem
	for _, a := range at {
		out = append(out, hook(s, "", a))
	}
	must(t, s.EnqueueOutbox(ctx(t), out...))
	return out
}

func outboxIDs(items []store.OutboxItem) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func claimOutbox(t *testing.T, s store.Store, now time.Time, lease time.Duration, limit int) []store.OutboxItem {
	t.Helper()
	got, err := s.ClaimOutbox(ctx(t), now, lease, limit)
	must(t, err)
	return got
}

// testOutboxDueOrder: items are claimed by NextAt, earliest first, up to
// the limit, and not before NextAt.
func testOutboxDueOrder(t *testing.T, h Harness) {
	s := h.Open(t)
	if _, ok, err := s.NextOutboxAt(ctx(t)); err != nil || ok {
		t.Fatalf("NextOutboxAt on an empty outbox = %v %v", ok, err)
	}
	it := items(t, s, t0.Add(2*time.Minute), t0, t0.Add(time.Minute))
	c, a, b := it[0].ID, it[1].ID, it[2].ID
	if at, ok, err := s.NextOutboxAt(ctx(t)); err != nil || !ok || !at.Equal(t0) {
		t.Fatalf("NextOutboxAt = %v %v %v, want t0", at, ok, err)
	}
	if got := claimOutbox(t, s, t0.Add(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed before any is due: %v", outboxIDs(got))
	}
	got := claimOutbox(t, s, t0.Add(time.Minute), time.Hour, 10)
	if !slices.Equal(outboxIDs(got), []string{a, b}) {
		t.Fatalf("at t0+1m claimed %v, want a, b", outboxIDs(got))
	}
	if string(got[0].Body) != `{"n":1}` || got[0].Kind != store.OutboxWebhook || got[0].URL == "" {
		t.Errorf("claimed item = %+v", got[0])
	}
	if got := claimOutbox(t, s, t0.Add(time.Hour), time.Hour, 1); !slices.Equal(outboxIDs(got), []string{c}) {
		t.Fatalf("at t0+1h claimed %v, want c (a and b are leased)", outboxIDs(got))
	}
}

// testOutboxLease: a claim moves NextAt to now+lease, so the item is not
// claimed again until then (an item whose worker died is retried);
// UpdateOutbox moves it after a failed try.
func testOutboxLease(t *testing.T, h Harness) {
	s := h.Open(t)
	it := items(t, s, t0)[0]
	lease := 5 * time.Minute
	if got := claimOutbox(t, s, t0, lease, 10); len(got) != 1 || !got[0].NextAt.Equal(t0.Add(lease)) {
		t.Fatalf("claim = %+v, want the item with NextAt t0+5m", got)
	}
	if stored, err := s.GetOutbox(ctx(t), it.ID); err != nil || !stored.NextAt.Equal(t0.Add(lease)) {
		t.Fatalf("stored NextAt = %v %v, want t0+5m", stored.NextAt, err)
	}
	if at, _, _ := s.NextOutboxAt(ctx(t)); !at.Equal(t0.Add(lease)) {
		t.Errorf("NextOutboxAt = %v, want the lease's end", at)
	}
	if got := claimOutbox(t, s, t0.Add(lease-time.Second), lease, 10); len(got) != 0 {
		t.Fatalf("claimed again during the lease: %v", outboxIDs(got))
	}
	got := claimOutbox(t, s, t0.Add(lease), lease, 10)
	if len(got) != 1 {
		t.Fatalf("after the lease: %d items, want the item again", len(got))
	}
	retry := got[0]
	retry.Attempts, retry.NextAt, retry.LastError, retry.UpdatedAt = 1, t0.Add(time.Hour), "receiver answered 500", t0.Add(lease)
	must(t, s.UpdateOutbox(ctx(t), retry))
	if got := claimOutbox(t, s, t0.Add(30*time.Minute), lease, 10); len(got) != 0 {
		t.Fatalf("claimed before the retry time: %v", outboxIDs(got))
	}
	got = claimOutbox(t, s, t0.Add(time.Hour), lease, 10)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "receiver answered 500" {
		t.Fatalf("at the retry time: %+v", got)
	}
	if p, d, err := s.OutboxDepth(ctx(t)); err != nil || p != 1 || d != 0 {
		t.Errorf("depth = %d pending, %d dead, %v; want 1, 0", p, d, err)
	}
}

// testClaimOutboxOnce: deliverers claiming at once (on one handle or on
// two processes) take each item exactly once.
func testClaimOutboxOnce(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	hs := handles(t, h, s, peers, 8)
	var at []time.Time
	for i := range 150 {
		at = append(at, t0.Add(time.Duration(i%7)*time.Second))
	}
	want := outboxIDs(items(t, s, at...))
	var mu sync.Mutex
	count := map[string]int{}
	parallel(t, hs, func(_ int, s store.Store) error {
		for range len(want) + 1 {
			got, err := s.ClaimOutbox(t.Context(), t0.Add(time.Minute), time.Hour, 5)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, it := range got {
				count[it.ID]++
			}
			mu.Unlock()
		}
		return errNeverEmpty
	})
	exactlyOnce(t, "outbox item", want, count)
}

// testOutboxDead: a dead letter is kept but never claimed, counted apart,
// listed, and RetryOutbox brings it back due at once.
func testOutboxDead(t *testing.T, h Harness) {
	s := h.Open(t)
	it := items(t, s, t0, t0)
	a, b := it[0], it[1]
	a.Dead, a.Attempts, a.LastError, a.UpdatedAt = true, 12, "receiver answered 503", t0
	must(t, s.UpdateOutbox(ctx(t), a))
	if got := claimOutbox(t, s, t0.Add(time.Hour), time.Minute, 10); !slices.Equal(outboxIDs(got), []string{b.ID}) {
		t.Fatalf("claimed %v, want b only: a dead letter is not delivered", outboxIDs(got))
	}
	if p, d, err := s.OutboxDepth(ctx(t)); p != 1 || d != 1 || err != nil {
		t.Fatalf("depth = %d pending, %d dead, %v; want 1, 1", p, d, err)
	}
	yes, no := true, false
	dead, next, err := s.ListOutbox(ctx(t), store.OutboxFilter{Dead: &yes})
	if err != nil || !slices.Equal(outboxIDs(dead), []string{a.ID}) || next != "" || dead[0].LastError != "receiver answered 503" || dead[0].Attempts != 12 {
		t.Fatalf("ListOutbox(dead) = %+v %q %v", dead, next, err)
	}
	if live, _, _ := s.ListOutbox(ctx(t), store.OutboxFilter{Dead: &no}); !slices.Equal(outboxIDs(live), []string{b.ID}) {
		t.Errorf("ListOutbox(pending) = %v", outboxIDs(live))
	}
	must(t, s.RetryOutbox(ctx(t), a.ID, t0.Add(2*time.Hour)))
	if got, _ := s.GetOutbox(ctx(t), a.ID); got.Dead || got.Attempts != 0 || !got.NextAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("after retry: %+v, want pending, no attempts, due at the retry", got)
	}
	if got := claimOutbox(t, s, t0.Add(2*time.Hour), time.Minute, 10); !slices.Equal(outboxIDs(got), []string{b.ID, a.ID}) {
		t.Errorf("after retry claimed %v, want b and a", outboxIDs(got))
	}
	if p, d, _ := s.OutboxDepth(ctx(t)); p != 2 || d != 0 {
		t.Errorf("depth after retry = %d, %d", p, d)
	}
	missing := s.NewID(t0)
	if err := s.RetryOutbox(ctx(t), missing, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RetryOutbox(missing) = %v, want ErrNotFound", err)
	}
	gone := hook(s, "", t0)
	if err := s.UpdateOutbox(ctx(t), gone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOutbox(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetOutbox(ctx(t), gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOutbox of a missing item created it: %v", err)
	}
}

// testOutboxDelete: deleting is idempotent (deliveries are at least once).
func testOutboxDelete(t *testing.T, h Harness) {
	s := h.Open(t)
	it := items(t, s, t0)[0]
	for range 2 {
		must(t, s.DeleteOutbox(ctx(t), it.ID))
	}
	if got := claimOutbox(t, s, t0.Add(time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("a deleted item was claimed: %v", outboxIDs(got))
	}
	if _, err := s.GetOutbox(ctx(t), it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOutbox(deleted) = %v, want ErrNotFound", err)
	}
	if _, ok, _ := s.NextOutboxAt(ctx(t)); ok {
		t.Error("NextOutboxAt reports an item in an empty outbox")
	}
	if p, d, _ := s.OutboxDepth(ctx(t)); p != 0 || d != 0 {
		t.Errorf("depth = %d, %d, want 0, 0", p, d)
	}
}

// testOutboxList: oldest first by id, filtered by kind and call, in pages
// that chain without gaps or repeats.
func testOutboxList(t *testing.T, h Harness) {
	s := h.Open(t)
	var all []store.OutboxItem
	for i := range 7 {
		it := hook(s, fmt.Sprintf("call%d", i%3), t0)
		if i%2 == 1 {
			it.Kind, it.URL, it.Integration = store.OutboxWriteback, "", "hubspot"
		}
		all = append(all, it)
	}
	must(t, s.EnqueueOutbox(ctx(t), all...))
	pick := func(keep func(i int) bool) []string {
		var ids []string
		for i, it := range all {
			if keep(i) {
				ids = append(ids, it.ID)
			}
		}
		return ids
	}
	for _, tt := range []struct {
		name string
		f    store.OutboxFilter
		want []string
	}{
		{"all", store.OutboxFilter{}, pick(func(int) bool { return true })},
		{"writebacks", store.OutboxFilter{Kind: store.OutboxWriteback}, pick(func(i int) bool { return i%2 == 1 })},
		{"one call", store.OutboxFilter{CallID: "call1"}, pick(func(i int) bool { return i%3 == 1 })},
		{"kind and call", store.OutboxFilter{Kind: store.OutboxWebhook, CallID: "call0"}, pick(func(i int) bool { return i%3 == 0 && i%2 == 0 })},
	} {
		for _, limit := range []int{1, 3, 100} {
			f := tt.f
			f.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("%s: pagination does not end", tt.name)
				}
				page, next, err := s.ListOutbox(ctx(t), f)
				must(t, err)
				if len(page) > limit {
					t.Fatalf("%s: page of %d > limit %d", tt.name, len(page), limit)
				}
				got = append(got, outboxIDs(page)...)
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
	if wb, _, _ := s.ListOutbox(ctx(t), store.OutboxFilter{Kind: store.OutboxWriteback, Limit: 1}); len(wb) != 1 || wb[0].Integration != "hubspot" || wb[0].CallID != "call1" {
		t.Errorf("a write-back as listed: %+v", wb)
	}
}

// testOutboxAtomic: one bad item fails the whole enqueue.
func testOutboxAtomic(t *testing.T, h Harness) {
	s := h.Open(t)
	good, bad := hook(s, "", t0), hook(s, "", t0)
	bad.Kind = "sms"
	if err := s.EnqueueOutbox(ctx(t), good, bad); err == nil {
		t.Fatal("an item of unknown kind was accepted")
	}
	if all, _, _ := s.ListOutbox(ctx(t), store.OutboxFilter{}); len(all) != 0 {
		t.Errorf("half a batch committed: %v", outboxIDs(all))
	}
}

// testOutboxFills: an item without an id gets one; CreatedAt defaults to
// NextAt and UpdatedAt to CreatedAt.
func testOutboxFills(t *testing.T, h Harness) {
	s := h.Open(t)
	a, b := hook(s, "", t0), hook(s, "", t0)
	a.ID, b.ID = "", ""
	must(t, s.EnqueueOutbox(ctx(t), a, b))
	got, _, err := s.ListOutbox(ctx(t), store.OutboxFilter{})
	must(t, err)
	if len(got) != 2 || got[0].ID == "" || got[0].ID == got[1].ID {
		t.Fatalf("items = %+v, want two with distinct ids", got)
	}
	for _, it := range got {
		if !it.CreatedAt.Equal(t0) || !it.UpdatedAt.Equal(t0) || !it.NextAt.Equal(t0) {
			t.Errorf("item %s created %v updated %v next %v, want t0", it.ID, it.CreatedAt, it.UpdatedAt, it.NextAt)
		}
	}
}
