package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func item(i int, next time.Time) store.OutboxItem {
	return store.OutboxItem{Kind: store.OutboxWebhook, URL: "https://ops.example.com/hook", Body: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		Headers: map[string]string{"X-N": fmt.Sprint(i)}, CallID: fmt.Sprint("call", i%3), Event: "call_ended", NextAt: next}
}

// Deliverers on three replicas claim at once: each item goes to one.
func TestClaimOutboxOnceAcrossReplicas(t *testing.T) {
	rs := replicas(t, 3)
	ctx := context.Background()
	items := make([]store.OutboxItem, 120)
	for i := range items {
		items[i] = item(i, t0)
	}
	if err := rs[0].EnqueueOutbox(ctx, items...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for {
				got, err := rs[w%3].ClaimOutbox(ctx, t0, time.Minute, 5)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					seen[it.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(items) {
		t.Fatalf("claimed %d items, want %d", len(seen), len(items))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %s claimed %d times", id, n)
		}
	}
	// The claim moved every item to now+lease: due again then, not before.
	next, ok, err := rs[1].NextOutboxAt(ctx)
	if err != nil || !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextOutboxAt = %v %v %v, want %v", next, ok, err, t0.Add(time.Minute))
	}
	if got, _ := rs[1].ClaimOutbox(ctx, t0.Add(time.Minute-time.Nanosecond), time.Minute, 500); len(got) != 0 {
		t.Fatalf("claimed %d items within the lease", len(got))
	}
	if got, _ := rs[1].ClaimOutbox(ctx, t0.Add(time.Minute), time.Minute, 500); len(got) != len(items) {
		t.Fatalf("claimed %d items after the lease, want all", len(got))
	}
}

func TestOutboxLifecycle(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	a, b := item(1, t0.Add(time.Second)), item(2, t0)
	if err := s.EnqueueOutbox(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimOutbox(ctx, t0.Add(time.Second), time.Minute, 10)
	if err != nil || len(got) != 2 || string(got[0].Body) != `{"n":2}` || got[1].Headers["X-N"] != "1" {
		t.Fatalf("claim, earliest first: %+v, %v", got, err)
	}
	// The first delivery fails for good; the second succeeds.
	dead := got[0]
	dead.Attempts, dead.Dead, dead.LastError = 8, true, "410 Gone"
	if err := s.UpdateOutbox(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOutbox(ctx, got[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOutbox(ctx, got[1].ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := s.UpdateOutbox(ctx, got[1]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("updating a deleted item: %v", err)
	}
	if p, d, err := s.OutboxDepth(ctx); err != nil || p != 0 || d != 1 {
		t.Fatalf("depth = %d pending %d dead, %v", p, d, err)
	}
	if _, ok, _ := s.NextOutboxAt(ctx); ok {
		t.Fatal("a dead letter is not due")
	}
	if err := s.RetryOutbox(ctx, dead.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	back, err := s.GetOutbox(ctx, dead.ID)
	if err != nil || back.Dead || back.Attempts != 0 || !back.NextAt.Equal(t0.Add(time.Hour)) || back.LastError != "410 Gone" {
		t.Fatalf("retried: %+v, %v", back, err)
	}
	if err := s.RetryOutbox(ctx, "01NOPE", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying an unknown item: %v", err)
	}
	if err := s.EnqueueOutbox(ctx, store.OutboxItem{Kind: "carrier-pigeon"}); err == nil {
		t.Fatal("an unknown kind was stored")
	}
}

func TestListOutboxPages(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	var items []store.OutboxItem
	for i := range 7 {
		it := item(i, t0)
		it.ID = fmt.Sprintf("01ITEM%02d", i)
		it.Dead = i%2 == 0
		items = append(items, it)
	}
	if err := s.EnqueueOutbox(ctx, items...); err != nil {
		t.Fatal(err)
	}
	yes := true
	for _, tc := range []struct {
		name string
		f    store.OutboxFilter
		want int
	}{
		{"all", store.OutboxFilter{}, 7},
		{"dead letters", store.OutboxFilter{Dead: &yes}, 4},
		{"one call", store.OutboxFilter{CallID: "call1"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, last := tc.f, 0, ""
			f.Limit = 2
			for {
				page, next, err := s.ListOutbox(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page {
					if it.ID <= last {
						t.Fatalf("%s after %s: not oldest first", it.ID, last)
					}
					last = it.ID
				}
				n += len(page)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if n != tc.want {
				t.Fatalf("listed %d, want %d", n, tc.want)
			}
		})
	}
}

func TestDNDAcrossReplicas(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	const n = "+14155550100"
	if err := rs[0].AddDND(ctx, n, "asked on the phone", t0); err != nil {
		t.Fatal(err)
	}
	if err := rs[1].AddDND(ctx, n, "asked again by email", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := rs[1].AddDND(ctx, "+14155550099", "", t0); err != nil {
		t.Fatal(err)
	}
	list, err := rs[0].ListDND(ctx)
	if err != nil || len(list) != 2 || list[1].Number != n {
		t.Fatalf("ListDND = %+v, %v", list, err)
	}
	if e := list[1]; e.Note != "asked again by email" || !e.AddedAt.Equal(t0) {
		t.Fatalf("re-adding keeps the first AddedAt and takes the new note: %+v", e)
	}
	if on, err := rs[1].IsDND(ctx, n); err != nil || !on {
		t.Fatalf("IsDND = %v, %v", on, err)
	}
	if err := rs[1].RemoveDND(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := rs[0].RemoveDND(ctx, n); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	if on, err := rs[0].IsDND(ctx, n); err != nil || on {
		t.Fatalf("IsDND after removal = %v, %v", on, err)
	}
	if err := rs[0].AddDND(ctx, "", "", t0); err == nil {
		t.Fatal("an empty number was listed")
	}
}
