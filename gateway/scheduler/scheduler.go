// Package scheduler places calls at the right time and never twice. Calls
// live in the store with a due-time index per dialer; one lane per dialer
// sleeps on a timer until the earliest due attempt (the store's wake-up
// for its dialer, or a PollEvery safety net, ends the sleep earlier),
// claims due attempts in a transaction that moves them to dialing with a
// lease, and dials them at the dialer's concurrency (counted in the store,
// so across replicas on a shared one) and rate (per process). Outcomes
// (from POST /call/status/{dialer}, synchronous dialers, or the lease
// running out) drive the retry ladder inside the call's window. A new
// call's first attempt is placed by the window rule (window.go): it waits
// for an opening later the same local day, and carry_over decides only once
// the day's chance has passed; later attempts always wait for the window.
//
// Guarantees: an attempt is claimed once (the claim and the index change
// are one transaction); a number on the do-not-call list is never dialed
// (the claim transaction reads the list and ends the call blocked); an attempt left in flight by a crash is re-sent only
// to a dialer that honours its idempotency key "<call id>-<attempt n>",
// otherwise it is marked for an operator and never re-sent; every final
// status carries a reason; every lifecycle notification is committed in the
// same transaction as the change it reports.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/store"
)

// Dialer is what the scheduler needs of a voice platform (gateway/dialer
// implements it).
type Dialer = dialer.Dialer

// Outcome is what became of one attempt.
type Outcome = dialer.Outcome

// Notifier turns a call change into lifecycle notifications (webhooks,
// CRM write-back), committed with the change. attempt is the attempt that
// just ended (nil for changes without one); final says the call is over.
type Notifier interface {
	Items(call store.Call, attempt *store.Attempt, final bool) []store.OutboxItem
}

// Limits pace one dialer.
type Limits struct {
	Concurrency    int           // attempts in dialing at once; default 20
	Rate           float64       // dials per second; 0 = unlimited
	Burst          int           // dials allowed at once under Rate; default max(1, Rate)
	OutcomeTimeout time.Duration // no outcome by then → attempt failed "no outcome"; default 30m
	DialTimeout    time.Duration // bounds one Dial call; default 1m
	Backoff        time.Duration // first wait after the platform was unreachable; default 5s, doubling to 10m
}

// Config configures New.
type Config struct {
	Store      Store
	Dialers    map[string]Dialer // by dialer name
	Clock      Clock             // default RealClock()
	Logger     hclog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	Notifier   Notifier              // nil: no notifications
	// DefaultTimezone applies to a policy with no timezone, and to
	// "callee" when the number gives none (default Asia/Kolkata).
	DefaultTimezone string
	// StatusCallbackURL returns public_url + /call/status/{dialer}.
	StatusCallbackURL func(dialer string) string
	DialerLimits      map[string]Limits
	// RecoverEvery, when set, runs Recover's work again on that period
	// (wall-clock), not only at start: on a store shared by replicas,
	// another replica may be gone at any moment, leaving calls dialing.
	RecoverEvery time.Duration
}

// Scheduler dispatches calls; see the package doc.
type Scheduler struct {
	cfg   Config
	db    Store
	clock Clock
	log   hclog.Logger
	m     *metrics
	lanes map[string]*lane
	sweep chan struct{} // wakes the lease sweeper

	recoverOnce sync.Once
	recoverErr  error
}

// Errors callers act on.
var (
	// ErrFinal: the call is already over and cannot be canceled.
	ErrFinal = errors.New("call already ended")
	// ErrUnknownDialer: no dialer of that name is configured.
	ErrUnknownDialer = errors.New("unknown dialer")
)

