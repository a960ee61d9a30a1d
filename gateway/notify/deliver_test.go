package notify_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

func enqueue(t *testing.T, e env, items []store.OutboxItem) {
	t.Helper()
	if err := e.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
}

func only(t *testing.T, e env) store.OutboxItem {
	t.Helper()
	items, _, err := e.db.ListOutbox(context.Background(), store.OutboxFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %+v, %v; want one item", items, err)
	}
	return items[0]
}

func TestRetryWithBackoffThenDeliver(t *testing.T) {
	rcv := newReceiver(t, 500, 503)
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{rcv.URL + "/hook?token=abc123"} })
	c, a := ended(store.CallRetryScheduled)
	enqueue(t, e, e.n.Items(c, a, false))
	ctx := context.Background()

	e.n.DeliverDue(ctx) // 500
	it := only(t, e)
	wait := it.NextAt.Sub(t0)
	if it.Attempts != 1 || wait < 30*time.Second || wait > time.Minute || !strings.Contains(it.LastError, "500") {
		t.Fatalf("after 1st failure: attempts %d, wait %s, error %q", it.Attempts, wait, it.LastError)
	}
	if strings.Contains(it.LastError, "abc123") {
		t.Errorf("last error leaks the URL's token: %q", it.LastError)
	}
	// Not due yet: nothing is sent.
	e.clk.Add(wait - time.Second)
	if n, _ := e.n.DeliverDue(ctx); n != 0 {
		t.Fatalf("sent %d items before they were due", n)
	}
	e.clk.Add(time.Second)
	e.n.DeliverDue(ctx) // 503
	it = only(t, e)
	wait = it.NextAt.Sub(e.clk.Now())
	if it.Attempts != 2 || wait < time.Minute || wait > 2*time.Minute {
		t.Fatalf("after 2nd failure: attempts %d, wait %s (want 1m–2m)", it.Attempts, wait)
	}
	e.clk.Add(wait)
	e.n.DeliverDue(ctx) // 200
	if p, d, _ := e.db.OutboxDepth(ctx); p+d != 0 {
		t.Fatalf("delivered item kept: %d pending %d dead", p, d)
	}
	reqs, bodies := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d tries, want 3", len(reqs))
	}
	// Every try is the same delivery: same body, signature, delivery id.
	for i := range reqs {
		if string(bodies[i]) != string(bodies[0]) || reqs[i].Header.Get(notify.DeliveryHeader) != reqs[0].Header.Get(notify.DeliveryHeader) ||
			!verify(bodies[i], reqs[i].Header.Get(notify.SignatureHeader)) {
			t.Errorf("try %d differs or is badly signed", i+1)
		}
	}
	if counter(t, e.reg, "webhook", "retry") != 2 || counter(t, e.reg, "webhook", "delivered") != 1 {
		t.Error("metrics do not count 2 retries and 1 delivery")
	}
}

func TestBackoffIsCapped(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{rcv.URL}
		c.MaxAttempts = 10
	})
	c, a := ended(store.CallRetryScheduled)
	enqueue(t, e, e.n.Items(c, a, false))
	for i := 1; i <= 8; i++ {
		e.n.DeliverDue(context.Background())
		it := only(t, e)
		wait := it.NextAt.Sub(e.clk.Now())
		if wait > time.Hour || wait < time.Minute/2 {
			t.Fatalf("try %d: wait %s outside [30s, 1h]", i, wait)
		}
		if i >= 8 && wait < 30*time.Minute {
			t.Fatalf("try %d: wait %s, want the capped hour with jitter (≥30m)", i, wait)
		}
		e.clk.Add(wait)
	}
}

func TestDeadLetter(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 500, 500)
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{rcv.URL} })
	c, a := ended(store.CallFailed)
	enqueue(t, e, e.n.Items(c, a, true))
	for range 6 {
		e.n.DeliverDue(context.Background())
		e.clk.Add(2 * time.Hour)
	}
	it := only(t, e)
	if !it.Dead || it.Attempts != 4 || !strings.Contains(it.LastError, "500") {
		t.Fatalf("item = %+v, want dead after 4 tries with the last error", it)
	}
	if reqs, _ := rcv.requests(); len(reqs) != 4 {
		t.Fatalf("receiver got %d tries, want 4 (MaxAttempts)", len(reqs))
	}
	if p, d, _ := e.db.OutboxDepth(context.Background()); p != 0 || d != 1 {
		t.Fatalf("depth = %d pending %d dead", p, d)
	}
	if counter(t, e.reg, "webhook", "dead") != 1 {
		t.Error("dead letter not counted")
	}
	// An operator retries it once the receiver is fixed.
	if err := e.db.RetryOutbox(context.Background(), it.ID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.n.DeliverDue(context.Background())
	if p, d, _ := e.db.OutboxDepth(context.Background()); p+d != 0 {
		t.Fatalf("retried dead letter not delivered: %d pending %d dead", p, d)
	}
}

