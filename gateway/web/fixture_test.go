package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/web"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

const adminToken = "test-admin-token-0123456789"

func testConfig(publicURL string) string {
	sum := sha256.Sum256([]byte(adminToken))
	if publicURL != "" {
		publicURL = fmt.Sprintf("public_url = %q", publicURL)
	}
	return fmt.Sprintf(`
server {
  %s
  default_timezone   = "Asia/Kolkata"
  default_region     = "IN"
  admin_token_sha256 = [%q]
}
integration "hubspot" {
  access_token = "t"
  reconcile {
    every = "15m"
  }
}
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  variables = {
    firstname = "contact.firstname ?? 'there'"
    name      = "contact.first_name ?? ''"
  }
}
agent "lsq-intro" {
  dialer       = "log"
  integrations = ["lsq"]
}
`, publicURL, hex.EncodeToString(sum[:]))
}

// rulesTester dry-runs an agent's rules with the rules engine's Try, as
// the gateway's rules test does.
type rulesTester struct{ cfg *config.Config }

func (rt rulesTester) TestRules(_ context.Context, req api.RulesTest) (api.RulesReport, error) {
	ag := rt.cfg.Agents[req.AgentID]
	spec := rules.Spec{When: ag.When.Source, Variables: map[string]string{}, Required: ag.RequiredVariables}
	for k, v := range ag.Variables {
		spec.Variables[k] = v.Source
	}
	out := api.RulesReport{Agent: ag.Name, PhoneFields: ag.PhoneFields, PhoneFieldsFrom: "agent"}
	record := req.Record
	if req.RecordID != "" {
		fields, ok := crmRecords[req.RecordID]
		if !ok {
			return out, sdk.NotFound("hubspot: contact %s does not exist", req.RecordID)
		}
		record, _ = json.Marshal(map[string]any{"object_id": req.RecordID, "fields": fields})
		out.ReadFrom, out.RecordFields = "integration hubspot", fields
	}
	rep, err := rules.Try(spec, rules.Trial{Record: record, Event: req.Event, PhoneFields: ag.PhoneFields})
	out.Report = rep
	return out, err
}

// crmRecords are the records the HubSpot account holds, by id, for Try
// the rules with a record id.
var crmRecords = map[string]map[string]any{
	"1001": {"firstname": "grace", "mobilephone": "+14155550123"},
}

// fieldWarnings are the real field check's findings on the test config
// against accountFields.
type fieldWarnings struct{ config.FieldCheck }

func (w fieldWarnings) AgentWarnings() map[string][]string { return w.ByAgent() }

func checkFields(cfg *config.Config) fieldWarnings {
	fc := config.CheckFields(context.Background(), cfg, func(ctx context.Context, in string) ([]config.Property, error) {
		fs, err := accountFields{}.ListFields(ctx, in, "")
		props := make([]config.Property, len(fs))
		for i, f := range fs {
			props[i] = config.Property{Name: f.Name, Label: f.Label}
		}
		return props, err
	})
	return fieldWarnings{fc}
}

// credentialChecks answers credential checks as the CRMs would: HubSpot
// accepts the token, LeadSquared cannot be reached. It counts the checks.
type credentialChecks struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *credentialChecks) CheckCredentials(_ context.Context, integration string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[integration]++
	if integration == "lsq" {
		return sdk.Transient("leadsquared: could not reach api.leadsquared.com: connection refused")
	}
	return nil
}

func (c *credentialChecks) count(integration string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[integration]
}

// runningPlugins is the plugin host with the built-in plugins running:
// their status and manifests come from the real plugins' Describe.
type runningPlugins map[string]sdk.CRM

func newRunningPlugins() runningPlugins {
	return runningPlugins{"hubspot": hubspot.New(), "leadsquared": leadsquared.New()}
}