// New builds a scheduler; Run starts it.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("scheduler: no store given")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.DefaultTimezone == "" {
		cfg.DefaultTimezone = "Asia/Kolkata"
	}
	if _, err := time.LoadLocation(cfg.DefaultTimezone); err != nil {
		return nil, fmt.Errorf("scheduler: default timezone %q: %w", cfg.DefaultTimezone, err)
	}
	if cfg.StatusCallbackURL == nil {
		cfg.StatusCallbackURL = func(name string) string { return "/call/status/" + name }
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("scheduler: register metrics: %w", err)
	}
	s := &Scheduler{cfg: cfg, db: cfg.Store, clock: cfg.Clock, log: cfg.Logger.Named("scheduler"), m: m,
		lanes: map[string]*lane{}, sweep: make(chan struct{}, 1)}
	for name, d := range cfg.Dialers {
		if d == nil {
			return nil, fmt.Errorf("scheduler: dialer %q is nil", name)
		}
		s.lanes[name] = newLane(name, d, cfg.DialerLimits[name], m)
	}
	return s, nil
}

// Submission is a call to schedule.
type Submission struct {
	// Call carries AgentID, ToNumber (E.164), Variables, Source, Policy
	// (Timezone may be "callee"), Dialer and Fields. A Status already
	// final (skipped, blocked) records the call as it is, without dialing.
	Call       store.Call
	ContactKey string // dedupe per (agent, contact); "" = none
	// LegacyContactKey is an older form of ContactKey, matched but never
	// written (so an upgrade inside a dedupe window calls nobody twice).
	LegacyContactKey string
	DedupeWindow     time.Duration // default none
	// NotBefore is the earliest first attempt (schedule_at); zero or past
	// = now. The window rule reads "the same day" as NotBefore's local day.
	NotBefore time.Time
}

// Submitted is what Submit did: Duplicate means Call is the existing call
// the submission duplicates.
type Submitted struct {
	Call      store.Call
	Duplicate bool
}

// Submit creates a call and schedules its first attempt at now (or
// NotBefore, if later) by the window rule (firstAttempt): inside the
// window it is due at once; before an opening later that same local day it
// waits for it; once that day's chance has passed it moves to the next
// opening with carry_over, and is recorded dropped, with the window and
// the reason, without.
func (s *Scheduler) Submit(ctx context.Context, sub Submission) (Submitted, error) {
	if err := ctx.Err(); err != nil {
		return Submitted{}, err
	}
	c := sub.Call
	if c.AgentID == "" || c.ToNumber == "" {
		return Submitted{}, errors.New("scheduler: submit: a call needs an agent id and a number")
	}
	if _, ok := s.lanes[c.Dialer]; !ok && !store.Final(c.Status) {
		return Submitted{}, fmt.Errorf("scheduler: agent %s: dialer %q: %w (configure a dialer block with that name)", c.AgentID, c.Dialer, ErrUnknownDialer)
	}
	tz, loc, err := resolveTimezone(c.Policy.Timezone, c.ToNumber, s.cfg.DefaultTimezone)
	if err != nil {
		return Submitted{}, fmt.Errorf("scheduler: agent %s: %w", c.AgentID, err)
	}
	if err := ValidateWindow(c.Policy.Window); err != nil {
		return Submitted{}, fmt.Errorf("scheduler: agent %s: %w", c.AgentID, err)
	}
	c.Policy.Timezone = tz
	now := s.clock.Now().UTC()
	c.ID = s.db.NewID(now)
	c.CreatedAt, c.UpdatedAt = now, now
	c.Attempts, c.LeaseUntil, c.NextAttemptAt = []store.Attempt{}, nil, nil
	if !store.Final(c.Status) {
		start := now
		if sub.NotBefore.After(now) {
			start = sub.NotBefore.UTC()
		}
		at, reason, dropped, err := firstAttempt(start, c.Policy.Window, tz, loc)
		if err != nil {
			return Submitted{}, fmt.Errorf("scheduler: agent %s: %w", c.AgentID, err)
		}
		c.Status, c.Reason = store.CallScheduled, withTimezoneNote(reason, c.Policy.TimezoneNote)
		if dropped {
			c.Status = store.CallDropped
		} else {
			at = at.UTC()
			c.NextAttemptAt = &at
		}
	}
	var items []store.OutboxItem
	if store.Final(c.Status) && s.cfg.Notifier != nil {
		items = s.cfg.Notifier.Items(c, nil, true)
	}
	got, created, err := s.db.CreateCall(ctx, c, store.CreateOptions{ContactKey: sub.ContactKey, LegacyContactKey: sub.LegacyContactKey, DedupeWindow: sub.DedupeWindow, Now: now, Outbox: items})
	if err != nil {
		return Submitted{}, fmt.Errorf("scheduler: %w", err)
	}
	if created {
		if store.Final(got.Status) {
			s.m.finals.WithLabelValues(got.Status).Inc()
		} else {
			s.lanes[got.Dialer].wakeUp()
		}
		if got.Status == store.CallDropped {
			s.log.Info("call dropped: outside its window", "call", got.ID, "agent", got.AgentID, "reason", got.Reason)
		}
		s.log.Debug("call submitted", "call", got.ID, "agent", got.AgentID, "status", got.Status, "next_attempt_at", got.NextAttemptAt)
	}
	return Submitted{Call: got, Duplicate: !created}, nil
}

