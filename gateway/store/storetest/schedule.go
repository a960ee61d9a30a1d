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

var scheduleTests = []subtest{
	{"DueOrder", testDueOrder},
	{"LeasesAndInFlight", testLeases},
	{"ClaimDueOnceConcurrently", func(t *testing.T, h Harness) { testClaimDueOnce(t, h, false) }},
	{"ClaimDueOnceAcrossProcesses", func(t *testing.T, h Harness) { testClaimDueOnce(t, h, true) }},
	{"ClaimDueReadsDND", testClaimDueReadsDND},
	{"ClaimDueSeesAnotherProcessesDND", testClaimDuePeerDND},
	{"ClaimDueAbortsOnError", testClaimDueAborts},
	{"OrphanedDialingByLease", testOrphanedByLease},
}

// scheduleAt creates a call to number due at at on dialer.
func scheduleAt(t *testing.T, s store.Store, dialer, number string, at time.Time) store.Call {
	t.Helper()
	c := newCall("sales", number)
	c.Dialer, c.NextAttemptAt = dialer, &at
	return createCall(t, s, c, store.CreateOptions{Now: t0})
}

// dial is a ClaimDue func that takes every call to dialing until lease.
func dial(lease time.Time) func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
	return func(c *store.Call, _ bool) (bool, []store.OutboxItem, error) {
		l := lease
		c.Status, c.NextAttemptAt, c.LeaseUntil = store.CallDialing, nil, &l
		c.Attempts = append(c.Attempts, store.Attempt{N: len(c.Attempts) + 1, StartedAt: t0})
		return true, nil, nil
	}
}

// testDueOrder: the due index per dialer, earliest first, with limits.
func testDueOrder(t *testing.T, h Harness) {
	s := h.Open(t)
	if _, ok, err := s.NextDue(ctx(t), "voice"); err != nil || ok {
		t.Fatalf("NextDue on an empty store = %v %v", ok, err)
	}
	var ids []string
	for i, d := range []time.Duration{30 * time.Minute, 10 * time.Minute, 20 * time.Minute} {
		ids = append(ids, scheduleAt(t, s, "voice", fmt.Sprint("+1415555010", i), t0.Add(d)).ID)
	}
	backup := scheduleAt(t, s, "backup", "+14155550200", t0)
	next, ok, err := s.NextDue(ctx(t), "voice")
	if err != nil || !ok || !next.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want t0+10m", next, ok, err)
	}
	if next, ok, _ := s.NextDue(ctx(t), "backup"); !ok || !next.Equal(t0) {
		t.Errorf("NextDue(backup) = %v %v", next, ok)
	}
	dialers, err := s.DueDialers(ctx(t))
	must(t, err)
	slices.Sort(dialers)
	if !slices.Equal(dialers, []string{"backup", "voice"}) {
		t.Errorf("DueDialers = %v, want backup and voice", dialers)
	}
	for _, tt := range []struct {
		now   time.Time
		limit int
		want  []string
	}{
		{t0.Add(5 * time.Minute), 10, nil},
		{t0.Add(10 * time.Minute), 10, ids[1:2]},
		{t0.Add(25 * time.Minute), 10, []string{ids[1], ids[2]}},
		{t0.Add(time.Hour), 2, []string{ids[1], ids[2]}},
		{t0.Add(time.Hour), 10, []string{ids[1], ids[2], ids[0]}},
	} {
		got, err := s.DueCalls(ctx(t), "voice", tt.now, tt.limit)
		must(t, err)
		if !slices.Equal(callIDs(got), tt.want) {
			t.Errorf("DueCalls(%v, %d) = %v, want %v", tt.now.Sub(t0), tt.limit, callIDs(got), tt.want)
		}
	}
	claimed, err := s.ClaimDue(ctx(t), "voice", t0.Add(time.Hour), 1, dial(t0.Add(2*time.Hour)))
	must(t, err)
	if !slices.Equal(callIDs(claimed), ids[1:2]) || claimed[0].Status != store.CallDialing || claimed[0].LeaseUntil == nil {
		t.Fatalf("ClaimDue(limit 1) = %+v, want the earliest, dialing", claimed)
	}
	if next, _, _ := s.NextDue(ctx(t), "voice"); !next.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("after the claim NextDue = %v, want t0+20m", next)
	}
	if got := getCall(t, s, ids[1]); got.Status != store.CallDialing || len(got.Attempts) != 1 {
		t.Errorf("claimed call stored as %s with %d attempts", got.Status, len(got.Attempts))
	}
	if due, _ := s.DueCalls(ctx(t), "backup", t0, 10); !slices.Equal(callIDs(due), []string{backup.ID}) {
		t.Errorf("the backup dialer's calls = %v", callIDs(due))
	}
	// A call moved later moves in the index.
	_, err = s.MutateCall(ctx(t), backup.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		later := t0.Add(3 * time.Hour)
		c.Status, c.NextAttemptAt = store.CallRetryScheduled, &later
		return nil, nil
	})
	must(t, err)
	if next, _, _ := s.NextDue(ctx(t), "backup"); !next.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("a retry_scheduled call's NextDue = %v, want t0+3h", next)
	}
	if due, _ := s.DueCalls(ctx(t), "backup", t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("a call moved later is still due: %v", callIDs(due))
	}
}

