package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/store"
)

// claimBatch bounds how many attempts one claim transaction takes.
const claimBatch = 256

// lane dispatches the attempts of one dialer.
type lane struct {
	name    string
	d       Dialer
	lim     Limits
	limiter *rate.Limiter
	m       *metrics
	wake    chan struct{} // an attempt may be due earlier than the lane thinks
	freed   chan struct{} // a slot was released

	mu   sync.Mutex
	live map[string]struct{} // "<call id>-<n>" of attempts in dialing
}

func newLane(name string, d Dialer, lim Limits, m *metrics) *lane {
	if lim.Concurrency <= 0 {
		lim.Concurrency = 20
	}
	if lim.OutcomeTimeout <= 0 {
		lim.OutcomeTimeout = 30 * time.Minute
	}
	if lim.DialTimeout <= 0 {
		lim.DialTimeout = time.Minute
	}
	limit, burst := rate.Inf, lim.Burst
	if lim.Rate > 0 {
		limit = rate.Limit(lim.Rate)
		if burst <= 0 {
			burst = max(1, int(math.Ceil(lim.Rate)))
		}
	}
	return &lane{name: name, d: d, lim: lim, limiter: rate.NewLimiter(limit, max(burst, 1)), m: m,
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1), live: map[string]struct{}{}}
}

func (l *lane) wakeUp() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// acquire counts an attempt in dialing; it reports false if it already was.
func (l *lane) acquire(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.live[key]; ok {
		return false
	}
	l.live[key] = struct{}{}
	l.m.inFlight.WithLabelValues(l.name).Set(float64(len(l.live)))
	return true
}

// isLive reports whether this process holds the attempt's slot.
func (l *lane) isLive(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.live[key]
	return ok
}

// release frees an attempt's slot (once; later calls are no-ops).
func (l *lane) release(key string) {
	l.mu.Lock()
	_, ok := l.live[key]
	delete(l.live, key)
	l.m.inFlight.WithLabelValues(l.name).Set(float64(len(l.live)))
	l.mu.Unlock()
	if ok {
		select {
		case l.freed <- struct{}{}:
		default:
		}
	}
}

// dialing counts this process's attempts in dialing.
func (l *lane) dialing() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.live)
}

// Run recovers (see Recover) and dispatches until ctx ends; it then waits
// for dials in progress to return and reports nil.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Recover(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while recovering; the next start recovers
		}
		return err
	}
	var wg sync.WaitGroup
	for _, l := range s.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.supervise(ctx, "dialer "+l.name, func(ctx context.Context) { s.runLane(ctx, l, &wg) })
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.supervise(ctx, "lease sweeper", s.runSweeper)
	}()
	if s.cfg.RecoverEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.supervise(ctx, "recovery", s.runRecovery)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// PollEvery bounds how long a lane sleeps without looking at the store:
// wake-ups (the store's Changes, this process's own inserts) make it
// look at once, and this safety net finds work whose wake-up was lost or
// came from a store that cannot signal. It is wall-clock time, whatever
// the scheduler's Clock.
const PollEvery = 2 * time.Second

// runLane claims and dials due attempts of one dialer, sleeping on a timer
// until the next one is due, a wake-up, or PollEvery.
func (s *Scheduler) runLane(ctx context.Context, l *lane, dials *sync.WaitGroup) {
	changes := s.db.Changes(store.TopicDialer(l.name))
	for ctx.Err() == nil {
		free, err := s.free(ctx, l)
		if err != nil {
			s.log.Error("count the attempts in flight; retrying in 1s", "dialer", l.name, "error", err)
			s.wait(ctx, time.Second, nil)
			continue
		}
		if free <= 0 {
			s.poll(ctx, -1, l.freed, changes)
			continue
		}
		next, ok, err := s.db.NextDue(ctx, l.name)
		if err != nil {
			s.log.Error("read the due index; retrying in 1s", "dialer", l.name, "error", err)
			s.wait(ctx, time.Second, nil)
			continue
		}
		now := s.clock.Now()
		if !ok {
			s.poll(ctx, -1, l.wake, changes)
			continue
		}
		if next.After(now) {
			s.poll(ctx, next.Sub(now), l.wake, changes)
			continue
		}
		n, wait, err := s.paced(ctx, l, now, min(free, claimBatch))
		if err != nil {
			s.log.Error("take dials from the dialer's budget; retrying in 1s", "dialer", l.name, "error", err)
			s.wait(ctx, time.Second, nil)
			continue
		}
		if n < 1 {
			s.wait(ctx, wait, nil)
			continue
		}
		claimed, due, err := s.claim(ctx, l, now, n)
		if err != nil {
			s.log.Error("claim due attempts; retrying in 1s", "dialer", l.name, "error", err)
			s.wait(ctx, time.Second, nil)
			continue
		}
		if len(claimed) > 0 {
			if _, shared := s.db.(store.DialBudget); !shared && l.limiter.Limit() != rate.Inf {
				l.limiter.ReserveN(now, len(claimed))
			}
			s.wakeSweeper()
		}
		for _, c := range claimed {
			a := c.Attempts[len(c.Attempts)-1]
			if !l.acquire(attemptKey(c.ID, a.N)) {
				continue
			}
			s.m.lag.WithLabelValues(l.name).Observe(s.clock.Now().Sub(due[c.ID]).Seconds())
			dials.Add(1)
			go func() {
				defer dials.Done()
				defer s.guardDial(c, a)
				s.dial(ctx, l, c, a)
			}()
		}
	}
}

