package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// Recover settles what a process that is gone left in dialing (the
// store's OrphanedDialing: with bbolt, every call dialing when the file
// was opened; with a shared store, those whose lease expired). An attempt the
// platform accepted (PlacedAt set) waits for its outcome as before: the
// lease sweeper fails it when the outcome is overdue, so expired leases
// return the call to the retry ladder. An attempt that was being sent when
// the process stopped may or may not have reached the platform: on a
// dialer that honours the idempotency key it is put back in the due index
// with the same attempt number, so the re-send carries the same key and the
// platform drops the copy; on any other dialer it is not re-sent, but
// marked NeedsOperator with a reason, and stays in dialing until its
// outcome arrives or its lease runs out.
//
// Run calls Recover first; calling it again is a no-op.
func (s *Scheduler) Recover(ctx context.Context) error {
	s.recoverOnce.Do(func() { s.recoverErr = s.recover(ctx, false) })
	return s.recoverErr
}

// recover settles the orphaned calls; again is set for the periodic
// passes, which say nothing when there is nothing to settle.
func (s *Scheduler) recover(ctx context.Context, again bool) error {
	now := s.clock.Now().UTC()
	calls, err := s.db.OrphanedDialing(ctx, now)
	if err != nil {
		return fmt.Errorf("scheduler: recover: %w", err)
	}
	if again && len(calls) == 0 {
		return nil
	}
	resent, marked := 0, 0
	for _, c := range calls {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := s.lanes[c.Dialer]
		if l == nil || len(c.Attempts) == 0 {
			s.log.Warn("call in dialing on a dialer that is not configured; its lease will fail the attempt", "call", c.ID, "dialer", c.Dialer)
			continue
		}
		a := c.Attempts[len(c.Attempts)-1]
		key := attemptKey(c.ID, a.N)
		if a.Outcome != "" || a.PlacedAt != nil || a.NeedsOperator {
			l.acquire(key)
			continue
		}
		if l.isLive(key) {
			continue // this process is sending it right now
		}
		if l.d.Idempotent() {
			_, err := s.db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
				if c.Status != store.CallDialing || len(c.Attempts) != a.N || c.Attempts[a.N-1].PlacedAt != nil || c.Attempts[a.N-1].Outcome != "" {
					return nil, store.ErrNoChange
				}
				c.Attempts = c.Attempts[:a.N-1]
				c.Status = store.CallScheduled
				if a.N > 1 {
					c.Status = store.CallRetryScheduled
				}
				c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = &now, nil, now
				c.Reason = fmt.Sprintf("restarted while attempt %d was being placed; re-sending it with idempotency key %s", a.N, key)
				return nil, nil
			})
			if err != nil && !errors.Is(err, store.ErrNoChange) {
				return fmt.Errorf("scheduler: recover call %s: %w", c.ID, err)
			}
			resent++
			l.wakeUp()
			continue
		}
		_, err := s.db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
			if c.Status != store.CallDialing || len(c.Attempts) != a.N {
				return nil, store.ErrNoChange
			}
			c.Attempts[a.N-1].NeedsOperator = true
			c.UpdatedAt = now
			c.Reason = fmt.Sprintf("restarted while attempt %d was being placed on dialer %s, which cannot deduplicate: not re-sent, so nobody is called twice; "+
				"check the voice platform, then cancel the call or wait for its outcome (or for the lease to fail the attempt)", a.N, c.Dialer)
			return nil, nil
		})
		if err != nil && !errors.Is(err, store.ErrNoChange) {
			return fmt.Errorf("scheduler: recover call %s: %w", c.ID, err)
		}
		l.acquire(key)
		marked++
		s.log.Warn("attempt left in flight by a restart needs an operator", "call", c.ID, "attempt", a.N, "dialer", c.Dialer)
	}
	if again {
		if resent+marked > 0 {
			s.log.Info("took over calls a gone replica left dialing", "resent", resent, "needs_operator", marked)
		}
		return nil
	}
	dialers, err := s.db.DueDialers(ctx)
	if err != nil {
		return fmt.Errorf("scheduler: recover: %w", err)
	}
	for _, d := range dialers {
		if _, ok := s.lanes[d]; !ok {
			s.log.Warn("calls are waiting for a dialer that is not configured; they stay queued until it is", "dialer", d)
		}
	}
	s.wakeSweeper()
	s.log.Info("recovered", "dialing", len(calls), "resent", resent, "needs_operator", marked)
	return nil
}

// runRecovery takes over, every RecoverEvery, what replicas that are gone
// left dialing (the store says which: OrphanedDialing). Two replicas
// recovering one call is safe: each change checks the call is still in
// the state it read, in the change's own transaction.
func (s *Scheduler) runRecovery(ctx context.Context) {
	t := time.NewTicker(s.cfg.RecoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.recover(ctx, true); err != nil && ctx.Err() == nil {
			s.log.Error("recover the calls gone replicas left dialing; retrying", "error", err)
		}
	}
}
