package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
)

// TestDialPanicSettlesOnlyItsCall: a dialer that panics on one call leaves
// that attempt marked for an operator with the reason (it may have been
// placed, so it is never re-sent), and the lane goes on dialing others.
func TestDialPanicSettlesOnlyItsCall(t *testing.T) {
	e := newEnv(t, monday8.Add(2*3600e9), withLimits(schedLimits(2)))
	e.dialer.Always(func(ctx context.Context, r dialer.Request) (dialer.Placed, error) {
		if r.ToNumber == "+14155550100" {
			panic("the platform's answer broke the client")
		}
		return schedtest.Sync(store.OutcomeCompleted)(ctx, r)
	})
	bad := e.submit("+14155550100", policy(nil, 0))
	good := e.submit("+14155550101", policy(nil, 0))
	e.run()

	c := e.waitStatus(good.ID, store.CallCompleted)
	if len(c.Attempts) != 1 {
		t.Fatalf("good call attempts = %+v", c.Attempts)
	}
	e.eventually("the bad call marked for an operator", func() bool {
		c := e.call(bad.ID)
		return len(c.Attempts) == 1 && c.Attempts[0].NeedsOperator
	})
	c = e.call(bad.ID)
	if c.Status != store.CallDialing || !strings.Contains(c.Reason, "internal error while dialing: the platform's answer broke the client") ||
		!strings.Contains(c.Reason, "not re-sent, so nobody is called twice") {
		t.Fatalf("bad call: %s %q", c.Status, c.Reason)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(e.dialer.Requests()); n != 2 {
		t.Fatalf("%d dials, want 2 (the panicked attempt is not re-sent)", n)
	}
}