func (p runningPlugins) Manifest(name string) (sdk.Manifest, bool) {
	crm, ok := p[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := crm.Describe(context.Background())
	return m, err == nil
}

func (p runningPlugins) Status() []api.PluginStatus {
	var out []api.PluginStatus
	for _, name := range []string{"hubspot", "leadsquared"} {
		m, _ := p.Manifest(name)
		out = append(out, api.PluginStatus{Name: name, Version: m.Version, Source: "builtin", State: "running",
			Manifest: &api.Manifest{DisplayName: m.DisplayName, ProtocolVersion: m.ProtocolVersion,
				EventTypes: m.EventTypes, Capabilities: m.Capabilities, ContentTypes: m.ContentTypes, PhoneFields: m.PhoneFields}})
	}
	return out
}

// accountFields answers field listings as a HubSpot account would.
type accountFields struct{}

func (accountFields) ListFields(_ context.Context, integration, _ string) ([]sdk.Field, error) {
	if integration != "hubspot" {
		return nil, sdk.Auth("leadsquared: read lead fields: the access key was rejected (401)")
	}
	return []sdk.Field{
		{Name: "firstname", Label: "First Name", Type: sdk.TypeString},
		{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: sdk.TypeString, Options: []sdk.FieldOption{
			{Value: "lead", Label: "Lead"}, {Value: "customer", Label: "Customer"}}},
	}, nil
}

// fixture is a dashboard over a real store and inbox.
type fixture struct {
	db    *bolt.Store
	inbox *bolt.Store
	srv   *httptest.Server
	now   time.Time
	// refusals is what the webhook endpoints refused (empty until a test adds).
	refusals *refused.Log
	sent     *sentWebhooks
	checks   *credentialChecks
}

// sentWebhooks records the dashboard's test webhooks as the gateway would
// take them: 1 event received.
type sentWebhooks struct {
	mu   sync.Mutex
	sent []string // "agent contact"
}

func (s *sentWebhooks) SendTestWebhook(_ context.Context, agent, contact string) (ingest.WebhookReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, agent+" "+contact)
	return ingest.WebhookReply{Status: "done", Message: "1 event received", Accepted: 1}, nil
}

func (s *sentWebhooks) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

func newFixture(tb testing.TB, publicURL string) *fixture {
	tb.Helper()
	db, err := bolt.Open(bolt.Options{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	inbox := db
	tb.Cleanup(func() { inbox.Close() })
	// The real scheduler, not running: cancel needs only its store side.
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.LoadBytes("test.hcl", []byte(testConfig(publicURL)))
	if err != nil {
		tb.Fatal(err)
	}
	current := func() *config.Config { return cfg }
	plugins := newRunningPlugins()
	sent := &sentWebhooks{}
	refusals, err := refused.New(refused.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	checks := &credentialChecks{}
	a, err := api.New(api.Options{Config: current, Calls: db, Canceler: sched, DND: db, Rules: rulesTester{cfg},
		Plugins: plugins, Manifests: plugins, Fields: accountFields{}, Refusals: refusals, TestWebhooks: sent,
		Stats: db, Pending: inbox, OverviewTTL: time.Nanosecond, Auditor: db,
		FieldWarnings: checkFields(cfg), Credentials: checks})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// A stopped clock: sessions do not expire and the sign-in throttle
	// does not refill while a test runs.
	d, err := web.New(web.Options{Config: current, API: a, Calls: db, Events: inbox, Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	tb.Cleanup(srv.Close)
	return &fixture{db: db, inbox: inbox, srv: srv, now: now, refusals: refusals, sent: sent, checks: checks}
}

// addCall stores a call the way the pipeline does, from an event.
func (f *fixture) addCall(tb testing.TB, number, status string, at time.Time) store.Call {
	tb.Helper()
	next := at.Add(2 * time.Hour)
	ended := at.Add(time.Minute)
	c := store.Call{AgentID: "sales-intro", Status: status, ToNumber: number, Dialer: "log",
		Variables: map[string]string{"firstname": "Ada"},
		Fields:    map[string]any{"firstname": "Ada", "mobilephone": number},
		Source:    store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "123", Account: "62515"},
		Policy: store.Policy{Timezone: "Asia/Kolkata", Window: &store.Window{Start: "09:00", End: "18:00", CarryOver: true},
			Retry: store.RetryPolicy{Max: 2, Gaps: []store.Duration{store.Duration(2 * time.Hour)}, On: []string{"no_answer"}}},
	}
	if status == store.CallRetryScheduled {
		c.NextAttemptAt = &next
		c.Attempts = []store.Attempt{{N: 1, StartedAt: at, EndedAt: &ended, Outcome: store.OutcomeNoAnswer, ProviderCallID: "prov-1"}}
	}
	got, _, err := f.db.CreateCall(context.Background(), c, store.CreateOptions{Now: at})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// addFailedEvent appends an event the pipeline gave up on.
func (f *fixture) addFailedEvent(tb testing.TB, objectID string) store.Event {
	tb.Helper()
	res, err := f.inbox.AppendEvents(context.Background(), []store.Event{{
		Key: "hubspot:" + objectID, AgentID: "sales-intro", Type: "hubspot", Integration: "hubspot",
		EventType: "contact.creation", Kind: "created", ObjectType: "contact", ObjectID: objectID,
		OccurredAt: f.now, Status: store.EventFailed, Reason: "hubspot: fetch contact " + objectID + ": token rejected (401)",
	}}, store.AppendOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Events[0]
}
