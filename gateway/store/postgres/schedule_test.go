package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// dial is a ClaimDue func that moves every call to dialing with a lease.
func dial(lease time.Time) func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
	return func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		if dnd {
			c.Status, c.NextAttemptAt, c.Reason = store.CallBlocked, nil, "blocked: number on the DND list"
			return false, nil, nil
		}
		c.Status, c.NextAttemptAt, c.LeaseUntil = store.CallDialing, nil, &lease
		return true, nil, nil
	}
}

// createDue creates n calls due on dialer from due on, 1ms apart, for
// agent dialer (so two dialers' calls never share an active number).
func createDue(t *testing.T, s *postgres.Store, n int, dialer string, due time.Time) []store.Call {
	t.Helper()
	var out []store.Call
	for i := range n {
		c := newCall(dialer, fmt.Sprintf("+1555%06d", i))
		c.Dialer = dialer
		at := due.Add(time.Duration(i) * time.Millisecond)
		c.NextAttemptAt = &at
		got, _, err := s.CreateCall(context.Background(), c, store.CreateOptions{Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

// Two replicas claim from one lane with many goroutines: every due call is
// claimed once, none twice.
func TestClaimDueOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	replicas := []*postgres.Store{open(t, url, "a"), open(t, url, "b")}
	const calls = 200
	createDue(t, replicas[0], calls, "vapi", t0)
	var mu sync.Mutex
	claims := map[string]int{}
	owners := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, owner := replicas[g%2], []string{"a", "b"}[g%2]
			for {
				got, err := s.ClaimDue(ctx, "vapi", t0.Add(time.Hour), 7, dial(t0.Add(2*time.Hour)))
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					claims[c.ID]++
					owners[c.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claims) != calls {
		t.Fatalf("%d calls claimed, want %d", len(claims), calls)
	}
	db := connect(t, url)
	for id, n := range claims {
		if n != 1 {
			t.Fatalf("call %s claimed %d times", id, n)
		}
		var owner string
		if err := db.QueryRow(ctx, "SELECT lease_owner FROM calls WHERE id = $1", id).Scan(&owner); err != nil || owner != owners[id] {
			t.Fatalf("call %s: lease owner %q (%v), claimed by %q", id, owner, err, owners[id])
		}
	}
	n, err := replicas[1].InFlight(ctx, "vapi")
	if err != nil || n != calls {
		t.Fatalf("InFlight = %d, %v; want %d", n, err, calls)
	}
}

func TestClaimDueReadsDND(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	due := createDue(t, s, 2, "vapi", t0)
	if err := s.AddDND(ctx, due[1].ToNumber, "asked not to be called", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDue(ctx, "vapi", t0.Add(time.Second), 10, dial(t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != due[0].ID {
		t.Fatalf("claimed %v, want only %s", got, due[0].ID)
	}
	blocked, err := s.GetCall(ctx, due[1].ID)
	if err != nil || blocked.Status != store.CallBlocked {
		t.Fatalf("listed number's call: %q, %v; want blocked", blocked.Status, err)
	}
	if _, ok, err := s.NextDue(ctx, "vapi"); ok || err != nil {
		t.Fatalf("NextDue after the claim: ok=%v err=%v, want nothing due", ok, err)
	}
}

func TestSchedule(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	other := open(t, postgres.URLOf(s), "b")
	createDue(t, s, 3, "vapi", t0)
	createDue(t, s, 1, "bland", t0.Add(time.Minute))

	next, ok, err := s.NextDue(ctx, "vapi")
	if err != nil || !ok || !next.Equal(t0) {
		t.Fatalf("NextDue = %v %v %v, want %v", next, ok, err, t0)
	}
	dialers, err := s.DueDialers(ctx)
	if err != nil || fmt.Sprint(dialers) != "[bland vapi]" {
		t.Fatalf("DueDialers = %v, %v", dialers, err)
	}
	due, err := s.DueCalls(ctx, "vapi", t0.Add(time.Millisecond), 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("DueCalls at t0+1ms = %d calls, %v; want 2", len(due), err)
	}

	// Claimed by replica b with leases 1s apart.
	for i := range 3 {
		lease := t0.Add(time.Duration(i+1) * time.Second)
		if _, err := other.ClaimDue(ctx, "vapi", t0.Add(time.Hour), 1, dial(lease)); err != nil {
			t.Fatal(err)
		}
	}
	lease, ok, err := s.NextLease(ctx)
	if err != nil || !ok || !lease.Equal(t0.Add(time.Second)) {
		t.Fatalf("NextLease = %v %v %v", lease, ok, err)
	}
	ids, err := s.ExpiredLeases(ctx, t0.Add(2*time.Second), 10)
	if err != nil || len(ids) != 2 {
		t.Fatalf("ExpiredLeases at t0+2s = %v, %v; want 2", ids, err)
	}
	orphans, err := s.OrphanedDialing(ctx, t0.Add(1500*time.Millisecond))
	if err != nil || len(orphans) != 1 || orphans[0].ID != ids[0] {
		t.Fatalf("OrphanedDialing at t0+1.5s = %v, %v; want [%s]", orphans, err, ids[0])
	}
	if n, err := s.InFlight(ctx, "vapi"); err != nil || n != 3 {
		t.Fatalf("InFlight(vapi) = %d, %v", n, err)
	}
	if n, err := s.InFlight(ctx, "bland"); err != nil || n != 0 {
		t.Fatalf("InFlight(bland) = %d, %v", n, err)
	}
}

// A call that becomes due sooner wakes its dialer's lane on every replica.
func TestDueWakesListeners(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := open(t, url, "a")
	other := open(t, url, "b")
	lane := other.Changes(store.TopicDialer("vapi"))
	settle(other, store.TopicDialer("vapi"))
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, "LISTEN "+postgres.WakeChannel); err != nil {
		t.Fatal(err)
	}
	c := createDue(t, s, 1, "vapi", t0)[0]
	waitFor(t, lane, "the other replica's wake-up of the vapi lane")
	expectTopic(t, conn, store.TopicDialer("vapi"))

	later := t0.Add(time.Hour)
	if _, err := s.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.NextAttemptAt = &later
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	sooner := t0.Add(-time.Hour)
	if _, err := s.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.NextAttemptAt, c.Dialer = &sooner, "bland"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Postponing sent nothing: the next signal is the move to bland.
	expectTopic(t, conn, store.TopicDialer("bland"))
}

func expectTopic(t *testing.T, conn *pgx.Conn, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("waiting for %s: %v", topic, err)
	}
	if n.Payload != topic {
		t.Fatalf("wake-up for %q, want %q", n.Payload, topic)
	}
}
