package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
)

// TestPassesNeverShareAnItem: two deliverers on one store (as two
// replicas on a shared one would be) run their passes at once; each item
// is claimed by one of them, so each is delivered once.
func TestPassesNeverShareAnItem(t *testing.T) {
	rcv := newReceiver(t)
	urls := []string{rcv.URL + "/hook"}
	e := setup(t, func(c *notify.Config) { c.ServerURLs, c.Batch, c.Workers = urls, 7, 2 })
	other, err := notify.New(notify.Config{Store: e.db, Secret: secret, Clock: e.clk.Now, Logger: hclog.NewNullLogger(),
		ServerURLs: urls, Batch: 5, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var items []store.OutboxItem
	for i := range 40 {
		c, a := ended(store.CallRetryScheduled)
		c.ID = fmt.Sprintf("01JDCALL%02d", i)
		items = append(items, e.n.Items(c, a, false)...)
	}
	if err := e.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, n := range []*notify.Notifier{e.n, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				done, err := n.DeliverDue(context.Background())
				if err != nil {
					t.Error(err)
				}
				if done == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	_, bodies := rcv.requests()
	seen := map[string]int{}
	for _, b := range bodies {
		seen[string(b)]++
	}
	if len(bodies) != 40 || len(seen) != 40 {
		t.Fatalf("%d deliveries of %d items, want each of 40 once", len(bodies), len(seen))
	}
	if p, d, _ := e.db.OutboxDepth(context.Background()); p != 0 || d != 0 {
		t.Errorf("outbox depth %d pending, %d dead after delivery", p, d)
	}
}

// TestShutdownHandsTheClaimBack: an item whose delivery a shutdown cut
// short is due again at once, not when its claim's lease ends.
func TestShutdownHandsTheClaimBack(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select { // answers when the client gives up, or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // runs first
	e := setup(t, func(c *notify.Config) { c.Lease, c.ServerURLs = time.Hour, []string{hung.URL + "/hook"} })
	c, a := ended(store.CallRetryScheduled)
	items := e.n.Items(c, a, false)
	if err := e.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _, _ = e.n.DeliverDue(ctx) }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the delivery did not start")
	}
	cancel()
	<-done
	it, err := e.db.GetOutbox(context.Background(), items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !it.NextAt.Equal(t0) || it.Attempts != 0 || it.Dead {
		t.Fatalf("after the shutdown: next %s, %d attempts, dead %v; want due at once, untried", it.NextAt, it.Attempts, it.Dead)
	}
}
