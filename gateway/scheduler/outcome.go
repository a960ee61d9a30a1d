package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/store"
)

// Errors of HandleOutcome.
var (
	// ErrUnknownCall: no call of that id is placed through that dialer.
	ErrUnknownCall = errors.New("unknown call")
	// ErrUnknownAttempt: the call has no attempt of that number.
	ErrUnknownAttempt = errors.New("unknown attempt")
)

// HandleOutcome records what became of an attempt and moves the call on:
// completed → completed; canceled → canceled; another outcome → a retry
// inside the window if the policy allows one, else failed. A second outcome
// for the same attempt is ignored (nil), so callbacks may be redelivered.
// Attempt 0 means the call's latest attempt.
func (s *Scheduler) HandleOutcome(ctx context.Context, dialerName string, o Outcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.lanes[dialerName]; !ok {
		return fmt.Errorf("dialer %q: %w", dialerName, ErrUnknownDialer)
	}
	return s.record(dialerName, o)
}

// record applies an outcome; see HandleOutcome.
func (s *Scheduler) record(dialerName string, o Outcome) error {
	return s.recordPlaced(dialerName, o, nil)
}

// recordPlaced is record that also marks the attempt placed at placedAt
// (for outcomes a dialer returns with the placement).
func (s *Scheduler) recordPlaced(dialerName string, o Outcome, placedAt *time.Time) error {
	now := s.clock.Now().UTC()
	var ended, wasLive bool
	var n int
	c, err := s.db.MutateCall(context.Background(), o.CallID, func(c *store.Call) ([]store.OutboxItem, error) {
		ended, wasLive, n = false, false, 0
		if c.Dialer != dialerName {
			return nil, fmt.Errorf("call %s on dialer %s: %w", o.CallID, dialerName, ErrUnknownCall)
		}
		a := findAttempt(c, o.Attempt)
		if a == nil && reachedAfterAll(c, o.Attempt) {
			// The dial "failed" in transit but the platform placed it: the
			// attempt happened, so it is restored rather than re-sent.
			c.Attempts = append(c.Attempts, store.Attempt{N: o.Attempt, StartedAt: now, PlacedAt: &now})
			c.Status, c.NextAttemptAt = store.CallDialing, nil
			a = &c.Attempts[len(c.Attempts)-1]
		}
		if a == nil {
			return nil, fmt.Errorf("call %s attempt %d: %w", c.ID, o.Attempt, ErrUnknownAttempt)
		}
		if a.Outcome != "" {
			return nil, store.ErrNoChange // a redelivered callback
		}
		n = a.N
		if placedAt != nil && a.PlacedAt == nil {
			a.PlacedAt = placedAt
		}
		status, reason := o.Status, o.Reason
		if !validOutcome(status) {
			status, reason = store.OutcomeFailed, fmt.Sprintf("the dialer reported an unknown outcome %q", o.Status)
		}
		a.EndedAt, a.Outcome, a.Reason, a.DurationS = &now, status, reason, o.DurationS
		keepReport(a, o.Report)
		if a.ProviderCallID == "" {
			a.ProviderCallID = o.ProviderCallID
		}
		c.UpdatedAt = now
		wasLive = c.Status == store.CallDialing && a.N == len(c.Attempts)
		if !wasLive {
			return s.notify(*c, a, false), nil // e.g. the outcome of a canceled call's last attempt
		}
		c.LeaseUntil, c.TransportFailures = nil, 0
		if err := s.decide(c, a, now); err != nil {
			return nil, err
		}
		ended = store.Final(c.Status)
		att := *a
		return s.notify(*c, &att, ended), nil
	})
	if errors.Is(err, store.ErrNoChange) {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("call %s: %w", o.CallID, ErrUnknownCall)
	}
	if err != nil {
		return fmt.Errorf("scheduler: record outcome of call %s: %w", o.CallID, err)
	}
	s.m.outcomes.WithLabelValues(dialerName, c.Attempts[n-1].Outcome).Inc()
	if wasLive {
		l := s.lanes[dialerName]
		if l != nil {
			l.release(attemptKey(c.ID, n))
		}
		if ended {
			s.m.finals.WithLabelValues(c.Status).Inc()
		} else if l != nil {
			l.wakeUp()
		}
	}
	s.log.Info("attempt ended", "call", c.ID, "agent", c.AgentID, "attempt", n, "outcome", c.Attempts[n-1].Outcome, "status", c.Status)
	return nil
}

// keepReport stores what the platform said about the conversation on the
// attempt, so the API, dashboard, notifications and write-back read it
// from the call record. All of it is personal data: erasure scrubs it.
func keepReport(a *store.Attempt, r dialer.Report) {
	a.RecordingURL, a.Summary, a.Disposition, a.FromNumber = r.RecordingURL, r.Summary, r.Disposition, r.FromNumber
	a.Transcript, a.Data = r.Transcript, r.Data
}

