package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// t0 is Friday 10:30 in Asia/Kolkata, inside the agents' 09:00–18:00 window.
var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

type plugins map[string]sdk.CRM

func (p plugins) CRM(name string) (sdk.CRM, bool) { c, ok := p[name]; return c, ok }

// Manifest describes the plugin on each call; the host keeps the
// manifest of the plugin's last start.
func (p plugins) Manifest(name string) (sdk.Manifest, bool) {
	c, ok := p[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := c.Describe(context.Background())
	return m, err == nil
}

// env is a pipeline over a real inbox and store, the real scheduler, the
// real HubSpot plugin behind real gRPC, and a fake HubSpot.
type env struct {
	cfg   *config.Config
	clk   *schedtest.Clock
	db    *bolt.Store
	inbox *bolt.Store
	hs    *hubspottest.Server
	p     *pipeline.Pipeline
	pcfg  pipeline.Config // what p was built with
}

func newEnv(t *testing.T, token string) *env {
	t.Helper()
	return newEnvWith(t, token, "", nil)
}

// newEnvWith is newEnv with more config and more plugins.
func newEnvWith(t *testing.T, token, extraHCL string, extra plugins) *env {
	t.Helper()
	clk := schedtest.NewClock(t0)
	hs := hubspottest.New(hubspottest.Options{Clock: clk.Now})
	t.Cleanup(hs.Close)
	if token == "" {
		token = hubspottest.DefaultToken
	}
	src := fmt.Sprintf(`
server { data_dir = %q }
integration "hubspot" {
  access_token = %q
  base_url     = %q
}
dialer "voice" { type = "log" }
agent "sales" {
  dialer       = "voice"
  window {
    start = "09:00"
    end   = "18:00"
  }
  variables = { firstname = "contact.firstname ?? 'there'" }
}
agent "strict" {
  dialer             = "voice"
  variables          = { company = "contact.company", size = "int(contact.company) > 1 ? 'big' : 'small'" }
  required_variables = ["company"]
}
agent "updates" {
  dialer = "voice"
  when   = "event.kind == 'updated' && event.property == 'lifecyclestage' && event.value == 'lead'"
}
%s
`, t.TempDir(), token, hs.URL, extraHCL)
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
	ps := plugins{"hubspot": sdktest.Serve(t, plugin)}
	for name, crm := range extra {
		ps[name] = crm
	}
	pcfg := pipeline.Config{
		Config: func() *config.Config { return cfg }, Inbox: inbox, Scheduler: sched, DND: db, Now: clk.Now,
		Plugins: ps,
	}
	p, err := pipeline.New(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{cfg: cfg, clk: clk, db: db, inbox: inbox, hs: hs, p: p, pcfg: pcfg}
}

// event is a HubSpot contact event for agent as ingest stores it.
func event(agent, kind, objectID string) store.Event {
	typ := map[string]string{"created": "contact.creation", "updated": "contact.propertyChange"}[kind]
	return store.Event{Key: fmt.Sprintf("hubspot:62515:1:%s:%s:%s", kind, objectID, agent), AgentID: agent, Type: "hubspot",
		Integration: "hubspot", EventType: typ, Kind: kind, ObjectType: "contact", ObjectID: objectID, Account: "62515",
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

// run processes until nothing is due now.
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

func (e *env) get(t *testing.T, id string) store.Event {
	t.Helper()
	ev, err := e.inbox.GetEvent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestRecordToCall(t *testing.T) {
	e := newEnv(t, "")
	e.hs.AddContact("1", map[string]any{"firstname": "Ada", "mobilephone": "+1 415 555 0123", "phone": "98765 43210"})
	e.hs.AddContact("2", map[string]any{"firstname": "Bo", "phone": "098765 43210"})
	e.hs.AddContact("3", map[string]any{"firstname": "Cy", "mobilephone": "12345"})
	e.hs.AddContact("4", map[string]any{"firstname": "Di"})
	e.hs.AddContact("5", map[string]any{"phone": "+91 98765 00005", "company": "Acme"})
	e.hs.AddContact("6", map[string]any{"phone": "+91 98765 00006"})
	e.hs.AddContact("7", map[string]any{"phone": "+91 98765 00007"})
	e.hs.AddContact("8", map[string]any{"phone": "+91 98765 00008", "lifecyclestage": "lead"})
	if err := e.db.AddDND(context.Background(), "+919876500007", "asked not to be called", t0); err != nil {
		t.Fatal(err)
	}
	upd := event("updates", "updated", "8")
	upd.Property, upd.Value = "lifecyclestage", "lead"
	tests := []struct {
		name   string
		ev     store.Event
		status string
		reason string
		number string
		vars   map[string]string
	}{
		{"first valid phone field wins", event("sales", "created", "1"), store.EventCalled, "", "+14155550123", map[string]string{"firstname": "Ada"}},
		{"national number in the default region", event("sales", "created", "2"), store.EventCalled, "", "+919876543210", map[string]string{"firstname": "Bo"}},
		{"invalid phone", event("sales", "created", "3"), store.EventSkipped, `invalid phone number "12345" in mobilephone`, "", nil},
		{"no phone", event("sales", "created", "4"), store.EventSkipped, "no phone number: the record has none of mobilephone, phone", "", nil},
		{"when is false", event("sales", "updated", "1"), store.EventIgnored, "when", "", nil},
		{"variable runtime error", event("strict", "created", "5"), store.EventSkipped, "variable size", "", nil},
		{"required variable missing", event("strict", "created", "6"), store.EventSkipped, "required variable company is empty", "", nil},
		{"DND", event("sales", "created", "7"), store.EventBlocked, "+919876500007 is on the DND list", "", nil},
		{"property change rule", upd, store.EventCalled, "", "+919876500008", map[string]string{}},
	}
	var ids []string
	for _, tc := range tests {
		ids = append(ids, e.add(t, tc.ev)[0].ID)
	}
	e.run(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := e.get(t, ids[i])
			if ev.Status != tc.status || !strings.Contains(ev.Reason, tc.reason) || ev.Reason == "" {
				t.Fatalf("status %s reason %q; want %s containing %q", ev.Status, ev.Reason, tc.status, tc.reason)
			}
			if tc.status != store.EventCalled {
				return
			}
			c, err := e.db.GetCall(context.Background(), ev.CallID)
			if err != nil {
				t.Fatal(err)
			}
			if c.ToNumber != tc.number || fmt.Sprint(c.Variables) != fmt.Sprint(tc.vars) {
				t.Fatalf("call to %s vars %v; want %s %v", c.ToNumber, c.Variables, tc.number, tc.vars)
			}
			if c.Source.EventID != ev.ID || c.Source.ObjectID != ev.ObjectID || c.Source.Integration != "hubspot" || c.Status != store.CallScheduled {
				t.Fatalf("call = %+v", c)
			}
		})
	}
	if n, _ := e.inbox.PendingEvents(context.Background()); n != 0 {
		t.Fatalf("%d events still pending", n)
	}
}

func TestFetchBatchesExactFields(t *testing.T) {
	e := newEnv(t, "")
	var evs []store.Event
	for i := range 150 {
		id := e.hs.AddContact(fmt.Sprint(1000+i), map[string]any{"firstname": "N", "phone": fmt.Sprintf("+91 98765 %05d", i)})
		evs = append(evs, event("sales", "created", id))
	}
	e.add(t, evs...)
	e.run(t)
	st := e.hs.Stats()
	if st.BatchRead != 2 || st.MaxBatchInputs > pipeline.MaxFetchIDs || st.BatchReadIDs != 150 {
		t.Fatalf("batch reads %d (max %d inputs, %d ids); want 2 of at most 100", st.BatchRead, st.MaxBatchInputs, st.BatchReadIDs)
	}
	for _, r := range e.hs.Requests() {
		if strings.Contains(r.Path, "batch/read") {
			for _, f := range []string{`"firstname"`, `"mobilephone"`, `"phone"`} {
				if !strings.Contains(string(r.Body), f) {
					t.Fatalf("batch read does not ask for %s: %s", f, r.Body)
				}
			}
			if strings.Contains(string(r.Body), `"company"`) {
				t.Fatalf("batch read asks for fields no rule of agent sales reads: %s", r.Body)
			}
		}
	}
	called, _, _ := e.inbox.ListEvents(context.Background(), store.EventFilter{Status: store.EventCalled, Limit: 1000})
	if len(called) != 150 {
		t.Fatalf("%d of 150 events called", len(called))
	}
}

func TestNotYetVisible(t *testing.T) {
	t.Run("appears after two misses", func(t *testing.T) {
		e := newEnv(t, "")
		e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
		e.hs.HideFor("1", 2)
		id := e.add(t, event("sales", "created", "1"))[0].ID
		for _, wait := range []time.Duration{0, 2 * time.Second, 10 * time.Second} {
			e.clk.Advance(wait)
			e.run(t)
		}
		if ev := e.get(t, id); ev.Status != store.EventCalled {
			t.Fatalf("status %s (%s), want called", ev.Status, ev.Reason)
		}
	})
	t.Run("never appears", func(t *testing.T) {
		e := newEnv(t, "")
		id := e.add(t, event("sales", "created", "404"))[0].ID
		e.run(t)
		ev := e.get(t, id)
		if ev.Status != store.EventPending || !strings.Contains(ev.Reason, "not found yet") {
			t.Fatalf("after the first miss: %s %q", ev.Status, ev.Reason)
		}
		for _, wait := range []time.Duration{2, 10, 30, 60} {
			e.clk.Advance(wait * time.Second)
			e.run(t)
		}
		ev = e.get(t, id)
		if ev.Status != store.EventSkipped || !strings.Contains(ev.Reason, "record not found") {
			t.Fatalf("after about a minute: %s %q, want skipped", ev.Status, ev.Reason)
		}
	})
}

func TestFetchErrors(t *testing.T) {
	t.Run("rate limited waits retry-after", func(t *testing.T) {
		e := newEnv(t, "")
		e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
		e.hs.FailNextWith(429, map[string]string{"Retry-After": "7"}, "")
		id := e.add(t, event("sales", "created", "1"))[0].ID
		e.run(t)
		ev := e.get(t, id)
		wait := ev.NotBefore.Sub(t0)
		if ev.Status != store.EventPending || wait < 7*time.Second || !strings.Contains(ev.Reason, "rate limit") {
			t.Fatalf("after a 429 with Retry-After 7: %s, waits %s (%s)", ev.Status, wait, ev.Reason)
		}
		e.clk.Advance(wait - time.Second)
		e.run(t)
		if ev := e.get(t, id); ev.Status != store.EventPending {
			t.Fatal("retried before Retry-After")
		}
		e.clk.Advance(time.Second)
		e.run(t)
		if ev := e.get(t, id); ev.Status != store.EventCalled {
			t.Fatalf("after the wait: %s %q", ev.Status, ev.Reason)
		}
	})
	t.Run("transient backs off then gives up", func(t *testing.T) {
		e := newEnv(t, "")
		e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
		e.hs.FailNext(100, 502)
		id := e.add(t, event("sales", "created", "1"))[0].ID
		var waits []time.Duration
		for range 40 {
			e.run(t)
			ev := e.get(t, id)
			if ev.Status != store.EventPending {
				break
			}
			w := ev.NotBefore.Sub(e.clk.Now())
			waits = append(waits, w)
			e.clk.Advance(w)
		}
		ev := e.get(t, id)
		if ev.Status != store.EventFailed || !strings.Contains(ev.Reason, "gave up after 30 tries") {
			t.Fatalf("status %s %q", ev.Status, ev.Reason)
		}
		if waits[0] != 2*time.Second || waits[1] != 4*time.Second || waits[len(waits)-1] != 5*time.Minute {
			t.Fatalf("backoff %v", waits)
		}
	})
	t.Run("auth fails naming the integration, replay works", func(t *testing.T) {
		e := newEnv(t, "pat-na1-wrong")
		e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
		id := e.add(t, event("sales", "created", "1"))[0].ID
		e.run(t)
		ev := e.get(t, id)
		if ev.Status != store.EventFailed || !strings.Contains(ev.Reason, "integration hubspot: credentials rejected") {
			t.Fatalf("status %s %q", ev.Status, ev.Reason)
		}
		e.cfg.Integrations["hubspot"].Credentials["access_token"] = hubspottest.DefaultToken
		if _, err := e.inbox.ReplayEvent(context.Background(), id, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		if ev := e.get(t, id); ev.Status != store.EventCalled || len(ev.History) != 1 {
			t.Fatalf("after replay: %s %q history %v", ev.Status, ev.Reason, ev.History)
		}
	})
}

func TestOneCallPerContact(t *testing.T) {
	e := newEnv(t, "")
	e.hs.AddContact("1", map[string]any{"firstname": "Ada", "phone": "+91 98765 43210", "lifecyclestage": "lead"})
	created := event("sales", "created", "1")
	changed := event("sales", "updated", "1")
	changed.Property, changed.Value = "lifecyclestage", "lead"
	// sales calls on creation only; "updates" would call on the change —
	// make sales call on both so the pair reaches the scheduler twice.
	e.cfg.Agents["sales"].When = config.Expr{Source: "event.kind in ['created', 'updated']"}
	res, err := e.inbox.AppendEvents(context.Background(), []store.Event{created, changed, created}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 {
		t.Fatalf("redelivery not deduplicated in the inbox: %+v", res)
	}
	e.run(t)
	first, second := e.get(t, res.Events[0].ID), e.get(t, res.Events[1].ID)
	if first.Status != store.EventCalled || second.Status != store.EventCalled || first.CallID != second.CallID {
		t.Fatalf("events: %s %s / %s %s", first.Status, first.CallID, second.Status, second.CallID)
	}
	if !strings.Contains(second.Reason, "duplicate of call "+first.CallID) {
		t.Fatalf("second reason %q", second.Reason)
	}
	calls, _, err := e.db.ListCalls(context.Background(), store.CallFilter{})
	if err != nil || len(calls) != 1 {
		t.Fatalf("%d calls (%v), want 1", len(calls), err)
	}
}