// paced is how many of want dials the dialer's rate allows now, and when
// one is next allowed if none is. On a store with a DialBudget (shared by
// replicas) the budget is the store's, taken now: dials it grants but the
// claim finds no call for are lost, which errs slow. Otherwise it is this
// lane's limiter, spent after the claim by what was claimed.
func (s *Scheduler) paced(ctx context.Context, l *lane, now time.Time, want int) (int, time.Duration, error) {
	if l.limiter.Limit() == rate.Inf {
		return want, 0, nil
	}
	if b, ok := s.db.(store.DialBudget); ok {
		n, err := b.TakeDials(ctx, l.name, want, float64(l.limiter.Limit()), l.limiter.Burst(), now)
		return n, time.Duration(float64(time.Second) / float64(l.limiter.Limit())), err
	}
	tokens := int(l.limiter.TokensAt(now))
	if tokens < 1 {
		r := l.limiter.ReserveN(now, 1)
		delay := r.DelayFrom(now)
		r.CancelAt(now)
		return 0, max(delay, time.Millisecond), nil
	}
	return min(want, tokens), 0, nil
}

// free is how many more attempts the lane may dial now: its concurrency
// less the attempts dialing on its dialer, as the store counts them (every
// process's, on a shared store) or as this process does, whichever is
// more (a claim this process made is in its own count a moment earlier).
func (s *Scheduler) free(ctx context.Context, l *lane) (int, error) {
	n, err := s.db.InFlight(ctx, l.name)
	if err != nil {
		return 0, err
	}
	return l.lim.Concurrency - max(n, l.dialing()), nil
}

// poll is wait (on the scheduler's clock for d, and on wake) that also
// returns on the store's changes or after PollEvery of wall-clock time.
func (s *Scheduler) poll(ctx context.Context, d time.Duration, wake, changes <-chan struct{}) {
	safety := time.NewTimer(PollEvery)
	defer safety.Stop()
	var tc <-chan time.Time
	if d >= 0 {
		t := s.clock.NewTimer(d)
		defer t.Stop()
		tc = t.C()
	}
	select {
	case <-ctx.Done():
	case <-tc:
	case <-wake:
	case <-changes:
	case <-safety.C:
	}
}

// wait sleeps for d (d < 0: no timer) or until ch or ctx fires.
func (s *Scheduler) wait(ctx context.Context, d time.Duration, ch <-chan struct{}) {
	var tc <-chan time.Time
	if d >= 0 {
		t := s.clock.NewTimer(d)
		defer t.Stop()
		tc = t.C()
	}
	select {
	case <-ctx.Done():
	case <-tc:
	case <-ch:
	}
}