func TestUnreachableReceiverIsRetried(t *testing.T) {
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{"http://127.0.0.1:1/hook"} })
	c, a := ended(store.CallRetryScheduled)
	enqueue(t, e, e.n.Items(c, a, false))
	e.n.DeliverDue(context.Background())
	it := only(t, e)
	if it.Dead || it.Attempts != 1 || !strings.Contains(it.LastError, "127.0.0.1:1") {
		t.Fatalf("item = %+v", it)
	}
}

// crm is a fake CRM plugin client.
type crm struct {
	mu   sync.Mutex
	errs []error
	reqs []sdk.UpdateRequest
}

func (c *crm) UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, req)
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		return err
	}
	return nil
}

func TestWriteback(t *testing.T) {
	tests := []struct {
		name     string
		errs     []error
		missing  bool // integration not configured
		tries    int
		dead     bool
		minWait  time.Duration
		errMatch string
	}{
		{name: "ok", tries: 1},
		{name: "auth is not retried", errs: []error{sdk.Auth("hubspot: token rejected (401)")}, tries: 1, dead: true, errMatch: "credentials"},
		{name: "record gone", errs: []error{sdk.NotFound("contact 123")}, tries: 1, dead: true, errMatch: "not_found"},
		{name: "transient, then ok", errs: []error{sdk.Transient("plugin restarting")}, tries: 2},
		{name: "rate limited waits as asked", errs: []error{sdk.RateLimited(3*time.Hour, "slow down")}, tries: 2, minWait: 3 * time.Hour},
		{name: "integration missing", missing: true, tries: 0, errMatch: "not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &crm{errs: tt.errs}
			e := setup(t, func(c *notify.Config) {
				c.Writeback = func(string) bool { return true }
				c.CRM = func(name string) (notify.CRMUpdater, sdk.Credentials, bool) {
					if tt.missing || name != "hubspot" {
						return nil, nil, false
					}
					return fake, sdk.Credentials{"access_token": "pat-xyz"}, true
				}
			})
			c, a := ended(store.CallFailed)
			c.Source.ObjectType = "contact"
			enqueue(t, e, e.n.Items(c, a, true))
			e.n.DeliverDue(context.Background())
			if p, d, _ := e.db.OutboxDepth(context.Background()); p+d == 1 {
				it := only(t, e)
				if it.Dead != tt.dead || !strings.Contains(it.LastError, tt.errMatch) || it.NextAt.Sub(e.clk.Now()) < tt.minWait {
					t.Fatalf("item = %+v", it)
				}
				if strings.Contains(it.LastError, "pat-xyz") {
					t.Fatal("last error leaks credentials")
				}
				if !it.Dead {
					e.clk.Add(it.NextAt.Sub(e.clk.Now()))
					e.n.DeliverDue(context.Background())
				}
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if len(fake.reqs) != tt.tries {
				t.Fatalf("UpdateRecord called %d times, want %d", len(fake.reqs), tt.tries)
			}
			if tt.tries == 0 {
				return
			}
			r := fake.reqs[0]
			if r.ObjectType != "contact" || r.ObjectID != "123" || r.Credentials["access_token"] != "pat-xyz" {
				t.Errorf("request = %+v", r)
			}
			f := r.Fields
			if f[notify.FieldStatus].String != "failed" || f[notify.FieldReason].String != "no answer after 2 attempts" ||
				!f[notify.FieldAt].Time.Equal(t0.Add(-time.Minute)) || f[notify.FieldCallID].String != "01JDCALL" {
				t.Errorf("fields = %+v", f)
			}
		})
	}
}

func TestRunDeliversOnWake(t *testing.T) {
	rcv := newReceiver(t)
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{rcv.URL}
		c.Clock = time.Now
		c.MaxIdle = time.Hour // only Wake can start the pass in time
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	c, a := ended(store.CallRetryScheduled)
	for i := range 3 {
		items := e.n.Items(c, a, false)
		items[0].NextAt = time.Now()
		enqueue(t, e, items)
		e.n.Wake()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if reqs, _ := rcv.requests(); len(reqs) == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("item %d not delivered after Wake", i+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if reqs, _ := rcv.requests(); len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want exactly 3 (no duplicates)", len(reqs))
	}
}

func TestRunSleepsUntilNextDue(t *testing.T) {
	rcv := newReceiver(t)
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{rcv.URL}
		c.Clock = time.Now
		c.MaxIdle = time.Hour
	})
	c, a := ended(store.CallRetryScheduled)
	items := e.n.Items(c, a, false)
	items[0].NextAt = time.Now().Add(150 * time.Millisecond)
	enqueue(t, e, items)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.n.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqs, _ := rcv.requests()
		if len(reqs) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a later item was never delivered: Run did not wake for it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShutdownLeavesItemsDue(t *testing.T) {
	rcv := newReceiver(t)
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{rcv.URL} })
	c, a := ended(store.CallRetryScheduled)
	enqueue(t, e, e.n.Items(c, a, false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.n.DeliverDue(ctx)
	it := only(t, e)
	if it.Attempts != 0 || it.Dead {
		t.Fatalf("a try interrupted by shutdown was counted: %+v", it)
	}
}
