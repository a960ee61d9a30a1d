// Package pipeline turns inbox events into calls. Workers claim pending
// events with a lease (a crash puts them back), fetch their records from
// the CRM plugin in batches of up to 100 with exactly the fields the
// agent's rules and phone selection read, pick and normalise the phone,
// run the rules, check the DND list and hand the call to the scheduler.
//
// Its guarantee: every claimed event ends in a terminal status with a
// reason (called, ignored, skipped, blocked, failed), or goes back to
// pending with a NotBefore and the reason it waits. No error loses one.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// Inbox is the event queue the pipeline works from (store.Store).
type Inbox interface {
	ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, max int) ([]store.Event, error)
	SaveEvents(ctx context.Context, evs []store.Event) error
}

// Plugins finds a CRM plugin and its manifest by name (*pluginhost.Host).
// The manifest's PhoneFields are an agent's phone fields when it sets none.
type Plugins interface {
	CRM(name string) (sdk.CRM, bool)
	Manifest(name string) (sdk.Manifest, bool)
}

// Submitter schedules calls (*scheduler.Scheduler).
type Submitter interface {
	Submit(ctx context.Context, sub scheduler.Submission) (scheduler.Submitted, error)
}

// DND says whether a number is on the do-not-call list (store.Store).
type DND interface {
	IsDND(ctx context.Context, number string) (bool, error)
}

// Config configures New.
type Config struct {
	Config    func() *config.Config // the current config (it may be reloaded)
	Inbox     Inbox
	Plugins   Plugins
	Scheduler Submitter
	DND       DND // nil: no DND check
	// Deleter handles deletions and erasure requests (deletion.go); nil:
	// the Scheduler, when it is one.
	Deleter Deleter
	Logger  hclog.Logger
	Now     func() time.Time
	// Registerer receives the pipeline metrics; nil: a private registry.
	Registerer prometheus.Registerer

	Lease        time.Duration // claim lease (default 2m)
	ClaimMax     int           // events per claim (default 500)
	Workers      int           // groups fetched at once (default 4)
	PollInterval time.Duration // claim again at least this often (default 1s)
	FetchTimeout time.Duration // one FetchRecords call (default 30s)
	// Gather is how long a wake-up waits for more events before claiming
	// (default 25ms).
	Gather time.Duration
	// NotFoundBackoff are the waits between reads of a record the CRM does
	// not serve yet; when they run out the event is skipped.
	NotFoundBackoff []time.Duration // default 2s, 10s, 30s, 60s
	// MaxTries bounds transient retries (exponential from 2s, capped at
	// 5m); then the event fails with the last error, replayable.
	MaxTries int // default 30 (about two hours)
}

// Pipeline is the set of workers moving events from the inbox to the scheduler.
type Pipeline struct {
	cfg  Config
	log  hclog.Logger
	m    *metrics
	wake chan struct{}

	mu       sync.Mutex
	programs map[programKey]*rules.Program
	compiled *config.Config
}

type programKey struct{ agent string }

// New builds a pipeline; Run starts it.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Config == nil || cfg.Inbox == nil || cfg.Plugins == nil || cfg.Scheduler == nil {
		return nil, errors.New("pipeline: Config, Inbox, Plugins and Scheduler are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.ClaimMax <= 0 {
		cfg.ClaimMax = 500
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Gather <= 0 {
		cfg.Gather = 25 * time.Millisecond
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 30 * time.Second
	}
	if cfg.NotFoundBackoff == nil {
		cfg.NotFoundBackoff = []time.Duration{2 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second}
	}
	if cfg.MaxTries <= 0 {
		cfg.MaxTries = 30
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("pipeline: register metrics: %w", err)
	}
	return &Pipeline{cfg: cfg, log: cfg.Logger.Named("pipeline"), m: m, wake: make(chan struct{}, 1)}, nil
}

// Wake asks the workers to claim now. An Inbox that is a store.Wakeups
// (every store.Store) wakes them itself after each commit that made work
// (Changes(store.TopicInbox)); Wake is for the rest.
func (p *Pipeline) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run claims and processes events until ctx ends.
func (p *Pipeline) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	var changes <-chan struct{} // nil: only Wake and the ticker
	if w, ok := p.cfg.Inbox.(store.Wakeups); ok {
		changes = w.Changes(store.TopicInbox)
	}
	for {
		n, err := p.processOnceGuarded(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Error("processing events failed; retrying", "error", err)
		}
		if n == p.cfg.ClaimMax && err == nil {
			continue // more may be due right away
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
			p.gather(ctx)
		case <-p.wake:
			p.gather(ctx)
		case <-t.C:
		}
	}
}

// gather lets a burst of webhooks gather after a wake-up: one claim and
// one save for many events instead of two commits per request, which
// would queue with ingest's commits on the store's single writer.
func (p *Pipeline) gather(ctx context.Context) {
	t := time.NewTimer(p.cfg.Gather)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// save stores what became of claimed events, retrying a store that fails
// (a database that is restarting) with backoff while their lease holds:
// the work is done, and saving it later beats doing it again after the
// lease, when the events would be claimed anew.
func (p *Pipeline) save(ctx context.Context, evs []store.Event, leaseEnd time.Time) error {
	wait := 100 * time.Millisecond
	for {
		err := p.cfg.Inbox.SaveEvents(ctx, evs)
		if err == nil || errors.Is(err, store.ErrNotFound) || ctx.Err() != nil || !p.cfg.Now().Add(wait).Before(leaseEnd) {
			return err
		}
		p.log.Warn("save events failed; retrying while their lease holds", "events", len(evs), "retry_in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// ProcessOnce claims one batch of due events, takes each as far as it can
// go and saves the results in one commit. It returns how many it claimed.
func (p *Pipeline) ProcessOnce(ctx context.Context) (int, error) {
	now := p.cfg.Now()
	evs, err := p.cfg.Inbox.ClaimEvents(ctx, now, p.cfg.Lease, p.cfg.ClaimMax)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	out, erasures := p.process(ctx, p.cfg.Config(), evs)
	if ctx.Err() != nil {
		return len(evs), ctx.Err() // unsaved events come back when their lease ends
	}
	saved := p.cfg.Now().UTC()
	for i := range out {
		out[i].UpdatedAt = saved
	}
	if err := p.save(ctx, out, now.Add(p.cfg.Lease)); err != nil {
		return len(evs), fmt.Errorf("save %d events: %w", len(out), err)
	}
	end := p.cfg.Now()
	for _, ev := range out {
		if ev.Status != store.EventPending {
			p.m.finished.WithLabelValues(ev.Type, ev.Status).Inc()
			p.m.latency.Observe(end.Sub(ev.ReceivedAt).Seconds())
		}
	}
	if len(erasures) > 0 {
		if err := p.eraseAll(ctx, erasures); err != nil {
			return len(evs), err
		}
	}
	return len(evs), nil
}

// program returns the agent's compiled rules for cfg, compiling once per
// config load.
func (p *Pipeline) program(cfg *config.Config, ag *config.Agent) (*rules.Program, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.compiled != cfg {
		p.compiled, p.programs = cfg, map[programKey]*rules.Program{}
	}
	if prog, ok := p.programs[programKey{ag.Name}]; ok {
		return prog, nil
	}
	prog, err := rules.Compile(ag.RulesSpec(cfg.Server))
	if err != nil {
		return nil, fmt.Errorf("agent %s: rules do not compile: %w", ag.Name, err)
	}
	p.programs[programKey{ag.Name}] = prog
	return prog, nil
}
