package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// t0 is Friday 10:30 in Asia/Kolkata.
var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

// listingCRM is the real HubSpot plugin (fetching from the fake HubSpot)
// with a ListRecords of its own over a slice of records, as the SDK
// describes it: [Since, Until), oldest first, Limit a page, the cursor an
// offset.
type listingCRM struct {
	*hubspot.Plugin
	mu      sync.Mutex
	records []sdk.ListedRecord
	reqs    []sdk.ListRequest
	// fail, when set, answers a request instead of the listing.
	fail func(n int, req sdk.ListRequest) error
}

func (c *listingCRM) Describe(ctx context.Context) (sdk.Manifest, error) {
	m, err := c.Plugin.Describe(ctx)
	m.Capabilities = append(m.Capabilities, sdk.CapabilityReconcile)
	return m, err
}

func (c *listingCRM) ListRecords(_ context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, req)
	if c.fail != nil {
		if err := c.fail(len(c.reqs), req); err != nil {
			return sdk.ListResult{}, err
		}
	}
	at := func(r sdk.ListedRecord) time.Time {
		if req.Modified {
			return r.ModifiedAt
		}
		return r.CreatedAt
	}
	var in []sdk.ListedRecord
	for _, r := range c.records {
		if t := at(r); !t.Before(req.Since) && t.Before(req.Until) {
			in = append(in, r)
		}
	}
	slices.SortStableFunc(in, func(a, b sdk.ListedRecord) int { return at(a).Compare(at(b)) })
	off := 0
	if req.Cursor != "" {
		off, _ = strconv.Atoi(req.Cursor)
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 10
	}
	end := min(off+limit, len(in))
	res := sdk.ListResult{Records: in[off:end]}
	if end < len(in) {
		res.Next = strconv.Itoa(end)
	}
	return res, nil
}

func (c *listingCRM) add(id string, created time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, sdk.ListedRecord{ObjectID: id, CreatedAt: created, ModifiedAt: created})
}

func (c *listingCRM) requests() []sdk.ListRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

type plugins map[string]sdk.CRM

