package scheduler

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// A panic on one call (a stored record or a dialer the code cannot
// handle) settles that call with a reason and is logged with its stack;
// the lanes and the sweeper go on.

// claimFunc is what ClaimDue calls for each due call.
type claimFunc = func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)

// guardClaim fails a call in place when fn panics on it, so the claim
// transaction commits the others and this one is not claimed again.
func (s *Scheduler) guardClaim(now time.Time, fn claimFunc) claimFunc {
	return func(c *store.Call, dnd bool) (ok bool, items []store.OutboxItem, err error) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("claiming a call panicked; the call fails, the lane goes on", "call", c.ID,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				ok, items, err = false, nil, s.failInPlace(c, now, fmt.Sprintf("internal error (%v); see the server log", v))
			}
		}()
		return fn(c, dnd)
	}
}

// guardDial is deferred by each dial goroutine: after a panic the attempt
// may or may not have reached the platform, so it is handled as an
// uncertain dial (never re-sent; its outcome or its lease settles it).
func (s *Scheduler) guardDial(c store.Call, a store.Attempt) {
	v := recover()
	if v == nil {
		return
	}
	s.log.Error("dialing panicked; the attempt is not re-sent", "call", c.ID, "attempt", a.N,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	s.uncertain(c.ID, a.N, fmt.Errorf("internal error while dialing: %v; see the server log", v))
}

// supervise runs fn (a lane or the sweeper) until ctx ends; a panic that
// escapes it is logged and fn starts again after a second.
func (s *Scheduler) supervise(ctx context.Context, name string, fn func(context.Context)) {
	for ctx.Err() == nil {
		panicked := func() (panicked bool) {
			defer func() {
				if v := recover(); v != nil {
					panicked = true
					s.log.Error("a scheduler loop panicked; restarting it in 1s", "loop", name,
						"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				}
			}()
			fn(ctx)
			return false
		}()
		if !panicked {
			return
		}
		s.wait(ctx, time.Second, nil)
	}
}
