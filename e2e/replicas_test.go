package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// burst is a set of HubSpot contacts, each to be created by one webhook,
// sent from several goroutines over whichever gateways are up, retried as
// HubSpot retries (same event, next attemptNumber) until a 200.
type burst struct {
	t        *testing.T
	hs       *hubspottest.Server
	platform *dialertest.Platform
	numbers  map[string]int64
	ids      []int64
	occurred time.Time
	acked    atomic.Int64
	statuses sync.Map // status code → *atomic.Int64
}

func newBurst(t *testing.T, first int64, n int) *burst {
	b := &burst{t: t, numbers: map[string]int64{}, occurred: time.Now().Add(-time.Second)}
	b.hs = hubspottest.New(hubspottest.Options{RateMax: 100000})
	t.Cleanup(b.hs.Close)
	b.platform = dialertest.New(t, dialertest.HTTP, "")
	b.platform.AnswerSync("completed")
	for i := range n {
		id := first + int64(i)
		number := fmt.Sprintf("+91987%07d", id)
		b.numbers[number] = id
		b.ids = append(b.ids, id)
		b.hs.AddContact(fmt.Sprint(id), map[string]any{"firstname": fmt.Sprint("P", id), "mobilephone": number})
	}
	return b
}

// send delivers every contact's webhook from senders goroutines; the
// gateway for try k of a contact is targets()[k mod len], so a dead
// replica's share moves to the others. It returns when all are acked.
func (b *burst) send(senders int, targets func() []*gateway) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(b.ids) {
					return
				}
				id := b.ids[i]
				for attempt := 0; ; attempt++ {
					if attempt > 3000 {
						b.t.Errorf("contact %d: no 200 after %d tries", id, attempt)
						return
					}
					gs := targets()
					code := trySend(client, gs[(i+attempt)%len(gs)].URL, creation(id, b.occurred, attempt))
					c, _ := b.statuses.LoadOrStore(code, new(atomic.Int64))
					c.(*atomic.Int64).Add(1)
					if code == http.StatusOK {
						b.acked.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

func (b *burst) count(code int) int64 {
	if c, ok := b.statuses.Load(code); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// checkCalledOnce waits until every contact was dialed, then checks each
// exactly once (by number and by Idempotency-Key) and every event ended
// "called", as seen from g.
func (b *burst) checkCalledOnce(g *gateway, within time.Duration) {
	t := b.t
	t.Helper()
	deadline := time.Now().Add(within)
	for len(b.platform.Placed()) < len(b.numbers) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s %d of %d contacts called; calls: %v", within, len(b.platform.Placed()), len(b.numbers), callStatuses(t, g))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An event the killed replica had claimed but not saved waits for a
	// live replica to take it back (its heartbeat stops; 15 s).
	for len(pendingEvents(t, g)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after %s events still pending: %v", within, pendingEvents(t, g))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a doubled dial to show up
	keys := map[string]int{}
	for _, d := range b.platform.Dials() {
		if d.Placed {
			keys[d.Key]++
		}
	}
	for number, n := range b.platform.Placed() {
		if _, ok := b.numbers[number]; !ok || n != 1 {
			t.Errorf("%s dialed %d times, want once", number, n)
		}
	}
	if len(keys) != len(b.numbers) {
		t.Errorf("%d distinct Idempotency-Keys placed for %d contacts", len(keys), len(b.numbers))
	}
	var page struct {
		Events []store.Event `json:"events"`
	}
	adminJSON(t, g, "/api/v1/events?limit=1000", &page)
	calls := map[string]bool{}
	for _, ev := range page.Events {
		if ev.Status != store.EventCalled {
			t.Errorf("event %s for contact %s: %s %q", ev.ID, ev.ObjectID, ev.Status, ev.Reason)
		}
		calls[ev.CallID] = true
	}
	if len(page.Events) != len(b.numbers) || len(calls) != len(b.numbers) {
		t.Errorf("%d events and %d calls for %d contacts", len(page.Events), len(calls), len(b.numbers))
	}
}

// pendingEvents lists the ids of the events not yet terminal.
func pendingEvents(t *testing.T, g *gateway) []string {
	var page struct {
		Events []store.Event `json:"events"`
	}
	adminJSON(t, g, "/api/v1/events?status=pending&limit=1000", &page)
	var ids []string
	for _, ev := range page.Events {
		ids = append(ids, ev.ID)
	}
	return ids
}

// callStatuses counts the calls by status and reason (ids cut out).
func callStatuses(t *testing.T, g *gateway) map[string]int {
	var page struct {
		Calls []store.Call `json:"calls"`
	}
	adminJSON(t, g, "/api/v1/calls?limit=500", &page)
	out := map[string]int{}
	for _, c := range page.Calls {
		out[c.Status+": "+store.AuditReasonKey(c.Reason)]++
	}
	return out
}

// notifyBatch is how many outbox items a notifier claims at once
// (notify.Config.Batch's default).
const notifyBatch = 100

// TestReplicasShareOneQueue runs three gateways on one PostgreSQL
// database, spreads a burst of webhooks over them, kills one with SIGKILL
// mid-burst and starts it again. Every acknowledged event must end
// "called", every contact be dialed exactly once, and every call's final
// notification be delivered once.
func TestReplicasShareOneQueue(t *testing.T) {
	db := pgtest.Empty(t) // unmigrated: the test runs `callgate migrate up`
	const contacts = 150
	b := newBurst(t, 40000, contacts)
	rcv := newReceiver(t)
	// Notifications without the CRM write-back: HubSpot's search limit
	// (five a second per account, which the fake keeps) would pace the
	// outbox, and the write-back's once-only rule has its own test.
	cfg := withStore(strings.Replace(notifyConfig(b.hs.URL, b.platform.URL, rcv.URL, rcv.URL+"/agent"), "writeback    = true", "", 1), db)

	// Two operators running migrate at once is safe.
	var mg sync.WaitGroup
	for range 2 {
		mg.Add(1)
		go func() { defer mg.Done(); migrateUp(t, cfg) }()
	}
	mg.Wait()

	var mu sync.Mutex
	replicas := []*gateway{launch(t, gatewayOptions{Config: cfg}), launch(t, gatewayOptions{Config: cfg}), launch(t, gatewayOptions{Config: cfg})}
	targets := func() []*gateway {
		mu.Lock()
		defer mu.Unlock()
		return append([]*gateway(nil), replicas...)
	}
	done := make(chan struct{})
	go func() { defer close(done); b.send(8, targets) }()

	waitFor(t, 60*time.Second, "a third of the webhooks acknowledged", func() bool { return b.acked.Load() >= contacts/3 })
	mu.Lock()
	victim := replicas[1]
	replicas = []*gateway{replicas[0], replicas[2]}
	mu.Unlock()
	victim.Crash()
	t.Logf("SIGKILL one replica after %d acknowledged webhooks (%d dials placed)", b.acked.Load(), len(b.platform.Dials()))
	restarted := launch(t, gatewayOptions{Config: cfg})
	mu.Lock()
	replicas = append(replicas, restarted)
	mu.Unlock()
	<-done
	if t.Failed() {
		return
	}
	b.checkCalledOnce(restarted, 90*time.Second)

	// Each call's call_ended notification reached both URLs once (by the
	// outbox item id, which a redelivery repeats).
	waitFor(t, 60*time.Second, "every final notification delivered", func() bool {
		return len(rcv.finals()) >= 2*contacts
	})
	time.Sleep(500 * time.Millisecond)
	// Delivery is at least once: what the killed replica had sent but not
	// yet marked delivered goes again, with the same X-Callgate-Delivery,
	// which is how a receiver tells. Only those repeat, each once.
	deliveries := map[string]int{}
	for _, n := range rcv.finals() {
		deliveries[n.Header.Get(notify.DeliveryHeader)]++
	}
	again := 0
	for id, n := range deliveries {
		if n > 2 {
			t.Errorf("notification %s delivered %d times", id, n)
		}
		again += n - 1
	}
	if again > notifyBatch {
		t.Errorf("%d notifications delivered again, more than the one batch a killed replica can have in flight (%d)", again, notifyBatch)
	}
	t.Logf("%d notifications, %d delivered again after the kill (same X-Callgate-Delivery)", len(deliveries), again)
	if len(deliveries) != 2*contacts {
		t.Errorf("%d distinct final notifications for %d calls to two URLs", len(deliveries), contacts)
	}
}

// TestDatabaseOutage cuts the database off under load: ingest answers 503
// with Retry-After while it is gone, and once it is back nothing was lost
// or doubled.
func TestDatabaseOutage(t *testing.T) {
	db := pgtest.Empty(t)
	const contacts = 80
	b := newBurst(t, 50000, contacts)
	proxy, viaURL := viaProxy(t, db)
	cfg := withStore(webhookConfig(b.hs.URL, b.platform.URL), viaURL)
	migrateUp(t, cfg)
	gs := []*gateway{launch(t, gatewayOptions{Config: cfg}), launch(t, gatewayOptions{Config: cfg})}

	done := make(chan struct{})
	go func() { defer close(done); b.send(4, func() []*gateway { return gs }) }()
	waitFor(t, 60*time.Second, "a quarter of the webhooks acknowledged", func() bool { return b.acked.Load() >= contacts/4 })
	proxy.Cut()
	t.Logf("database cut after %d acknowledged webhooks", b.acked.Load())
	waitFor(t, 30*time.Second, "a 503 while the database is away", func() bool { return b.count(http.StatusServiceUnavailable) > 0 })
	status, _ := gs[0].Do(http.MethodGet, "/readyz", nil, nil)
	if status != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while the database is away, want 503", status)
	}
	time.Sleep(2 * time.Second)
	proxy.Restore()
	<-done
	if t.Failed() {
		return
	}
	t.Logf("answers: 200×%d 503×%d", b.count(http.StatusOK), b.count(http.StatusServiceUnavailable))
	b.checkCalledOnce(gs[1], 90*time.Second)
}
