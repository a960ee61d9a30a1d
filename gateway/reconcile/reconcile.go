// Package reconcile finds the CRM records no webhook brought. For each
// integration with a reconcile block, a pass asks the plugin (ListRecords)
// for the records created (and, with modified, changed) since a durable
// checkpoint, page by page, and appends an event marked reconciled for each
// record that has no event in the inbox, for every agent the integration
// serves. The events take the webhook's road from there: the pipeline,
// the agent's rules and the per-contact call dedupe. The checkpoint moves
// only after a page's events are committed, so a crash re-lists a page and
// the events' dedupe keys absorb the repeat.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// Plugins gives the CRM plugins (*pluginhost.Host).
type Plugins interface {
	CRM(name string) (sdk.CRM, bool)
	Manifest(name string) (sdk.Manifest, bool)
}

// Inbox takes the recovered events (store.Store).
type Inbox interface {
	AppendEvents(ctx context.Context, evs []store.Event, o store.AppendOptions) (store.AppendResult, error)
}

// Store keeps the checkpoints and the listed records and answers which
// records have events (store.Store).
type Store interface {
	Checkpoint(ctx context.Context, integration, listing string) (time.Time, error)
	RecordListing(ctx context.Context, integration, listing string, checkpoint time.Time, recs []store.ListedRecord, prune time.Time) error
	LatestEvents(ctx context.Context, integration, objectType string, objectIDs []string) (map[string]time.Time, error)
	RecentAccount(ctx context.Context, integration string) (string, error)
	Unaccounted(ctx context.Context, integration string, since, until time.Time) (int, error)
}

// Defaults.
const (
	DefaultFirstPass = 5 * time.Second // from start (or a reload adding the block) to the first pass
	DefaultPageLimit = 100             // records per ListRecords page (the SDK's maximum)
	// MaxPages bounds one listing of one pass; the next pass goes on
	// from the checkpoint.
	MaxPages = 1000
	// maxRateWait is the longest a pass waits for a CRM that answered
	// 429 before it leaves the rest to the next pass.
	maxRateWait = time.Minute
	rateRetries = 3
)

// Config configures New.
type Config struct {
	Config  func() *config.Config
	Plugins Plugins
	Inbox   Inbox
	Store   Store
	// Accepted is called after a page's events were committed (wakes the
	// pipeline); may be nil.
	Accepted   func()
	Logger     hclog.Logger          // default: discard
	Registerer prometheus.Registerer // default: a private registry
	Now        func() time.Time      // default time.Now
	FirstPass  time.Duration         // default DefaultFirstPass
	PageLimit  int                   // default DefaultPageLimit
	// Sleep waits between rate-limited retries; default: a timer that
	// ends with ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Reconciler runs the passes.
type Reconciler struct {
	c    Config
	log  hclog.Logger
	m    *metrics
	wake chan struct{}

	mu      sync.Mutex
	warned  map[string]bool // integrations whose plugin cannot list, warned about once
	last    map[string]Status
	running map[string]bool
}

// Status is the outcome of an integration's last pass, for the audit.
type Status struct {
	Integration string    `json:"integration"`
	At          time.Time `json:"at"`
	Listed      int       `json:"listed"`
	Recovered   int       `json:"recovered"`
	Error       string    `json:"error,omitempty"`
}

// New builds a reconciler; Run starts it.
func New(c Config) (*Reconciler, error) {
	if c.Config == nil || c.Plugins == nil || c.Inbox == nil || c.Store == nil {
		return nil, errors.New("reconcile: Config, Plugins, Inbox and Store are required")
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.FirstPass <= 0 {
		c.FirstPass = DefaultFirstPass
	}
	if c.PageLimit <= 0 || c.PageLimit > DefaultPageLimit {
		c.PageLimit = DefaultPageLimit
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	m, err := newMetrics(c.Registerer)
	if err != nil {
		return nil, err
	}
	return &Reconciler{c: c, log: c.Logger.Named("reconcile"), m: m, wake: make(chan struct{}, 1),
		warned: map[string]bool{}, last: map[string]Status{}, running: map[string]bool{}}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wake has Run look at the config again (after a reload).
func (r *Reconciler) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Last returns the outcome of each integration's last pass, by name.
func (r *Reconciler) Last() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.last))
	for _, s := range r.last {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.Integration < b.Integration {
			return -1
		}
		if a.Integration > b.Integration {
			return 1
		}
		return 0
	})
	return out
}

