package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func openInbox(t testing.TB, dir string, now func() time.Time) (*Store, *Store) {
	t.Helper()
	db, err := Open(Options{Dir: dir, DedupeTTL: 72 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, db
}

func ev(key string) store.Event {
	return store.Event{Key: key, AgentID: "sales", Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		Kind: "created", ObjectType: "contact", ObjectID: "1"}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)} }

func TestAppendDedupesAndExpires(t *testing.T) {
	clk := newClock()
	_, in := openInbox(t, t.TempDir(), clk.Now)
	ctx := context.Background()
	ignored := ev("c")
	ignored.Status, ignored.Reason = store.EventIgnored, "record deleted"
	res, err := in.AppendEvents(ctx, []store.Event{ev("a"), ev("a"), ev("b"), ignored}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 1 || res.Ignored != 1 {
		t.Fatalf("accepted/dup/ignored = %d/%d/%d, want 2/1/1", res.Accepted, res.Duplicates, res.Ignored)
	}
	if !res.Duplicate[1] || res.Events[1].ID != res.Events[0].ID {
		t.Fatalf("second a should repeat the first: %+v", res.Events[:2])
	}
	if pending(t, in) != 2 {
		t.Fatalf("pending = %d, want 2", pending(t, in))
	}
	other := ev("a")
	other.AgentID = "support"
	for _, tc := range []struct {
		name    string
		advance time.Duration
		ev      store.Event
		dup     bool
	}{
		{"redelivery a day later", 24 * time.Hour, ev("a"), true},
		{"same key, other agent", 0, other, false},
		{"just before the ttl", 47*time.Hour + 59*time.Minute, ev("b"), true},
		{"after the ttl, lazily", 2 * time.Minute, ev("a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.advance)
			res, err := in.AppendEvents(ctx, []store.Event{tc.ev}, store.AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate[0] != tc.dup {
				t.Fatalf("duplicate = %v, want %v", res.Duplicate[0], tc.dup)
			}
		})
	}
	n, err := in.ExpireKeys(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // b and c expired; a was re-stored, support's a is fresh
		t.Fatalf("expired %d keys, want 2", n)
	}
	res, _ = in.AppendEvents(ctx, []store.Event{ev("b")}, store.AppendOptions{})
	if res.Duplicate[0] {
		t.Fatal("b should be forgotten after the sweep")
	}
	res, _ = in.AppendEvents(ctx, []store.Event{ev("a")}, store.AppendOptions{})
	if !res.Duplicate[0] {
		t.Fatal("the sweep must keep a key re-stored after its first expiry")
	}
}

func TestClaimLeaseSaveReplay(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	db, in := openInbox(t, dir, clk.Now)
	ctx := context.Background()
	later := ev("later")
	later.NotBefore = clk.Now().Add(time.Minute)
	if _, err := in.AppendEvents(ctx, []store.Event{ev("1"), ev("2"), later}, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := in.ClaimEvents(ctx, clk.Now(), 2*time.Minute, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim = %d events, %v; want 2", len(got), err)
	}
	if again, _ := in.ClaimEvents(ctx, clk.Now(), 2*time.Minute, 10); len(again) != 0 {
		t.Fatalf("leased events claimed again: %d", len(again))
	}
	clk.Add(time.Minute)
	if due, _ := in.ClaimEvents(ctx, clk.Now(), 2*time.Minute, 10); len(due) != 1 || due[0].Key != "later" {
		t.Fatalf("NotBefore event not due: %+v", due)
	}
	clk.Add(90 * time.Second) // first lease (2m) expired
	expired, _ := in.ClaimEvents(ctx, clk.Now(), 2*time.Minute, 10)
	if len(expired) != 2 {
		t.Fatalf("expired leases give %d events, want 2", len(expired))
	}
	done := expired[0]
	done.Status, done.Reason = store.EventSkipped, "record not found"
	retry := expired[1]
	retry.NotBefore, retry.Attempts = clk.Now().Add(10*time.Second), 1
	if err := in.SaveEvents(ctx, []store.Event{done, retry}); err != nil {
		t.Fatal(err)
	}
	if pending(t, in) != 2 {
		t.Fatalf("pending = %d, want 2", pending(t, in))
	}
	if err := in.SaveEvents(ctx, []store.Event{{ID: "nope", Status: store.EventFailed}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("save unknown = %v, want ErrNotFound", err)
	}
	clk.Add(10 * time.Second)
	if due, _ := in.ClaimEvents(ctx, clk.Now(), 2*time.Minute, 10); len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("saved retry should be due once released: %+v", due)
	}

	t.Run("replay", func(t *testing.T) {
		r, err := in.ReplayEvent(ctx, done.ID, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.EventPending || r.Reason != "" || len(r.History) != 1 {
			t.Fatalf("replayed = %+v", r)
		}
		if _, err := in.ReplayEvent(ctx, done.ID, clk.Now()); !errors.Is(err, store.ErrNotReplayable) {
			t.Fatalf("replaying a pending event = %v, want ErrNotReplayable", err)
		}
		if _, err := in.ReplayEvent(ctx, "missing", clk.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("replay missing = %v", err)
		}
	})

	t.Run("reopen releases leases and recounts", func(t *testing.T) {
		in.Close()
		db.Close()
		_, in2 := openInbox(t, dir, clk.Now)
		if pending(t, in2) != 3 {
			t.Fatalf("pending after reopen = %d, want 3", pending(t, in2))
		}
		got, _ := in2.ClaimEvents(ctx, clk.Now(), time.Minute, 10)
		if len(got) != 3 {
			t.Fatalf("after a restart every pending event is due at once, got %d", len(got))
		}
		res, _ := in2.AppendEvents(ctx, []store.Event{ev("1")}, store.AppendOptions{})
		if !res.Duplicate[0] {
			t.Fatal("dedupe keys must survive a restart")
		}
	})
}

func TestListEventsPages(t *testing.T) {
	clk := newClock()
	_, in := openInbox(t, t.TempDir(), clk.Now)
	var evs []store.Event
	for i := range 7 {
		e := ev(fmt.Sprint(i))
		if i%2 == 1 {
			e.AgentID = "support"
		}
		evs = append(evs, e)
	}
	if _, err := in.AppendEvents(context.Background(), evs, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	cursor := ""
	for {
		page, next, err := in.ListEvents(ctx, store.EventFilter{AgentID: "sales", Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			keys = append(keys, e.Key)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(keys) != "[6 4 2 0]" {
		t.Fatalf("sales events newest first = %v", keys)
	}
	if page, _, _ := in.ListEvents(ctx, store.EventFilter{Status: store.EventFailed}); len(page) != 0 {
		t.Fatalf("status filter matched %d", len(page))
	}
}

// TestGroupCommitConcurrent appends from many goroutines; run with -race.
// Every request gets its own result and every distinct key is stored once.
func TestGroupCommitConcurrent(t *testing.T) {
	_, in := openInbox(t, t.TempDir(), time.Now)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// every key is sent by two writers: one wins, one is a duplicate
				res, err := in.AppendEvents(context.Background(), []store.Event{ev(fmt.Sprintf("%d-%d", w/2, i))}, store.AppendOptions{})
				if err == nil && len(res.Events) != 1 {
					err = fmt.Errorf("result has %d events", len(res.Events))
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := pending(t, in), writers/2*each; got != want {
		t.Fatalf("pending = %d, want %d", got, want)
	}
	all, _, _ := in.ListEvents(ctx, store.EventFilter{Limit: 1000})
	if len(all) != writers/2*each {
		t.Fatalf("stored %d events, want %d", len(all), writers/2*each)
	}
}

func TestAppendAfterClose(t *testing.T) {
	_, in := openInbox(t, t.TempDir(), time.Now)
	in.Close()
	if _, err := in.AppendEvents(context.Background(), []store.Event{ev("x")}, store.AppendOptions{}); err == nil {
		t.Fatal("append after close should fail")
	}
}

// TestClaimByDueTime: claims come from the due index, so a backlog of
// events waiting for a retry neither hides due events nor is scanned.
func TestClaimByDueTime(t *testing.T) {
	clk := newClock()
	_, in := openInbox(t, t.TempDir(), clk.Now)
	var waiting []store.Event
	for i := range 300 {
		e := ev(fmt.Sprint("wait-", i))
		e.NotBefore = clk.Now().Add(time.Hour)
		waiting = append(waiting, e)
	}
	due := ev("due")
	if _, err := in.AppendEvents(context.Background(), append(waiting, due), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := in.ClaimEvents(ctx, clk.Now(), time.Minute, 1)
	if err != nil || len(got) != 1 || got[0].Key != "due" {
		t.Fatalf("claim = %+v, %v; want the one due event", got, err)
	}
	// Released with a shorter wait than the backlog, it is due first again.
	got[0].NotBefore = clk.Now().Add(time.Second)
	if err := in.SaveEvents(ctx, []store.Event{got[0]}); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second)
	if again, _ := in.ClaimEvents(ctx, clk.Now(), time.Minute, 5); len(again) != 1 || again[0].Key != "due" {
		t.Fatalf("after its retry wait: %d events", len(again))
	}
	clk.Add(time.Hour)
	if all, _ := in.ClaimEvents(ctx, clk.Now(), time.Minute, 1000); len(all) != 301 {
		t.Fatalf("an hour later %d events due, want the 300 waiting and the one whose lease ran out", len(all))
	}
}