// claim moves up to n due attempts of l to dialing, with a lease that ends
// when the outcome is overdue. In the same transaction: a call whose number
// is on the do-not-call list ends blocked (with its final notification),
// and an attempt whose window closed while it waited for a slot is moved
// to the next opening instead.
func (s *Scheduler) claim(ctx context.Context, l *lane, now time.Time, n int) ([]store.Call, map[string]time.Time, error) {
	// Keyed by call id, so a claim func run more than once for the same
	// call (as a SQL backend may on a serialization retry) counts it once.
	due, blocked := map[string]time.Time{}, map[string]store.Call{}
	claimDue := s.db.ClaimDue
	if cc, ok := s.db.(store.CappedClaimer); ok {
		// A shared store: the cluster-wide concurrency is held in the claim.
		claimDue = func(ctx context.Context, dialer string, now time.Time, limit int, fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error) {
			return cc.ClaimDueCapped(ctx, dialer, now, limit, l.lim.Concurrency, fn)
		}
	}
	claimed, err := claimDue(ctx, l.name, now, n, s.guardClaim(now, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		if c.Status != store.CallScheduled && c.Status != store.CallRetryScheduled {
			return false, nil, store.ErrNoChange
		}
		if dnd {
			c.Status, c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = store.CallBlocked, nil, nil, now.UTC()
			c.Reason = fmt.Sprintf("not dialed: the number is on the do-not-call list (checked when attempt %d was due)", len(c.Attempts)+1)
			blocked[c.ID] = *c
			return false, s.notify(*c, nil, true), nil
		}
		tz, loc, err := resolveTimezone(c.Policy.Timezone, c.ToNumber, s.cfg.DefaultTimezone)
		if err != nil {
			return false, nil, s.failInPlace(c, now, err.Error())
		}
		at, _, err := laterAttempt(now, c.Policy.Window, tz, loc)
		if err != nil {
			return false, nil, s.failInPlace(c, now, err.Error())
		}
		if at.After(now) {
			at = at.UTC()
			c.NextAttemptAt, c.UpdatedAt = &at, now
			c.Reason = fmt.Sprintf("the call window %s closed before attempt %d could be dialed (no dial slot was free, or the gateway was down); moved to the next opening %s "+
				"(attempts of an accepted call are never dropped, whatever carry_over says)",
				DescribeWindow(c.Policy.Window, tz), len(c.Attempts)+1, localMinute(at, loc))
			return false, nil, nil
		}
		due[c.ID] = *c.NextAttemptAt
		lease := now.Add(l.lim.OutcomeTimeout).UTC()
		c.Attempts = append(c.Attempts, store.Attempt{N: len(c.Attempts) + 1, StartedAt: now.UTC()})
		c.Status, c.Reason, c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = store.CallDialing, "", nil, &lease, now.UTC()
		return true, nil, nil
	}))
	if err != nil {
		return nil, nil, err
	}
	for _, c := range blocked {
		s.m.finals.WithLabelValues(store.CallBlocked).Inc()
		s.log.Info("call blocked when due: number on the do-not-call list", "call", c.ID, "agent", c.AgentID, "attempt", len(c.Attempts)+1)
	}
	return claimed, due, nil
}

// failInPlace ends a call that can never be dialed (its stored policy is
// broken); it returns nil so the claim transaction writes the change.
func (s *Scheduler) failInPlace(c *store.Call, now time.Time, why string) error {
	c.Status, c.NextAttemptAt, c.UpdatedAt = store.CallFailed, nil, now.UTC()
	c.Reason = "cannot schedule: " + why
	s.log.Error("call cannot be scheduled", "call", c.ID, "reason", c.Reason)
	return nil
}

// dial sends one claimed attempt and records what the dialer said.
func (s *Scheduler) dial(ctx context.Context, l *lane, c store.Call, a store.Attempt) {
	contactType := c.Source.Type
	if c.Source.ObjectID != "" {
		contactType = "contact"
	}
	req := dialer.Request{
		CallID: c.ID, Attempt: a.N, AgentID: c.AgentID, ToNumber: c.ToNumber, Variables: c.Variables,
		ContactType: contactType, ObjectID: c.Source.ObjectID,
		StatusCallbackURL: s.cfg.StatusCallbackURL(l.name),
		IdempotencyKey:    attemptKey(c.ID, a.N),
		BatchID:           c.BatchID, Priority: c.Priority, Language: c.Language,
	}
	dctx, cancel := context.WithTimeout(ctx, l.lim.DialTimeout)
	placed, err := l.d.Dial(dctx, req)
	cancel()
	switch {
	case err == nil:
		s.m.dials.WithLabelValues(l.name, "placed").Inc()
		s.placed(l, c.ID, a.N, placed)
	case ctx.Err() != nil:
		// Shutting down mid-dial: the attempt stays in dialing and the next
		// start's recovery decides whether it may be re-sent.
		s.log.Info("shutdown while dialing; recovery will settle the attempt", "call", c.ID, "attempt", a.N)
	case errors.Is(err, dialer.ErrTransport):
		s.m.dials.WithLabelValues(l.name, "transport_error").Inc()
		s.transportFailed(l, c.ID, a.N, err)
	case errors.Is(err, dialer.ErrUncertain):
		// The request reached a platform that cannot deduplicate, but its
		// answer was lost: the person may be ringing now. Recording a
		// failure would let the retry ladder call again after the gap, so
		// the attempt waits for its outcome (or its lease) like one found
		// in flight after a crash.
		s.m.dials.WithLabelValues(l.name, "uncertain").Inc()
		s.uncertain(c.ID, a.N, err)
	default:
		result := "error"
		if errors.Is(err, dialer.ErrRejected) {
			result = "rejected"
		}
		s.m.dials.WithLabelValues(l.name, result).Inc()
		if err := s.record(l.name, Outcome{CallID: c.ID, Attempt: a.N, Status: store.OutcomeFailed, Reason: err.Error()}); err != nil {
			s.log.Error("record a rejected dial", "call", c.ID, "attempt", a.N, "error", err)
		}
	}
}