// Run runs a pass per integration with a reconcile block, FirstPass after
// start and then every reconcile.every, until ctx ends. The schedule keeps
// to the wall clock; passes read their range from Config.Now.
func (r *Reconciler) Run(ctx context.Context) error {
	next := map[string]time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		cfg := r.c.Config()
		now := time.Now()
		wait := time.Minute
		for name := range next {
			if in := cfg.Integrations[name]; in == nil || in.Reconcile == nil {
				delete(next, name)
			}
		}
		for _, name := range sortedIntegrations(cfg) {
			rc := cfg.Integrations[name].Reconcile
			due, ok := next[name]
			if !ok {
				due = now.Add(r.c.FirstPass)
			}
			if due.After(now.Add(rc.Every)) { // the reload shortened every
				due = now.Add(rc.Every)
			}
			if !now.Before(due) {
				if _, err := r.Pass(ctx, name); err != nil && ctx.Err() == nil && !errors.Is(err, ErrNotSupported) { // that one is warned about once
					r.log.Warn("reconciliation pass failed; the next pass goes on from the checkpoint", "integration", name, "error", err)
				}
				if ctx.Err() != nil {
					return nil
				}
				now = time.Now()
				due = now.Add(rc.Every)
			}
			next[name] = due
			wait = min(wait, due.Sub(now))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-r.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	}
}

func sortedIntegrations(cfg *config.Config) []string {
	var out []string
	for name, in := range cfg.Integrations {
		if in.Reconcile != nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// PassResult counts what one pass did.
type PassResult struct {
	Listed    int // records the CRM listed (a record listed by both listings counts twice)
	Recovered int // events appended for records without one (one per agent)
	Pages     int
}

// ErrNotSupported is returned by Pass for an integration whose plugin does
// not declare the reconcile capability.
var ErrNotSupported = errors.New("the plugin cannot list records (no reconcile capability)")

// Pass runs one reconciliation pass of integration now. Two passes of one
// integration never run at once (the second returns at once, doing nothing).
func (r *Reconciler) Pass(ctx context.Context, integration string) (PassResult, error) {
	r.mu.Lock()
	if r.running[integration] {
		r.mu.Unlock()
		return PassResult{}, nil
	}
	r.running[integration] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, integration)
		r.mu.Unlock()
	}()

	res, err := r.pass(ctx, integration)
	st := Status{Integration: integration, At: r.c.Now().UTC(), Listed: res.Listed, Recovered: res.Recovered}
	if !errors.Is(err, ErrNotSupported) {
		r.m.passes.WithLabelValues(integration).Inc()
		if err != nil {
			r.m.errors.WithLabelValues(integration).Inc()
		}
	}
	if err != nil {
		st.Error = err.Error()
	}
	r.mu.Lock()
	r.last[integration] = st
	r.mu.Unlock()
	if res.Recovered > 0 {
		r.log.Info("reconciliation recovered events for records no webhook brought", "integration", integration, "listed", res.Listed, "events", res.Recovered)
	} else {
		r.log.Debug("reconciliation pass", "integration", integration, "listed", res.Listed)
	}
	return res, err
}

func (r *Reconciler) pass(ctx context.Context, name string) (PassResult, error) {
	cfg := r.c.Config()
	in := cfg.Integrations[name]
	if in == nil || in.Reconcile == nil {
		return PassResult{}, fmt.Errorf("integration %q has no reconcile block", name)
	}
	m, _ := r.c.Plugins.Manifest(in.Type)
	crm, ok := r.c.Plugins.CRM(in.Type)
	if !ok || !slices.Contains(m.Capabilities, sdk.CapabilityReconcile) {
		r.mu.Lock()
		warn := !r.warned[name]
		r.warned[name] = true
		r.mu.Unlock()
		if warn {
			r.log.Warn("integration has a reconcile block but its plugin cannot list records (no reconcile capability): it is not reconciled", "integration", name, "plugin", in.Type)
		}
		return PassResult{}, ErrNotSupported
	}
	var agents []string
	for _, an := range sortedKeys(cfg.Agents) {
		if got, ok := cfg.IntegrationFor(cfg.Agents[an], in.Type); ok && got.Name == name {
			agents = append(agents, an)
		}
	}
	account, err := r.c.Store.RecentAccount(ctx, name)
	if err != nil {
		return PassResult{}, err
	}
	rc := in.Reconcile
	now := r.c.Now().UTC()
	until := now.Add(-rc.Settle)
	l := lister{r: r, crm: crm, in: in, agents: agents, account: account, now: now, until: until,
		prune: now.Add(-max(store.ListedRetention, rc.Lookback))}
	var res PassResult
	for _, obj := range rc.Objects {
		if err := l.listing(ctx, obj, false, &res); err != nil {
			return res, err
		}
		if rc.Modified {
			if err := l.listing(ctx, obj, true, &res); err != nil {
				return res, err
			}
		}
	}
	n, err := r.c.Store.Unaccounted(ctx, name, now.Add(-rc.Lookback), until)
	if err != nil {
		return res, err
	}
	r.m.unaccounted.WithLabelValues(name).Set(float64(n))
	return res, nil
}

// lister runs the listings of one pass.
type lister struct {
	r          *Reconciler
	crm        sdk.CRM
	in         *config.Integration
	agents     []string
	account    string
	now, until time.Time
	prune      time.Time
}

// Listing returns the checkpoint name of one listing.
func Listing(objectType string, modified bool) string {
	if modified {
		return store.ListingModified + ":" + objectType
	}
	return store.ListingCreated + ":" + objectType
}

