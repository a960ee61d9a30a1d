package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// Three replicas receive the same webhooks at once (a CRM retrying, a
// balancer spreading): each key is stored once, and every answer names
// the one stored event.
func TestAppendDedupesAcrossReplicas(t *testing.T) {
	rs := replicas(t, 3)
	ctx := context.Background()
	const keys, senders = 40, 12
	var mu sync.Mutex
	ids := map[string]map[string]bool{}
	accepted := 0
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprint("k", k)
				res, err := rs[i%len(rs)].AppendEvents(ctx, []store.Event{event(key)}, store.AppendOptions{Now: t0})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ids[key] == nil {
					ids[key] = map[string]bool{}
				}
				ids[key][res.Events[0].ID] = true
				accepted += res.Accepted
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != keys {
		t.Errorf("accepted %d events, want %d", accepted, keys)
	}
	for key, set := range ids {
		if len(set) != 1 {
			t.Errorf("key %s answered with %d event ids: %v", key, len(set), set)
		}
	}
	if n, err := rs[0].PendingEvents(ctx); err != nil || n != keys {
		t.Errorf("pending = %d, %v; want %d", n, err, keys)
	}
}

func TestAppendDedupeWindow(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	ignored := event("c")
	ignored.Status, ignored.Reason = store.EventIgnored, "record deleted"
	res, err := s.AppendEvents(ctx, []store.Event{event("a"), event("a"), event("b"), ignored}, store.AppendOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 1 || res.Ignored != 1 || !res.Duplicate[1] || res.Events[1].ID != res.Events[0].ID {
		t.Fatalf("accepted/dup/ignored = %d/%d/%d, events %+v", res.Accepted, res.Duplicates, res.Ignored, res.Events)
	}
	other := event("a")
	other.AgentID = "support"
	for _, tc := range []struct {
		name string
		at   time.Duration
		ev   store.Event
		dup  bool
	}{
		{"redelivery a day later", 24 * time.Hour, event("a"), true},
		{"same key, other agent", 24 * time.Hour, other, false},
		{"just before the ttl", 72*time.Hour - time.Minute, event("b"), true},
		{"at the ttl", 72 * time.Hour, event("a"), false},
		{"the new key holds", 73 * time.Hour, event("a"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.AppendEvents(ctx, []store.Event{tc.ev}, store.AppendOptions{Now: t0.Add(tc.at)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate[0] != tc.dup {
				t.Fatalf("duplicate = %v, want %v", res.Duplicate[0], tc.dup)
			}
			if tc.dup && res.Events[0].Status != store.EventPending {
				t.Fatalf("a duplicate carries the stored event: %+v", res.Events[0])
			}
		})
	}
	if n, err := s.ExpireKeys(ctx, t0.Add(100*time.Hour)); err != nil || n != 3 {
		t.Fatalf("ExpireKeys = %d, %v; want 3 (a of support, b, c; a's new key holds)", n, err)
	}
}

// Replicas claiming at once never get the same event.
func TestClaimOnceAcrossReplicas(t *testing.T) {
	rs := replicas(t, 3)
	ctx := context.Background()
	const n = 300
	evs := make([]store.Event, n)
	for i := range evs {
		evs[i] = event(fmt.Sprint("e", i))
	}
	if _, err := rs[0].AppendEvents(ctx, evs, store.AppendOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 9 {
		wg.Go(func() {
			for {
				got, err := rs[w%3].ClaimEvents(ctx, t0.Add(time.Second), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, ev := range got {
					seen[ev.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct events, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("event %s claimed %d times", id, k)
		}
	}
}

// A live replica's lease is never taken; once it expires (the replica is
// gone, or stuck) another replica takes the event back.
func TestLeaseOfAnotherReplica(t *testing.T) {
	rs := replicas(t, 2)
	a, b := rs[0], rs[1]
	ctx := context.Background()
	res, err := a.AppendEvents(ctx, []store.Event{event("x")}, store.AppendOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Events[0].ID
	if got, err := a.ClaimEvents(ctx, t0, 30*time.Second, 10); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("a claims: %v, %v", got, err)
	}
	for _, at := range []time.Duration{0, 29*time.Second + 999*time.Millisecond} {
		if got, err := b.ClaimEvents(ctx, t0.Add(at), time.Minute, 10); err != nil || len(got) != 0 {
			t.Fatalf("b claims at +%s, within a's lease: %v, %v", at, got, err)
		}
	}
	got, err := b.ClaimEvents(ctx, t0.Add(30*time.Second), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("b claims once a's lease ended: %v, %v", got, err)
	}
	if got, err := a.ClaimEvents(ctx, t0.Add(80*time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("a claims within b's lease: %v, %v", got, err)
	}
	if n, err := a.PendingEvents(ctx); err != nil || n != 1 {
		t.Fatalf("a leased event is still pending: %d, %v", n, err)
	}
}

func TestClaimOrderSaveAndReplay(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	later, sooner := event("later"), event("sooner")
	later.NotBefore, sooner.NotBefore = t0.Add(2*time.Minute), t0.Add(time.Minute)
	res, err := s.AppendEvents(ctx, []store.Event{later, sooner, event("now")}, store.AppendOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if got := claimKeys(t, s, t0.Add(time.Minute-time.Nanosecond)); !slices.Equal(got, []string{"now"}) {
		t.Fatalf("due a nanosecond before sooner: %v", got)
	}
	if got := claimKeys(t, s, t0.Add(3*time.Minute)); !slices.Equal(got, []string{"sooner", "later"}) {
		t.Fatalf("claim order: %v, want by due time", got)
	}
	// The worker settles them: one done, one back in a minute.
	done, retry := res.Events[1], res.Events[0]
	done.Status, done.Reason = store.EventFailed, "token rejected (401)"
	retry.Attempts, retry.NotBefore = 1, t0.Add(10*time.Minute)
	if err := s.SaveEvents(ctx, []store.Event{done, retry}); err != nil {
		t.Fatal(err)
	}
	if got := claimKeys(t, s, t0.Add(10*time.Minute-time.Microsecond)); len(got) != 0 {
		t.Fatalf("saved with NotBefore: claimed early: %v", got)
	}
	if got := claimKeys(t, s, t0.Add(10*time.Minute)); !slices.Equal(got, []string{"later"}) {
		t.Fatalf("saved with NotBefore: %v", got)
	}
	if err := s.SaveEvents(ctx, []store.Event{{ID: "01NOPE"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("save of an unknown id: %v", err)
	}
	got, err := s.GetEvent(ctx, done.ID)
	if err != nil || got.Status != store.EventFailed || got.Reason != done.Reason {
		t.Fatalf("GetEvent: %+v, %v", got, err)
	}
	if !got.ReceivedAt.Equal(t0) {
		t.Fatalf("ReceivedAt %v, want %v to the nanosecond", got.ReceivedAt, t0)
	}
	replayed, err := s.ReplayEvent(ctx, done.ID, t0.Add(time.Hour))
	if err != nil || replayed.Status != store.EventPending || len(replayed.History) != 1 {
		t.Fatalf("replay: %+v, %v", replayed, err)
	}
	if _, err := s.ReplayEvent(ctx, done.ID, t0.Add(time.Hour)); !errors.Is(err, store.ErrNotReplayable) {
		t.Fatalf("replay of a pending event: %v", err)
	}
	if _, err := s.GetEvent(ctx, "01NOPE"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEvent of an unknown id: %v", err)
	}
}

func claimKeys(t *testing.T, s store.Events, now time.Time) []string {
	t.Helper()
	evs, err := s.ClaimEvents(context.Background(), now, time.Hour, 100)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, ev := range evs {
		keys = append(keys, ev.Key)
	}
	return keys
}