func (p plugins) CRM(name string) (sdk.CRM, bool) { c, ok := p[name]; return c, ok }
func (p plugins) Manifest(name string) (sdk.Manifest, bool) {
	c, ok := p[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := c.Describe(context.Background())
	return m, err == nil
}

// env is a reconciler and a pipeline over a real inbox and store, the
// real scheduler and the HubSpot plugin behind real gRPC.
type env struct {
	cfg   *config.Config
	clk   *schedtest.Clock
	db    *bolt.Store
	inbox *bolt.Store
	hs    *hubspottest.Server
	crm   *listingCRM
	p     *pipeline.Pipeline
	r     *reconcile.Reconciler
	// inboxWrap and storeWrap fail on demand.
	inboxWrap *failingInbox
	storeWrap *failingStore
	reg       *prometheus.Registry
}

// gauge reads callgate_leads_unaccounted{integration="hubspot"}.
func (e *env) unaccounted(t *testing.T) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "callgate_leads_unaccounted" {
			for _, m := range mf.GetMetric() {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatal("no callgate_leads_unaccounted")
	return 0
}

const defaultAgents = `
agent "sales" {
  dialer    = "voice"
  variables = { firstname = "contact.firstname ?? 'there'" }
}
`

func newEnv(t *testing.T, reconcileBlock, agents string) *env {
	t.Helper()
	clk := schedtest.NewClock(t0)
	hs := hubspottest.New(hubspottest.Options{Clock: clk.Now})
	t.Cleanup(hs.Close)
	if agents == "" {
		agents = defaultAgents
	}
	src := fmt.Sprintf(`
server { data_dir = %q }
integration "hubspot" {
  access_token = %q
  base_url     = %q
  %s
}
dialer "voice" { type = "log" }
%s
`, t.TempDir(), hubspottest.DefaultToken, hs.URL, reconcileBlock, agents)
	cfg, err := config.LoadBytes("test.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(bolt.Options{Dir: cfg.Server.DataDir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	inbox := db
	t.Cleanup(func() { db.Close() })
	voice, err := dialer.New(cfg.Dialers["voice"], dialer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Store: db, Dialers: map[string]scheduler.Dialer{"voice": voice}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := hubspot.NewWithOptions(hubspot.Options{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	crm := &listingCRM{Plugin: plugin}
	ps := plugins{"hubspot": sdktest.Serve(t, crm)}
	p, err := pipeline.New(pipeline.Config{
		Config: func() *config.Config { return cfg }, Inbox: inbox, Scheduler: sched, DND: db, Now: clk.Now, Plugins: ps,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg, clk: clk, db: db, inbox: inbox, hs: hs, crm: crm, p: p,
		inboxWrap: &failingInbox{Store: inbox}, storeWrap: &failingStore{Store: db}, reg: prometheus.NewRegistry()}
	e.r, err = reconcile.New(reconcile.Config{
		Config: func() *config.Config { return cfg }, Plugins: ps, Inbox: e.inboxWrap, Store: e.storeWrap,
		Now: clk.Now, PageLimit: 2, Registerer: e.reg,
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// failingInbox fails the append number failAt (1-based) once.
type failingInbox struct {
	*bolt.Store
	mu     sync.Mutex
	n      int
	failAt int
}

func (f *failingInbox) AppendEvents(ctx context.Context, evs []store.Event, o store.AppendOptions) (store.AppendResult, error) {
	f.mu.Lock()
	f.n++
	fail := f.n == f.failAt
	f.mu.Unlock()
	if fail {
		return store.AppendResult{}, errors.New("disk full")
	}
	return f.Store.AppendEvents(ctx, evs, o)
}

// failingStore fails RecordListing number failAt once: the kill between
// a page's commit and its checkpoint.
type failingStore struct {
	*bolt.Store
	mu     sync.Mutex
	n      int
	failAt int
}

func (f *failingStore) RecordListing(ctx context.Context, integration, listing string, cp time.Time, recs []store.ListedRecord, prune time.Time) error {
	f.mu.Lock()
	f.n++
	fail := f.n == f.failAt
	f.mu.Unlock()
	if fail {
		return errors.New("killed")
	}
	return f.Store.RecordListing(ctx, integration, listing, cp, recs, prune)
}

// webhookEvent is a HubSpot contact creation as ingest stores it.
func webhookEvent(agent, objectID string) store.Event {
	return store.Event{Key: fmt.Sprintf("hubspot:62515:1:created:%s:%s", objectID, agent), AgentID: agent, Type: "hubspot",
		Integration: "hubspot", EventType: "contact.creation", Kind: "created", ObjectType: "contact", ObjectID: objectID, Account: "62515",
		OccurredAt: t0.Add(-time.Second)}
}

func (e *env) add(t *testing.T, evs ...store.Event) []store.Event {
	t.Helper()
	res, err := e.inbox.AppendEvents(context.Background(), evs, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

func (e *env) pass(t *testing.T) reconcile.PassResult {
	t.Helper()
	res, err := e.r.Pass(context.Background(), "hubspot")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// reconciled returns the reconciled events in the inbox, by object id.
func (e *env) reconciled(t *testing.T) map[string][]store.Event {
	t.Helper()
	evs, _, err := e.inbox.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]store.Event{}
	for _, ev := range evs {
		if ev.Reconciled {
			out[ev.ObjectID] = append(out[ev.ObjectID], ev)
		}
	}
	return out
}

func (e *env) run(t *testing.T) {
	t.Helper()
	for {
		n, err := e.p.ProcessOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

const every = `reconcile {
    every    = "1s"
    lookback = "24h"
  }`

// TestPassRecoversOnlyMissedRecords: of five records created during an
// outage, the two a webhook brought are left alone; the other three
// become reconciled events, found over three pages; the checkpoint then
// stands at now − settle, and a second pass adds nothing.
func TestPassRecoversOnlyMissedRecords(t *testing.T) {
	e := newEnv(t, every, "")
	for i := 1; i <= 5; i++ {
		e.crm.add(strconv.Itoa(i), t0.Add(-time.Duration(6-i)*time.Hour))
	}
	e.crm.add("old", t0.Add(-25*time.Hour))     // before the lookback
	e.crm.add("fresh", t0.Add(-30*time.Second)) // inside the settle delay: the next pass
	e.add(t, webhookEvent("sales", "2"), webhookEvent("sales", "4"))

	res := e.pass(t)
	if res.Listed != 5 || res.Recovered != 3 || res.Pages != 3 {
		t.Errorf("pass = %+v, want 5 listed over 3 pages, 3 recovered", res)
	}
	got := e.reconciled(t)
	if len(got) != 3 || got["1"] == nil || got["3"] == nil || got["5"] == nil {
		t.Fatalf("reconciled events for %v, want 1, 3, 5", keys(got))
	}
	ev := got["3"][0]
	created := t0.Add(-3 * time.Hour)
	if ev.EventType != "contact.reconciled" || ev.Kind != "created" || ev.AgentID != "sales" || ev.Integration != "hubspot" || ev.Type != "hubspot" ||
		ev.Key != fmt.Sprintf("reconcile:hubspot:3:%d", created.UnixMilli()) || !ev.OccurredAt.Equal(created) || ev.Account != "62515" || ev.Status != store.EventPending {
		t.Errorf("reconciled event = %+v", ev)
	}
	reqs := e.crm.requests()
	if !reqs[0].Since.Equal(t0.Add(-24*time.Hour)) || !reqs[0].Until.Equal(t0.Add(-time.Minute)) || reqs[0].ObjectType != "contact" || reqs[0].Modified || reqs[0].Credentials["access_token"] != hubspottest.DefaultToken {
		t.Errorf("first request = %+v: want [now-lookback, now-settle) of contacts, with the credentials", reqs[0])
	}
	cp, err := e.db.Checkpoint(context.Background(), "hubspot", reconcile.Listing("contact", false))
	if err != nil || !cp.Equal(t0.Add(-time.Minute)) {
		t.Errorf("checkpoint = %v %v, want now − settle", cp, err)
	}
	listed, err := e.db.ListedRecords(context.Background(), "hubspot", t0.Add(-24*time.Hour), t0)
	if err != nil || len(listed) != 5 {
		t.Errorf("listed-record log: %d %v, want 5", len(listed), err)
	}
	if n := e.unaccounted(t); n != 0 {
		t.Errorf("leads unaccounted = %v after the pass, want 0", n)
	}

	// Two minutes on: the next pass starts at the checkpoint, finds the
	// record that was settling, and adds nothing twice.
	e.clk.Advance(2 * time.Minute)
	res = e.pass(t)
	if res.Listed != 1 || res.Recovered != 1 {
		t.Errorf("second pass = %+v, want the settling record only", res)
	}
	if last := e.crm.requests()[len(e.crm.requests())-1]; !last.Since.Equal(t0.Add(-time.Minute)) {
		t.Errorf("second pass since %v, want the checkpoint", last.Since)
	}
	if got := e.reconciled(t); len(got) != 4 || len(got["fresh"]) != 1 {
		t.Errorf("after the second pass: %v", keys(got))
	}
}

// TestCheckpointMovesOnlyAfterCommit: a commit that fails on page 2 leaves
// the checkpoint at page 1's last record; the next pass lists from there
// and recovers the rest.
func TestCheckpointMovesOnlyAfterCommit(t *testing.T) {
	e := newEnv(t, every, "")
	for i := 1; i <= 4; i++ {
		e.crm.add(strconv.Itoa(i), t0.Add(-time.Duration(5-i)*time.Hour))
	}
	e.inboxWrap.failAt = 2
	if _, err := e.r.Pass(context.Background(), "hubspot"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("pass err = %v, want the commit's", err)
	}
	cp, _ := e.db.Checkpoint(context.Background(), "hubspot", reconcile.Listing("contact", false))
	if want := t0.Add(-3 * time.Hour); !cp.Equal(want) {
		t.Errorf("checkpoint = %v, want page 1's last record (%v)", cp, want)
	}
	if got := e.reconciled(t); len(got) != 2 {
		t.Errorf("after the failed pass: %v, want page 1's", keys(got))
	}
	res := e.pass(t)
	if last := e.crm.requests()[len(e.crm.requests())-2]; !last.Since.Equal(t0.Add(-3 * time.Hour)) {
		t.Errorf("the next pass listed from %v, want the checkpoint", last.Since)
	}
	if res.Recovered != 2 {
		t.Errorf("next pass = %+v, want the 2 records of the failed page", res)
	}
	if got := e.reconciled(t); len(got) != 4 {
		t.Errorf("in the end: %v, want all 4", keys(got))
	}
}

// TestKillBetweenCommitAndCheckpoint: the events of a page are committed
// but the checkpoint is not (the process died); the next pass re-lists the
// page and the dedupe keys absorb it: each record has one event.
func TestKillBetweenCommitAndCheckpoint(t *testing.T) {
	e := newEnv(t, every, "")
	for i := 1; i <= 3; i++ {
		e.crm.add(strconv.Itoa(i), t0.Add(-time.Duration(4-i)*time.Hour))
	}
	e.storeWrap.failAt = 1
	if _, err := e.r.Pass(context.Background(), "hubspot"); err == nil {
		t.Fatal("pass succeeded, want the checkpoint's error")
	}
	if cp, _ := e.db.Checkpoint(context.Background(), "hubspot", reconcile.Listing("contact", false)); !cp.IsZero() {
		t.Fatalf("checkpoint = %v, want none", cp)
	}
	res := e.pass(t)
	if res.Listed != 3 || res.Recovered != 1 {
		t.Errorf("re-run = %+v: want 3 listed, only the one record of page 2 new", res)
	}
	for id, evs := range e.reconciled(t) {
		if len(evs) != 1 {
			t.Errorf("record %s has %d reconciled events, want 1", id, len(evs))
		}
	}
}

// TestLateWebhookAfterReconciliationCalledOnce: a reconciled event becomes
// a call; the record's webhook arriving late afterwards is the same
// contact and is not called again.
func TestLateWebhookAfterReconciliationCalledOnce(t *testing.T) {
	e := newEnv(t, every, "")
	e.hs.AddContact("1", map[string]any{"firstname": "Ada", "phone": "+91 98765 43210"})
	e.hs.AddContact("9", map[string]any{"firstname": "Bo", "phone": "+91 98765 43211"})
	e.add(t, webhookEvent("sales", "9")) // an earlier webhook: the account is known
	e.crm.add("1", t0.Add(-time.Hour))
	if res := e.pass(t); res.Recovered != 1 {
		t.Fatalf("pass = %+v", res)
	}
	e.run(t)
	rec := e.reconciled(t)["1"][0]
	rec, _ = e.inbox.GetEvent(context.Background(), rec.ID)
	if rec.Status != store.EventCalled || rec.CallID == "" {
		t.Fatalf("reconciled event: %s %q (%s)", rec.Status, rec.CallID, rec.Reason)
	}
	late := e.add(t, webhookEvent("sales", "1"))[0]
	e.run(t)
	late, _ = e.inbox.GetEvent(context.Background(), late.ID)
	if late.CallID != rec.CallID || !strings.Contains(late.Reason, "duplicate of call "+rec.CallID) {
		t.Errorf("late webhook: %s call %q reason %q, want a duplicate of %s", late.Status, late.CallID, late.Reason, rec.CallID)
	}
	calls, _, err := e.db.ListCalls(context.Background(), store.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range calls {
		if c.Source.ObjectID == "1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d calls for contact 1, want 1", n)
	}
	// And a pass after the late webhook adds nothing.
	e.clk.Advance(time.Minute)
	if res := e.pass(t); res.Recovered != 0 {
		t.Errorf("pass after the webhook = %+v", res)
	}
}

// TestEventsPerAgent: every agent the integration serves gets an event;
// an agent of another integration does not.
func TestEventsPerAgent(t *testing.T) {
	e := newEnv(t, every, `
integration "other" {
  type         = "hubspot"
  access_token = "x"
}
agent "sales" {
  dialer = "voice"
}
agent "support" {
  dialer       = "voice"
  integrations = ["hubspot"]
}
agent "elsewhere" {
  dialer       = "voice"
  integrations = ["other"]
}
`)
	e.crm.add("1", t0.Add(-time.Hour))
	e.add(t, webhookEvent("support", "2"))
	e.crm.add("2", t0.Add(-time.Hour)) // reached one agent: has an event, left alone
	if res := e.pass(t); res.Recovered != 2 {
		t.Errorf("pass = %+v, want 2 events (sales, support) for record 1", res)
	}
	var agents []string
	for _, ev := range e.reconciled(t)["1"] {
		agents = append(agents, ev.AgentID)
	}
	slices.Sort(agents)
	if !slices.Equal(agents, []string{"sales", "support"}) {
		t.Errorf("agents = %v", agents)
	}
}

// TestNoAgentLeavesLeadsUnaccounted: records of an integration no agent
// serves get no event, and the gauge says how many.
func TestNoAgentLeavesLeadsUnaccounted(t *testing.T) {
	e := newEnv(t, every, `
integration "other" {
  type         = "hubspot"
  access_token = "x"
}
agent "elsewhere" {
  dialer       = "voice"
  integrations = ["other"]
}
`)
	e.crm.add("1", t0.Add(-time.Hour))
	e.crm.add("2", t0.Add(-2*time.Hour))
	if res := e.pass(t); res.Listed != 2 || res.Recovered != 0 {
		t.Errorf("pass = %+v", res)
	}
	if n := e.unaccounted(t); n != 2 {
		t.Errorf("leads unaccounted = %v, want 2", n)
	}
}

// TestModifiedListing: with modified = true, a record changed after its
// last event gets an updated event; one whose event came after the change
// does not.
func TestModifiedListing(t *testing.T) {
	e := newEnv(t, `reconcile {
    every    = "1s"
    lookback = "24h"
    modified = true
  }`, "")
	e.add(t, webhookEvent("sales", "1"), webhookEvent("sales", "2")) // received at t0
	e.crm.mu.Lock()
	e.crm.records = []sdk.ListedRecord{
		{ObjectID: "1", CreatedAt: t0.Add(-48 * time.Hour), ModifiedAt: t0.Add(30 * time.Minute)},
		{ObjectID: "2", CreatedAt: t0.Add(-48 * time.Hour), ModifiedAt: t0.Add(-time.Hour)},
	}
	e.crm.mu.Unlock()
	e.clk.Advance(time.Hour)
	res := e.pass(t)
	got := e.reconciled(t)
	if res.Recovered != 1 || len(got) != 1 || len(got["1"]) != 1 {
		t.Fatalf("pass = %+v, events %v: want one for record 1", res, keys(got))
	}
	ev := got["1"][0]
	if ev.Kind != "updated" || !strings.HasPrefix(ev.Key, "reconcile-modified:hubspot:1:") || !ev.OccurredAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("event = %+v", ev)
	}
	var modified bool
	for _, r := range e.crm.requests() {
		modified = modified || r.Modified
	}
	if !modified {
		t.Error("no modified listing was asked for")
	}
}

// TestRateLimitedPageRetried: a 429 is waited out and the page asked again.
func TestRateLimitedPageRetried(t *testing.T) {
	e := newEnv(t, every, "")
	e.crm.add("1", t0.Add(-time.Hour))
	e.crm.fail = func(n int, _ sdk.ListRequest) error {
		if n == 1 {
			return sdk.RateLimited(2*time.Second, "ten per second")
		}
		return nil
	}
	if res := e.pass(t); res.Recovered != 1 || len(e.crm.requests()) != 2 {
		t.Errorf("pass = %+v after %d requests", res, len(e.crm.requests()))
	}
}

// withoutReconcile is a plugin whose manifest does not declare the
// reconcile capability (an external plugin built before it existed).
type withoutReconcile struct{ sdk.CRM }

func (w withoutReconcile) Describe(ctx context.Context) (sdk.Manifest, error) {
	m, err := w.CRM.Describe(ctx)
	m.Capabilities = slices.DeleteFunc(slices.Clone(m.Capabilities), func(c string) bool { return c == sdk.CapabilityReconcile })
	return m, err
}

// TestPluginWithoutCapability: the plugin is not asked; the pass says why.
func TestPluginWithoutCapability(t *testing.T) {
	e := newEnv(t, every, "")
	plugin, err := hubspot.NewWithOptions(hubspot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := reconcile.New(reconcile.Config{Config: func() *config.Config { return e.cfg },
		Plugins: plugins{"hubspot": withoutReconcile{sdktest.Serve(t, plugin)}}, Inbox: e.inbox, Store: e.db, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Pass(context.Background(), "hubspot"); !errors.Is(err, reconcile.ErrNotSupported) {
			t.Errorf("err = %v, want ErrNotSupported", err)
		}
	}
	if st := r.Last(); len(st) != 1 || !strings.Contains(st[0].Error, "reconcile capability") {
		t.Errorf("status = %+v", st)
	}
}

// TestRunPassesSoonAfterStart: Run's first pass comes FirstPass after
// start, then one every `every`.
func TestRunPassesSoonAfterStart(t *testing.T) {
	e := newEnv(t, every, "")
	r, err := reconcile.New(reconcile.Config{Config: func() *config.Config { return e.cfg },
		Plugins: plugins{"hubspot": sdktest.Serve(t, e.crm)}, Inbox: e.inbox, Store: e.db, FirstPass: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.crm.requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(e.crm.requests()); n < 2 {
		t.Errorf("%d listings in 10s, want a first pass and one a second later", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRunFollowsReload: a reload that adds the block starts passes at
// once (Wake); one that removes it stops them.
func TestRunFollowsReload(t *testing.T) {
	e := newEnv(t, every, "")
	var cur atomic.Pointer[config.Config]
	off := *e.cfg
	off.Integrations = map[string]*config.Integration{"hubspot": {Name: "hubspot", Type: "hubspot", Credentials: e.cfg.Integrations["hubspot"].Credentials}}
	cur.Store(&off)
	r, err := reconcile.New(reconcile.Config{Config: cur.Load,
		Plugins: plugins{"hubspot": sdktest.Serve(t, e.crm)}, Inbox: e.inbox, Store: e.db, FirstPass: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	if n := len(e.crm.requests()); n != 0 {
		t.Fatalf("%d listings without a reconcile block", n)
	}
	cur.Store(e.cfg)
	r.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.crm.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(e.crm.requests()) == 0 {
		t.Fatal("no pass after the reload added the block")
	}
	cur.Store(&off)
	r.Wake()
	time.Sleep(100 * time.Millisecond)
	n := len(e.crm.requests())
	time.Sleep(1500 * time.Millisecond)
	if m := len(e.crm.requests()); m != n {
		t.Errorf("%d more listings after the reload removed the block", m-n)
	}
}