// testLeases: dialing calls are indexed by lease; ExpiredLeases finds
// them once the lease ends; InFlight counts them per dialer.
func testLeases(t *testing.T, h Harness) {
	s := h.Open(t)
	if _, ok, err := s.NextLease(ctx(t)); err != nil || ok {
		t.Fatalf("NextLease on an empty store = %v %v", ok, err)
	}
	leases := []time.Duration{time.Hour, 20 * time.Minute, 40 * time.Minute}
	var ids []string
	for i, l := range leases {
		c := scheduleAt(t, s, "voice", fmt.Sprint("+1415555010", i), t0)
		got, err := s.ClaimDue(ctx(t), "voice", t0, 1, dial(t0.Add(l)))
		if err != nil || len(got) != 1 || got[0].ID != c.ID {
			t.Fatalf("claim %d: %v %v", i, callIDs(got), err)
		}
		ids = append(ids, c.ID)
	}
	scheduleAt(t, s, "voice", "+14155550199", t0.Add(time.Hour)) // waiting, not in flight
	b := scheduleAt(t, s, "backup", "+14155550200", t0)
	if _, err := s.ClaimDue(ctx(t), "backup", t0, 1, dial(t0.Add(30*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if l, ok, _ := s.NextLease(ctx(t)); !ok || !l.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("NextLease = %v %v, want t0+20m", l, ok)
	}
	for _, tt := range []struct {
		now   time.Duration
		limit int
		want  []string
	}{
		{20*time.Minute - time.Second, 10, nil},
		{20 * time.Minute, 10, ids[1:2]},
		{30 * time.Minute, 10, []string{ids[1], b.ID}},
		{2 * time.Hour, 2, []string{ids[1], b.ID}},
		{2 * time.Hour, 10, []string{ids[1], b.ID, ids[2], ids[0]}},
	} {
		got, err := s.ExpiredLeases(ctx(t), t0.Add(tt.now), tt.limit)
		must(t, err)
		if !slices.Equal(got, tt.want) {
			t.Errorf("ExpiredLeases(t0+%v, %d) = %v, want %v", tt.now, tt.limit, got, tt.want)
		}
	}
	for dialer, want := range map[string]int{"voice": 3, "backup": 1, "other": 0} {
		if n, err := s.InFlight(ctx(t), dialer); err != nil || n != want {
			t.Errorf("InFlight(%s) = %d %v, want %d", dialer, n, err, want)
		}
	}
	// An outcome ends the lease.
	end := t0.Add(time.Minute)
	_, err := s.MutateCall(ctx(t), ids[1], func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.Reason, c.LeaseUntil = store.CallCompleted, "connected", nil
		c.Attempts[0].EndedAt, c.Attempts[0].Outcome = &end, store.OutcomeCompleted
		return nil, nil
	})
	must(t, err)
	if l, _, _ := s.NextLease(ctx(t)); !l.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("after the outcome NextLease = %v, want t0+30m", l)
	}
	if n, _ := s.InFlight(ctx(t), "voice"); n != 2 {
		t.Errorf("InFlight(voice) after an outcome = %d, want 2", n)
	}
}

// testClaimDueOnce: workers claiming one dialer's due calls at once (on
// one handle or on two processes) take each exactly once.
func testClaimDueOnce(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	hs := handles(t, h, s, peers, 8)
	batch := make([]store.NewCall, 60)
	for i := range batch {
		batch[i] = store.NewCall{Call: newCall("sales", fmt.Sprintf("+9198%08d", i)), Options: store.CreateOptions{Now: t0}}
	}
	res, err := s.CreateCalls(ctx(t), batch)
	must(t, err)
	var want []string
	for _, r := range res {
		want = append(want, r.Call.ID)
	}
	var mu sync.Mutex
	count := map[string]int{}
	parallel(t, hs, func(_ int, s store.Store) error {
		for range len(want) + 1 {
			got, err := s.ClaimDue(t.Context(), "voice", t0, 4, dial(t0.Add(time.Hour)))
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, c := range got {
				count[c.ID]++
			}
			mu.Unlock()
		}
		return errNeverEmpty
	})
	// A worker may stop while another holds the last due calls: it is
	// the union that must be complete.
	exactlyOnce(t, "call", want, count)
	if due, _ := s.DueCalls(ctx(t), "voice", t0, 100); len(due) != 0 {
		t.Errorf("%d calls still due", len(due))
	}
	for _, id := range want[:5] {
		if c := getCall(t, s, id); len(c.Attempts) != 1 || c.Status != store.CallDialing {
			t.Errorf("call %s: %s with %d attempts, want dialing with one", id, c.Status, len(c.Attempts))
		}
	}
}