// uncertain marks an attempt that may have been placed for an operator.
func (s *Scheduler) uncertain(id string, n int, cause error) {
	now := s.clock.Now().UTC()
	_, err := s.db.MutateCall(context.Background(), id, func(c *store.Call) ([]store.OutboxItem, error) {
		a := findAttempt(c, n)
		if a == nil || a.Outcome != "" || c.Status != store.CallDialing {
			return nil, store.ErrNoChange
		}
		a.NeedsOperator = true
		c.UpdatedAt = now
		c.Reason = fmt.Sprintf("attempt %d may have been placed (%v); not re-sent, so nobody is called twice: "+
			"waiting for its outcome or for the lease to fail it", n, cause)
		return nil, nil
	})
	if err != nil && !errors.Is(err, store.ErrNoChange) {
		s.log.Error("record an uncertain dial", "call", id, "attempt", n, "error", err)
	}
	s.log.Warn("attempt may have been placed; needs an operator", "call", id, "attempt", n)
}

// placed notes that the platform accepted the attempt; a synchronous
// dialer's outcome is recorded in the same transaction.
func (s *Scheduler) placed(l *lane, id string, n int, p dialer.Placed) {
	now := s.clock.Now().UTC()
	if p.Outcome != nil {
		o := *p.Outcome
		o.CallID, o.Attempt = id, n
		if o.ProviderCallID == "" {
			o.ProviderCallID = p.ProviderCallID
		}
		// record, not HandleOutcome: a shutdown starting now must not drop
		// an outcome the platform already gave (the call would be retried).
		if err := s.recordPlaced(l.name, o, &now); err != nil {
			s.log.Error("record a synchronous outcome", "call", id, "attempt", n, "error", err)
		}
		return
	}
	_, err := s.db.MutateCall(context.Background(), id, func(c *store.Call) ([]store.OutboxItem, error) {
		a := findAttempt(c, n)
		if a == nil || (a.PlacedAt != nil && (a.ProviderCallID != "" || p.ProviderCallID == "")) {
			return nil, store.ErrNoChange
		}
		if a.PlacedAt == nil {
			a.PlacedAt = &now
		}
		if a.ProviderCallID == "" {
			a.ProviderCallID = p.ProviderCallID
		}
		return nil, nil
	})
	if err != nil && !errors.Is(err, store.ErrNoChange) {
		s.log.Error("record a placed attempt", "call", id, "attempt", n, "error", err)
	}
}

// transportFailed puts an attempt that never reached the platform back in
// the due index after a backoff, without spending it: the re-send carries
// the same attempt number and idempotency key.
func (s *Scheduler) transportFailed(l *lane, id string, n int, cause error) {
	now := s.clock.Now().UTC()
	c, err := s.db.MutateCall(context.Background(), id, func(c *store.Call) ([]store.OutboxItem, error) {
		a := findAttempt(c, n)
		if c.Status != store.CallDialing || a == nil || a.N != len(c.Attempts) || a.Outcome != "" || a.PlacedAt != nil {
			return nil, store.ErrNoChange
		}
		c.Attempts = c.Attempts[:len(c.Attempts)-1]
		c.TransportFailures++
		tz, loc, err := resolveTimezone(c.Policy.Timezone, c.ToNumber, s.cfg.DefaultTimezone)
		if err != nil {
			return nil, err
		}
		at, note, err := laterAttempt(now.Add(TransportBackoff(l.lim.Backoff, c.TransportFailures)), c.Policy.Window, tz, loc)
		if err != nil {
			return nil, err
		}
		at = at.UTC()
		c.Status = store.CallScheduled
		if len(c.Attempts) > 0 {
			c.Status = store.CallRetryScheduled
		}
		c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = &at, nil, now
		c.Reason = fmt.Sprintf("dialer %s unreachable (%d in a row): %v; attempt %d re-sent at %s", l.name, c.TransportFailures, cause, n, at.Format(time.RFC3339))
		if note != "" {
			c.Reason += "; the back-off ends at " + note
		}
		return nil, nil
	})
	l.release(attemptKey(id, n))
	if err != nil && !errors.Is(err, store.ErrNoChange) {
		s.log.Error("reschedule after a transport failure", "call", id, "attempt", n, "error", err)
		return
	}
	s.log.Warn("dialer unreachable; attempt not spent, backing off", "dialer", l.name, "call", id, "attempt", n, "next_attempt_at", c.NextAttemptAt, "error", cause)
	l.wakeUp()
}

func findAttempt(c *store.Call, n int) *store.Attempt {
	if n == 0 && len(c.Attempts) > 0 {
		return &c.Attempts[len(c.Attempts)-1]
	}
	for i := range c.Attempts {
		if c.Attempts[i].N == n {
			return &c.Attempts[i]
		}
	}
	return nil
}