// withTimezoneNote adds to a new call's reason why its zone is not the
// one its policy asked for (a number with several zones, a record without
// one), so the call says so where people look first.
func withTimezoneNote(reason, note string) string {
	switch {
	case note == "":
		return reason
	case reason == "":
		return "timezone: " + note
	}
	return reason + " (timezone: " + note + ")"
}

// Cancel ends a call that has not ended yet. An attempt in dialing is left
// to finish at the platform; its outcome is still recorded on the attempt.
func (s *Scheduler) Cancel(ctx context.Context, id, reason string) (store.Call, error) {
	if err := ctx.Err(); err != nil {
		return store.Call{}, err
	}
	if reason == "" {
		reason = "canceled by an operator"
	}
	now := s.clock.Now().UTC()
	var was string
	c, err := s.db.MutateCall(ctx, id, func(c *store.Call) ([]store.OutboxItem, error) {
		if store.Final(c.Status) {
			return nil, fmt.Errorf("call %s is %s: %w", c.ID, c.Status, ErrFinal)
		}
		was = c.Status
		c.Status, c.Reason, c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = store.CallCanceled, reason, nil, nil, now
		return s.notify(*c, nil, true), nil
	})
	if err != nil {
		return store.Call{}, fmt.Errorf("scheduler: cancel call %s: %w", id, err)
	}
	s.m.finals.WithLabelValues(store.CallCanceled).Inc()
	if was == store.CallDialing {
		if l := s.lanes[c.Dialer]; l != nil && len(c.Attempts) > 0 {
			l.release(attemptKey(c.ID, c.Attempts[len(c.Attempts)-1].N))
		}
	}
	s.log.Info("call canceled", "call", c.ID, "agent", c.AgentID, "reason", reason)
	return c, nil
}

// CancelNumber cancels the pending calls to number: agentID's, or every
// agent's when agentID is empty (a number added to DND). It returns how
// many it canceled.
func (s *Scheduler) CancelNumber(ctx context.Context, agentID, number, reason string) (int, error) {
	calls, err := s.db.ActiveCalls(ctx, agentID, number)
	if err != nil {
		return 0, fmt.Errorf("scheduler: find calls to cancel: %w", err)
	}
	n := 0
	for _, c := range calls {
		if _, err := s.Cancel(ctx, c.ID, reason); err != nil {
			if errors.Is(err, ErrFinal) {
				continue // it ended meanwhile
			}
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Scheduler) notify(c store.Call, a *store.Attempt, final bool) []store.OutboxItem {
	if s.cfg.Notifier == nil {
		return nil
	}
	return s.cfg.Notifier.Items(c, a, final)
}

func attemptKey(callID string, n int) string { return fmt.Sprintf("%s-%d", callID, n) }

// LimitsFromConfig reads a dialer block's pacing settings.
func LimitsFromConfig(d *config.Dialer) Limits {
	if d == nil {
		return Limits{}
	}
	return Limits{Concurrency: d.Concurrency, Rate: d.Rate, Burst: d.RateBurst, OutcomeTimeout: d.OutcomeTimeout, DialTimeout: 2 * d.Timeout}
}
