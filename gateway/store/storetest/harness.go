package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// Harness opens the backend under test; see the package doc.
type Harness struct {
	// Open returns a fresh, empty store for one subtest.
	Open func(t *testing.T) store.Store
	// Peer returns a second handle on s's data, as another process; nil
	// for a backend one process holds (bolt).
	Peer func(t *testing.T, s store.Store) store.Store
	// Shared says other processes may use the store at once; it must
	// agree with Info().Shared.
	Shared bool
	// Reopen closes s and opens its data again, as a restarted process;
	// nil skips the restart subtests.
	Reopen func(t *testing.T, s store.Store) store.Store
}

type subtest struct {
	name string
	fn   func(t *testing.T, h Harness)
}

// Run runs every conformance subtest against h's backend.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is required")
	}
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Info", infoTests},
		{"Events", eventTests},
		{"Calls", callTests},
		{"Schedule", scheduleTests},
		{"Outbox", outboxTests},
		{"DND", dndTests},
		{"Reconciliation", reconcileTests},
		{"Reports", reportTests},
		{"Erase", eraseTests},
		{"Wakeups", wakeupTests},
		{"Backup", backupTests},
		{"Restart", restartTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) { st.fn(t, h) })
			}
		})
	}
}

var infoTests = []subtest{
	{"DescribesTheBackend", testInfo},
	{"NewIDsAreOrdered", testNewID},
	{"CanceledContext", testCanceledContext},
}

func testInfo(t *testing.T, h Harness) {
	s := h.Open(t)
	info := s.Info()
	if info.Backend == "" || info.Location == "" {
		t.Errorf("Info = %+v: want a backend and a location", info)
	}
	if info.Shared != h.Shared {
		t.Errorf("Info().Shared = %v, Harness.Shared = %v", info.Shared, h.Shared)
	}
	if u, err := url.Parse(info.Location); err == nil && u.User != nil {
		if _, set := u.User.Password(); set {
			t.Errorf("Info().Location %q holds a password: it is logged", info.Location)
		}
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping on a fresh store: %v", err)
	}
	if h.Shared && h.Peer != nil {
		// Leases name their owner: two replicas must not share one.
		if p := peer(t, h, s).Info(); info.Owner == "" || p.Owner == info.Owner {
			t.Errorf("lease owners %q and %q: want two different, non-empty owners", info.Owner, p.Owner)
		}
	}
}

func testNewID(t *testing.T, h Harness) {
	s := h.Open(t)
	seen := map[string]bool{}
	prev := ""
	for i := range 100 {
		id := s.NewID(t0.Add(time.Duration(i/10) * time.Millisecond))
		if id <= prev || seen[id] {
			t.Fatalf("id %d %q does not sort after %q", i, id, prev)
		}
		seen[id], prev = true, id
	}
}

// testCanceledContext: a write under a context that has ended fails with
// the context's error and commits nothing (an HTTP request that gave up
// must not leave half its work behind unreported).
func testCanceledContext(t *testing.T, h Harness) {
	s := h.Open(t)
	done, cancel := context.WithCancel(t.Context())
	cancel()
	writes := []struct {
		name string
		do   func() error
	}{
		{"AppendEvents", func() error {
			_, err := s.AppendEvents(done, []store.Event{event("a")}, store.AppendOptions{Now: t0})
			return err
		}},
		{"CreateCall", func() error {
			_, _, err := s.CreateCall(done, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
			return err
		}},
		{"EnqueueOutbox", func() error { return s.EnqueueOutbox(done, hook(s, "", t0)) }},
		{"AddDND", func() error { return s.AddDND(done, "+14155550101", "", t0) }},
	}
	for _, w := range writes {
		if err := w.do(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s under a canceled context = %v, want context.Canceled", w.name, err)
		}
	}
	// Appending the event again shows whether it was stored (a listing
	// could run before a queued commit lands).
	if res := appendAt(t, s, t0, event("a")); res.Duplicate[0] {
		t.Error("AppendEvents committed under a canceled context")
	}
	if n, _ := s.CountCalls(ctx(t), store.CallFilter{}); n != 0 {
		t.Errorf("%d calls committed under a canceled context", n)
	}
	if items, _, _ := s.ListOutbox(ctx(t), store.OutboxFilter{}); len(items) != 0 {
		t.Errorf("%d outbox items committed under a canceled context", len(items))
	}
	if list, _ := s.ListDND(ctx(t)); len(list) != 0 {
		t.Errorf("%d DND entries committed under a canceled context", len(list))
	}
}

// t0 is the suite's "now": every time is relative to it, in whole seconds
// so that every backend stores it exactly.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// peer returns a second handle on s's data, or skips.
func peer(t *testing.T, h Harness, s store.Store) store.Store {
	t.Helper()
	if h.Peer == nil {
		t.Skip("one process holds this backend (Harness.Peer is nil): nothing to share")
	}
	return h.Peer(t, s)
}

// handles returns n handles for concurrent workers: all s, or (peers)
// alternately s and a second handle on its data.
func handles(t *testing.T, h Harness, s store.Store, peers bool, n int) []store.Store {
	t.Helper()
	out := make([]store.Store, n)
	var p store.Store
	if peers {
		p = peer(t, h, s)
	}
	for i := range out {
		out[i] = s
		if peers && i%2 == 1 {
			out[i] = p
		}
	}
	return out
}

// parallel runs fn on each handle in its own goroutine and fails t with
// the first error.
func parallel(t *testing.T, hs []store.Store, fn func(i int, s store.Store) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(hs))
	start := make(chan struct{})
	for i, s := range hs {
		wg.Go(func() {
			<-start
			if err := fn(i, s); err != nil {
				errs <- fmt.Errorf("worker %d: %w", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// errNeverEmpty ends a claiming worker that claimed more times than there
// was work: claimed items keep coming back, so their leases do not hold.
var errNeverEmpty = errors.New("claims never ran out: claimed work came back before its lease ended")

// exactlyOnce fails t unless every id of want was claimed once, and
// nothing else.
func exactlyOnce(t *testing.T, what string, want []string, claimed map[string]int) {
	t.Helper()
	for _, id := range want {
		if n := claimed[id]; n != 1 {
			t.Errorf("%s %s claimed %d times, want once", what, id, n)
		}
	}
	if len(claimed) != len(want) {
		t.Errorf("%d %ss claimed, want %d", len(claimed), what, len(want))
	}
}

// must fails t on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ctx is the context every call of the suite passes.
func ctx(t *testing.T) context.Context { return t.Context() }
