package scheduler_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// TestLaneWokenByTheStore: a call another writer put in the store (as
// another replica's Submit would) is dialed at once: the store's wake-up
// for the dialer ends the lane's sleep, well before its poll would.
func TestLaneWokenByTheStore(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	time.Sleep(100 * time.Millisecond) // the lane finds nothing due and sleeps
	now := e.clock.Now().UTC()
	c, _, err := e.db.CreateCall(context.Background(), store.Call{AgentID: "sales", ToNumber: "+919876543210", Dialer: "voice",
		Status: store.CallScheduled, NextAttemptAt: &now, Policy: policy(nil, 0)}, store.CreateOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-e.dialer.Dialed():
		if r.CallID != c.ID {
			t.Fatalf("dialed %s, want %s", r.CallID, c.ID)
		}
	case <-time.After(scheduler.PollEvery / 2):
		t.Fatal("the call was not dialed before the lane's poll: the store's wake-up did not reach it")
	}
}

// othersDialing is the store as a replica sees it while others dial on
// the same dialer: InFlight counts their attempts too.
type othersDialing struct {
	*bolt.Store
	others atomic.Int64
}

func (s *othersDialing) InFlight(ctx context.Context, dialer string) (int, error) {
	n, err := s.Store.InFlight(ctx, dialer)
	return n + int(s.others.Load()), err
}

// TestConcurrencyCountsTheStore: a lane dials only while the attempts
// dialing on its dialer, as the store counts them, leave it a slot; when
// another process's attempt ends, the lane's poll finds the slot.
func TestConcurrencyCountsTheStore(t *testing.T) {
	var shared *othersDialing
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(scheduler.Limits{Concurrency: 1}), func(e *env) {
		e.wrap = func(db *bolt.Store) scheduler.Store {
			shared = &othersDialing{Store: db}
			shared.others.Store(1)
			return shared
		}
	})
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	select {
	case r := <-e.dialer.Dialed():
		t.Fatalf("dialed %s while another process holds the dialer's only slot", r.CallID)
	case <-time.After(200 * time.Millisecond):
	}
	shared.others.Store(0)
	select {
	case r := <-e.dialer.Dialed():
		if r.CallID != c.ID {
			t.Fatalf("dialed %s, want %s", r.CallID, c.ID)
		}
	case <-time.After(2 * scheduler.PollEvery):
		t.Fatal("the freed slot was not found by the lane's poll")
	}
}