// reachedAfterAll reports whether an outcome for attempt n belongs to an
// attempt taken back after a transport failure (a timeout the platform
// had in fact accepted) that has not been re-sent yet.
func reachedAfterAll(c *store.Call, n int) bool {
	return n == len(c.Attempts)+1 && c.TransportFailures > 0 &&
		(c.Status == store.CallScheduled || c.Status == store.CallRetryScheduled)
}

// decide moves a call on after its live attempt a ended at now.
func (s *Scheduler) decide(c *store.Call, a *store.Attempt, now time.Time) error {
	switch a.Outcome {
	case store.OutcomeCompleted:
		c.Status, c.Reason, c.NextAttemptAt = store.CallCompleted, "connected", nil
		if a.DurationS > 0 {
			c.Reason = fmt.Sprintf("connected (%s)", (time.Duration(a.DurationS * float64(time.Second))).Round(time.Second))
		}
		return nil
	case store.OutcomeCanceled:
		c.Status, c.Reason, c.NextAttemptAt = store.CallCanceled, "canceled by the voice platform", nil
		if a.Reason != "" {
			c.Reason += ": " + a.Reason
		}
		return nil
	}
	earliest, ok := Next(c.Policy.Retry, a.N, a.Outcome, now)
	if !ok {
		c.Status, c.Reason, c.NextAttemptAt = store.CallFailed, FailedReason(c.Policy.Retry, c.Attempts), nil
		return nil
	}
	tz, loc, err := resolveTimezone(c.Policy.Timezone, c.ToNumber, s.cfg.DefaultTimezone)
	if err != nil {
		return err
	}
	at, note, err := laterAttempt(earliest, c.Policy.Window, tz, loc)
	if err != nil {
		return err
	}
	at = at.UTC()
	c.Status, c.NextAttemptAt = store.CallRetryScheduled, &at
	c.Reason = fmt.Sprintf("attempt %d: %s; retry %d of %d at %s", a.N, a.Outcome, a.N, c.Policy.Retry.Max, localMinute(at, loc))
	if note != "" {
		c.Reason += "; the gap ends at " + note
	}
	return nil
}

func validOutcome(s string) bool {
	switch s {
	case store.OutcomeCompleted, store.OutcomeNoAnswer, store.OutcomeBusy, store.OutcomeFailed,
		store.OutcomeVoicemail, store.OutcomeCanceled:
		return true
	}
	return false
}

func (s *Scheduler) wakeSweeper() {
	select {
	case s.sweep <- struct{}{}:
	default:
	}
}

// runSweeper fails attempts whose outcome is overdue (their lease ran
// out), sleeping until the earliest lease ends, a claim here, or PollEvery.
func (s *Scheduler) runSweeper(ctx context.Context) {
	for ctx.Err() == nil {
		next, ok, err := s.db.NextLease(ctx)
		if err != nil {
			s.log.Error("read the lease index; retrying in 1s", "error", err)
			s.wait(ctx, time.Second, nil)
			continue
		}
		// The poll finds leases another replica took (and left behind)
		// on a shared store, which no wake-up of this process announces.
		if !ok {
			s.poll(ctx, -1, s.sweep, nil)
			continue
		}
		now := s.clock.Now()
		if next.After(now) {
			s.poll(ctx, next.Sub(now), s.sweep, nil)
			continue
		}
		ids, err := s.db.ExpiredLeases(ctx, now, claimBatch)
		failed := err != nil
		for _, id := range ids {
			if err := s.expire(ctx, id, now); err != nil {
				s.log.Error("fail an attempt with no outcome", "call", id, "error", err)
				failed = true
			}
		}
		if failed {
			s.wait(ctx, time.Second, nil)
		}
	}
}

// expire fails the live attempt of a call whose lease ran out.
func (s *Scheduler) expire(ctx context.Context, id string, now time.Time) error {
	c, err := s.db.GetCall(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != store.CallDialing || c.LeaseUntil == nil || c.LeaseUntil.After(now) || len(c.Attempts) == 0 {
		return nil
	}
	a := c.Attempts[len(c.Attempts)-1]
	timeout := 30 * time.Minute
	if l := s.lanes[c.Dialer]; l != nil {
		timeout = l.lim.OutcomeTimeout
	}
	return s.record(c.Dialer, Outcome{CallID: id, Attempt: a.N, Status: store.OutcomeFailed,
		Reason: fmt.Sprintf("no outcome within %s", timeout)})
}