func (l *lister) listing(ctx context.Context, obj string, modified bool, res *PassResult) error {
	r, name := l.r, l.in.Name
	listing := Listing(obj, modified)
	since, err := r.c.Store.Checkpoint(ctx, name, listing)
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = l.now.Add(-l.in.Reconcile.Lookback)
	}
	if !since.Before(l.until) {
		return nil
	}
	cursor := ""
	for page := 0; page < MaxPages; page++ {
		req := sdk.ListRequest{Credentials: sdk.Credentials(l.in.Credentials), ObjectType: obj,
			Since: since, Until: l.until, Modified: modified, Cursor: cursor, Limit: r.c.PageLimit}
		got, err := l.list(ctx, req)
		if err != nil {
			return fmt.Errorf("list %s records %s from %s to %s: %w", obj, listing, since.Format(time.RFC3339), l.until.Format(time.RFC3339), err)
		}
		res.Pages++
		res.Listed += len(got.Records)
		r.m.listed.WithLabelValues(name).Add(float64(len(got.Records)))
		n, err := l.appendMissing(ctx, obj, modified, got.Records)
		if err != nil {
			return err
		}
		res.Recovered += n
		r.m.recovered.WithLabelValues(name).Add(float64(n))
		// The page's events are committed: now the checkpoint may move.
		checkpoint := l.until
		if got.Next != "" {
			checkpoint = since
			if k := len(got.Records); k > 0 {
				checkpoint = recordTime(got.Records[k-1], modified)
			}
		}
		logged := make([]store.ListedRecord, 0, len(got.Records))
		for _, rec := range got.Records {
			logged = append(logged, store.ListedRecord{Integration: name, ObjectType: obj, ObjectID: rec.ObjectID, CreatedAt: rec.CreatedAt.UTC()})
		}
		if err := r.c.Store.RecordListing(ctx, name, listing, checkpoint, logged, l.prune); err != nil {
			return err
		}
		if n > 0 && r.c.Accepted != nil {
			r.c.Accepted()
		}
		if got.Next == "" {
			return nil
		}
		if got.Next == cursor {
			return fmt.Errorf("the plugin returned the same cursor twice (%q): listing stopped", cursor)
		}
		cursor = got.Next
	}
	r.log.Warn("reconciliation listing stopped after the page limit; the next pass goes on from the checkpoint", "integration", name, "listing", listing, "pages", MaxPages)
	return nil
}

// list calls ListRecords, waiting out a CRM's rate limit a few times.
func (l *lister) list(ctx context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	for try := 0; ; try++ {
		got, err := l.crm.ListRecords(ctx, req)
		if err == nil {
			return got, nil
		}
		var se *sdk.Error
		if try >= rateRetries || !errors.As(err, &se) || se.Class != sdk.ClassRateLimited {
			return sdk.ListResult{}, err
		}
		wait := min(max(se.RetryAfter, time.Second), maxRateWait)
		if err := l.r.c.Sleep(ctx, wait); err != nil {
			return sdk.ListResult{}, err
		}
	}
}

func recordTime(rec sdk.ListedRecord, modified bool) time.Time {
	if modified && !rec.ModifiedAt.IsZero() {
		return rec.ModifiedAt.UTC()
	}
	return rec.CreatedAt.UTC()
}

// appendMissing appends an event per agent for each record of a page that no
// event covers: for the created listing, any event of the record; for the
// modified listing, an event received at or after the modification.
func (l *lister) appendMissing(ctx context.Context, obj string, modified bool, recs []sdk.ListedRecord) (int, error) {
	if len(recs) == 0 || len(l.agents) == 0 {
		return 0, nil
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ObjectID
	}
	latest, err := l.r.c.Store.LatestEvents(ctx, l.in.Name, obj, ids)
	if err != nil {
		return 0, err
	}
	kind, prefix := "created", "reconcile"
	if modified {
		kind, prefix = "updated", "reconcile-modified"
	}
	var evs []store.Event
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.ObjectID == "" || seen[rec.ObjectID] {
			continue
		}
		seen[rec.ObjectID] = true
		at := recordTime(rec, modified)
		if last, ok := latest[rec.ObjectID]; ok && (!modified || !last.Before(at.Truncate(time.Millisecond))) {
			continue
		}
		for _, agent := range l.agents {
			evs = append(evs, store.Event{
				Key:     fmt.Sprintf("%s:%s:%s:%d", prefix, l.in.Name, rec.ObjectID, at.UnixMilli()),
				AgentID: agent, Type: l.in.Type, Integration: l.in.Name,
				EventType: obj + ".reconciled", Kind: kind, ObjectType: obj, ObjectID: rec.ObjectID,
				Account: l.account, OccurredAt: at, Reconciled: true,
			})
		}
	}
	if len(evs) == 0 {
		return 0, nil
	}
	got, err := l.r.c.Inbox.AppendEvents(ctx, evs, store.AppendOptions{Now: l.r.c.Now()})
	if err != nil {
		return 0, fmt.Errorf("commit recovered events: %w", err)
	}
	return got.Accepted + got.Ignored, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
