package scheduler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// crashMidDial runs a scheduler whose platform never answers, stops it
// while the attempt is in flight (the process dies: the store keeps the
// attempt in dialing, not placed), and returns the data dir and call.
func crashMidDial(t *testing.T) (string, store.Call) {
	t.Helper()
	d := schedtest.NewDialer("voice", true)
	d.Always(schedtest.Hang)
	e := newEnv(t, monday8.Add(2*time.Hour), withDialer(d))
	stop := e.run()
	c := e.submit("+919876543210", policy(nil, 1, time.Hour))
	e.dialed()
	e.waitStatus(c.ID, store.CallDialing)
	stop() // the bbolt file is closed with the attempt in flight
	return e.dir, c
}

func TestRecoverResendsToAnIdempotentDialer(t *testing.T) {
	dir, c := crashMidDial(t)
	d := schedtest.NewDialer("voice", true)
	e := newEnv(t, monday8.Add(2*time.Hour+time.Minute), withDir(dir), withDialer(d))
	e.run()
	r := e.dialed()
	if r.CallID != c.ID || r.Attempt != 1 || r.IdempotencyKey != c.ID+"-1" {
		t.Fatalf("re-sent %+v, want attempt 1 with key %s-1", r, c.ID)
	}
	got := e.waitStatus(c.ID, store.CallDialing)
	if len(got.Attempts) != 1 {
		t.Fatalf("attempts after re-send: %+v", got.Attempts)
	}
	e.noDial()
	if n := d.Placed()[c.ID+"-1"]; n != 1 {
		t.Fatalf("attempt 1 placed %d times", n)
	}
}

func TestRecoverNeverResendsToOtherDialers(t *testing.T) {
	dir, c := crashMidDial(t)
	d := schedtest.NewDialer("voice", false) // cannot deduplicate
	e := newEnv(t, monday8.Add(2*time.Hour+time.Minute), withDir(dir), withDialer(d))
	e.run()
	var got store.Call
	e.eventually("marked for an operator", func() bool {
		got = e.call(c.ID)
		return len(got.Attempts) == 1 && got.Attempts[0].NeedsOperator
	})
	if got.Status != store.CallDialing || !strings.Contains(got.Reason, "not re-sent") {
		t.Fatalf("call = %s %q", got.Status, got.Reason)
	}
	e.noDial()
	// Its outcome still counts if the platform did place it.
	e.outcome(c.ID, 1, store.OutcomeNoAnswer)
	got = e.call(c.ID)
	if got.Status != store.CallRetryScheduled {
		t.Fatalf("after the outcome: %s", got.Status)
	}
	e.advanceTo(*got.NextAttemptAt)
	if r := e.dialed(); r.Attempt != 2 {
		t.Fatalf("next dial is attempt %d, want 2 (attempt 1 is never sent again)", r.Attempt)
	}
	for _, r := range d.Requests() {
		if r.Attempt == 1 {
			t.Fatal("attempt 1 was dialed again after the restart")
		}
	}
}

func TestRecoverExpiredLease(t *testing.T) {
	// A placed attempt whose outcome never came, found after a long outage:
	// the lease has run out, so the attempt fails and the call retries.
	e := newEnv(t, monday8.Add(2*time.Hour))
	stop := e.run()
	c := e.submit("+919876543210", policy(nil, 1, time.Minute))
	e.dialed()
	e.eventually("placed", func() bool { a := e.call(c.ID).Attempts; return len(a) == 1 && a[0].PlacedAt != nil })
	stop()

	later := newEnv(t, monday8.Add(5*time.Hour), withDir(e.dir))
	later.run()
	var got store.Call
	later.eventually("attempt 1 failed", func() bool { got = later.call(c.ID); return got.Attempts[0].Outcome != "" })
	if got.Attempts[0].Outcome != store.OutcomeFailed || !strings.Contains(got.Attempts[0].Reason, "no outcome") {
		t.Fatalf("attempt 1 = %+v", got.Attempts[0])
	}
	got = later.waitStatus(c.ID, store.CallRetryScheduled)
	later.advanceTo(*got.NextAttemptAt)
	if r := later.dialed(); r.Attempt != 2 {
		t.Fatalf("dialed attempt %d, want the retry", r.Attempt)
	}
}

func TestRecoverKeepsWaitingForPlacedAttempts(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(
		// one slot: the placed attempt must still hold it after the restart
		schedLimits(1)))
	stop := e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	e.eventually("placed", func() bool { a := e.call(c.ID).Attempts; return len(a) == 1 && a[0].PlacedAt != nil })
	stop()

	later := newEnv(t, monday8.Add(2*time.Hour+time.Minute), withDir(e.dir), withLimits(schedLimits(1)))
	later.run()
	other := later.submit("+919876543211", policy(nil, 0))
	later.noDial()
	later.outcome(c.ID, 1, store.OutcomeCompleted)
	if r := later.dialed(); r.CallID != other.ID {
		t.Fatalf("dialed %s", r.CallID)
	}
	if got := later.call(c.ID); got.Status != store.CallCompleted {
		t.Fatalf("recovered call = %s", got.Status)
	}
}

// TestRecoverFromKillSnapshot copies the bbolt file while the first
// scheduler is still hanging in Dial — the state a kill -9 leaves, with no
// shutdown code run — and starts a second scheduler on the copy.
func TestRecoverFromKillSnapshot(t *testing.T) {
	for _, dedupes := range []bool{true, false} {
		name := map[bool]string{true: "idempotent dialer re-sends once", false: "other dialer never re-sends"}[dedupes]
		t.Run(name, func(t *testing.T) {
			first := schedtest.NewDialer("voice", dedupes)
			first.Always(schedtest.Hang)
			e := newEnv(t, monday8.Add(2*time.Hour), withDialer(first))
			e.run()
			c := e.submit("+919876543210", policy(nil, 0))
			e.dialed()
			e.waitStatus(c.ID, store.CallDialing)
			snap := t.TempDir()
			raw, err := os.ReadFile(filepath.Join(e.dir, bolt.FileName))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(snap, bolt.FileName), raw, 0o600); err != nil {
				t.Fatal(err)
			}

			second := schedtest.NewDialer("voice", dedupes)
			after := newEnv(t, monday8.Add(2*time.Hour+time.Second), withDir(snap), withDialer(second))
			after.run()
			if dedupes {
				r := after.dialed()
				if r.IdempotencyKey != c.ID+"-1" {
					t.Fatalf("re-sent with key %s, want %s-1", r.IdempotencyKey, c.ID)
				}
			} else {
				after.eventually("marked for an operator", func() bool { return after.call(c.ID).Attempts[0].NeedsOperator })
			}
			after.noDial()
			if n := len(second.Requests()); n != map[bool]int{true: 1, false: 0}[dedupes] {
				t.Fatalf("%d dials after the crash", n)
			}
		})
	}
}