// testClaimDueReadsDND: the func is told whether each due call's number
// is on the DND list as of the claim (a number listed after the call was
// scheduled included), and the items it returns commit with its change.
func testClaimDueReadsDND(t *testing.T, h Harness) {
	s := h.Open(t)
	listed := scheduleAt(t, s, "voice", "+14155550101", t0)
	clear := scheduleAt(t, s, "voice", "+14155550102", t0)
	must(t, s.AddDND(ctx(t), "+14155550101", "asked us to stop", t0.Add(time.Second)))
	checkBlocks(t, s, s, listed, clear)
}

// testClaimDuePeerDND: a number listed by another process is seen by the
// next claim.
func testClaimDuePeerDND(t *testing.T, h Harness) {
	s := h.Open(t)
	p := peer(t, h, s)
	listed := scheduleAt(t, s, "voice", "+14155550101", t0)
	clear := scheduleAt(t, s, "voice", "+14155550102", t0)
	must(t, p.AddDND(ctx(t), "+14155550101", "asked us to stop", t0.Add(time.Second)))
	checkBlocks(t, s, p, listed, clear)
}

func checkBlocks(t *testing.T, s, other store.Store, listed, clear store.Call) {
	t.Helper()
	seen := map[string]bool{}
	claimed, err := s.ClaimDue(ctx(t), "voice", t0.Add(time.Minute), 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		seen[c.ID] = dnd
		if dnd {
			c.Status, c.Reason, c.NextAttemptAt = store.CallBlocked, "number on the DND list", nil
			return false, []store.OutboxItem{hook(s, c.ID, t0.Add(time.Minute))}, nil
		}
		return false, nil, store.ErrNoChange
	})
	if err != nil || len(claimed) != 0 {
		t.Fatalf("ClaimDue = %v, %v; want none claimed", callIDs(claimed), err)
	}
	if len(seen) != 2 || !seen[listed.ID] || seen[clear.ID] {
		t.Fatalf("dnd flags = %v, want true for %s only", seen, listed.ID)
	}
	if c := getCall(t, other, listed.ID); c.Status != store.CallBlocked {
		t.Errorf("listed call = %s, want blocked", c.Status)
	}
	if items := outboxOf(t, other, listed.ID); len(items) != 1 {
		t.Errorf("outbox = %d items, want the blocked call's notification", len(items))
	}
	if due, _ := other.DueCalls(ctx(t), "voice", t0.Add(time.Minute), 10); !slices.Equal(callIDs(due), []string{clear.ID}) {
		t.Errorf("due after the claim = %v, want the unlisted call (ErrNoChange leaves it)", callIDs(due))
	}
}

// testClaimDueAborts: an error from the func commits nothing.
func testClaimDueAborts(t *testing.T, h Harness) {
	s := h.Open(t)
	a := scheduleAt(t, s, "voice", "+14155550101", t0)
	b := scheduleAt(t, s, "voice", "+14155550102", t0.Add(time.Second))
	boom := errors.New("boom")
	n := 0
	_, err := s.ClaimDue(ctx(t), "voice", t0.Add(time.Minute), 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		n++
		if n == 2 {
			return false, nil, boom
		}
		return dial(t0.Add(time.Hour))(c, dnd)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ClaimDue = %v, want boom", err)
	}
	if due, _ := s.DueCalls(ctx(t), "voice", t0.Add(time.Minute), 10); !slices.Equal(callIDs(due), []string{a.ID, b.ID}) {
		t.Errorf("after a failed claim due = %v, want both", callIDs(due))
	}
	if n, _ := s.InFlight(ctx(t), "voice"); n != 0 {
		t.Errorf("InFlight = %d after a failed claim", n)
	}
}

// testOrphanedByLease: on a shared store a placed attempt's call is
// orphaned once its lease has expired, not before (its process may be
// alive and its outcome on the way).
func testOrphanedByLease(t *testing.T, h Harness) {
	if !h.Shared {
		t.Skip("one process holds this backend: a dialing call is orphaned when the store is opened again (Restart/OrphanedDialingAtOpen)")
	}
	s := h.Open(t)
	c := scheduleAt(t, s, "voice", "+14155550101", t0)
	if _, err := s.ClaimDue(ctx(t), "voice", t0, 1, dial(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	// The platform took the attempt: it waits for its outcome, under the
	// lease (an attempt never placed has a rule of its own on a shared store).
	if _, err := s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		placed := t0
		c.Attempts[len(c.Attempts)-1].PlacedAt = &placed
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []store.Store{s, peer(t, h, s)} {
		if got, err := p.OrphanedDialing(ctx(t), t0.Add(time.Hour-time.Second)); err != nil || len(got) != 0 {
			t.Errorf("before the lease ends: %v %v, want none", callIDs(got), err)
		}
		if got, err := p.OrphanedDialing(ctx(t), t0.Add(time.Hour)); err != nil || !slices.Equal(callIDs(got), []string{c.ID}) {
			t.Errorf("when the lease ends: %v %v, want %s", callIDs(got), err, c.ID)
		}
	}
}
