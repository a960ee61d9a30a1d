package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the code")

// wireCase is one admin request and the type a client (gateway/cli)
// decodes its answer into.
type wireCase struct {
	name   string // the golden file, testdata/wire/NAME.json
	method string
	path   string // may hold {label} placeholders for fixture ids
	body   string
	code   int
	into   func() any // a new value of the answer's type
}

// TestWireGolden freezes the admin API's JSON: every endpoint of this
// package (and the events API mounted beside it) answers a fixture of
// every record shape over a real server, and each body must equal its
// golden file byte for byte. Each body must also survive a decode into
// the type a client uses and an encode back unchanged, so no field is
// lost on the way to the CLI. Run with -update to rewrite the goldens
// after a deliberate change of the wire format (and say so in the docs).
func TestWireGolden(t *testing.T) {
	base, ids := newWireServer(t)
	labels := wireLabels(ids)
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			for label, id := range labels {
				path = strings.ReplaceAll(path, "{"+label+"}", id)
			}
			code, raw := wireDo(t, tc.method, base+path, tc.body)
			if code != tc.code {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, path, code, raw, tc.code)
			}
			checkRoundTrip(t, raw, tc.into())
			got := scrubIDs(t, raw, ids)
			file := filepath.Join("testdata", "wire", tc.name+".json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -run TestWireGolden -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s: the wire format changed\n got: %s\nwant: %s", tc.method, tc.path, got, want)
			}
		})
	}
}

// wireCases are run in order: the later ones see what the earlier
// changed (a cancel, a DND entry, an erasure, a retried dead letter).
func wireCases() []wireCase {
	calls := func() any { return new(api.CallList) }
	call := func() any { return new(api.Call) }
	envelope := func() any { return new(reply.Envelope) }
	dndResult := func() any { return new(api.DNDResult) }
	outboxList := func() any { return new(api.OutboxList) }
	outboxEntry := func() any { return new(api.OutboxEntry) }
	events := func() any { return new(api.EventList) }
	eventView := func() any { return new(api.EventView) }
	return []wireCase{
		{"calls_list", "GET", "/api/v1/calls", "", 200, calls},
		{"calls_list_page", "GET", "/api/v1/calls?agent_id=sales-intro&limit=2", "", 200, calls},
		{"calls_list_empty", "GET", "/api/v1/calls?agent_id=nobody", "", 200, calls},
		{"call_completed", "GET", "/api/v1/calls/{call-completed}", "", 200, call},
		{"call_scheduled", "GET", "/api/v1/calls/{call-scheduled}", "", 200, call},
		{"call_dialing", "GET", "/api/v1/calls/{call-dialing}", "", 200, call},
		{"call_duplicate", "GET", "/api/v1/calls/{call-duplicate}", "", 200, call},
		{"call_not_found", "GET", "/api/v1/calls/{call-missing}", "", 404, envelope},
		{"calls_bad_status", "GET", "/api/v1/calls?status=gone", "", 400, envelope},
		{"call_cancel", "POST", "/api/v1/calls/{call-scheduled}/cancel", "", 200, call},
		{"call_cancel_final", "POST", "/api/v1/calls/{call-completed}/cancel", "", 409, envelope},
		{"dnd_add", "POST", "/api/v1/dnd", `{"number":"098123 45699","note":"asked not to be called"}`, 200, dndResult},
		{"dnd_add_pending", "POST", "/api/v1/dnd", `{"number":"+919812345603"}`, 200, dndResult},
		{"dnd_list", "GET", "/api/v1/dnd", "", 200, func() any { return new(api.DNDList) }},
		{"dnd_remove", "DELETE", "/api/v1/dnd?number=%2B919812345603", "", 200, dndResult},
		{"dnd_bad", "POST", "/api/v1/dnd", `{}`, 400, envelope},
		{"agents", "GET", "/api/v1/agents", "", 200, func() any { return new(api.AgentList) }},
		{"plugins", "GET", "/api/v1/plugins", "", 200, func() any { return new(api.PluginList) }},
		{"integration_check", "POST", "/api/v1/integrations/hubspot/check", "", 200, func() any { return new(api.Integration) }},
		{"integration_check_unknown", "POST", "/api/v1/integrations/nope/check", "", 404, envelope},
		{"fields", "GET", "/api/v1/integrations/hubspot/fields", "", 200, func() any { return new(api.FieldList) }},
		{"refusals", "GET", "/api/v1/refusals", "", 200, func() any { return new(api.RefusalList) }},
		{"test_webhook", "POST", "/api/v1/agents/sales-intro/test-webhook", `{"contact_id":"1001"}`, 200, func() any { return new(ingest.WebhookReply) }},
		{"rules_test", "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro","record":{"object_id":"1001","fields":{"firstname":"Ada","phone":"+919812345601"}}}`, 200, func() any { return new(api.RulesReport) }},
		{"rules_test_bad", "POST", "/api/v1/rules/test", `{"record":{}}`, 400, envelope},
		{"overview", "GET", "/api/v1/overview", "", 200, func() any { return new(api.Overview) }},
		{"audit", "GET", "/api/v1/audit?since=2026-11-27T00:00:00Z&until=2026-11-28T00:00:00Z", "", 200, func() any { return new(api.AuditReport) }},
		{"audit_agent", "GET", "/api/v1/audit?since=2026-11-27T00:00:00Z&until=2026-11-28T00:00:00Z&agent_id=renewals", "", 200, func() any { return new(api.AuditReport) }},
		{"outbox_list", "GET", "/api/v1/outbox", "", 200, outboxList},
		{"outbox_dead", "GET", "/api/v1/outbox?dead=true&kind=writeback", "", 200, outboxList},
		{"outbox_retry", "POST", "/api/v1/outbox/{dead-webhook}/retry", "", 200, outboxEntry},
		{"outbox_retry_pending", "POST", "/api/v1/outbox/{outbox-webhook}/retry", "", 409, envelope},
		{"contacts_erase", "POST", "/api/v1/contacts/erase", `{"number":"+919812345605"}`, 200, func() any { return new(api.EraseResult) }},
		{"contacts_erase_bad", "POST", "/api/v1/contacts/erase", `{"contact_type":"nope","object_id":"1"}`, 400, envelope},
		{"call_erased", "GET", "/api/v1/calls/{call-retry}", "", 200, call},
		{"events_list", "GET", "/api/v1/events", "", 200, events},
		{"events_failed", "GET", "/api/v1/events?status=failed", "", 200, events},
		{"event_called", "GET", "/api/v1/events/{event-called}", "", 200, eventView},
		{"event_pending", "GET", "/api/v1/events/{event-pending}", "", 200, eventView},
		{"event_replay", "POST", "/api/v1/events/{event-ignored}/replay", "", 200, func() any { return new(api.Event) }},
		{"event_replay_pending", "POST", "/api/v1/events/{event-pending}/replay", "", 409, envelope},
		{"events_replay_bulk", "POST", "/api/v1/events/replay", `{"status":"failed","dry_run":true}`, 200, func() any { return new(api.BulkReplay) }},
		{"event_not_found", "GET", "/api/v1/events/nope", "", 404, envelope},
	}
}

// newWireServer serves the API and the events API on a real bbolt store
// holding the fixture, as the gateway mounts them under /api/v1.
func newWireServer(t *testing.T) (string, wireIDs) {
	t.Helper()
	now := func() time.Time { return wireT0.Add(90 * time.Minute) }
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids := addWireFixture(t, db)
	sched, err := scheduler.New(scheduler.Config{Store: db, Clock: schedtest.NewClock(now()), DefaultTimezone: "Asia/Kolkata"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadBytes("wire.hcl", []byte(wireConfig))
	if err != nil {
		t.Fatal(err)
	}
	fake := hubspottest.New(hubspottest.Options{})
	t.Cleanup(fake.Close)
	a, err := api.New(api.Options{
		Config:   func() *config.Config { return cfg },
		Calls:    db,
		Canceler: sched,
		DND:      db,
		Plugins: plugins{{Name: "hubspot", Version: "1.4.0", Source: "builtin", State: "running", PID: 4242,
			Manifest: &api.Manifest{DisplayName: "HubSpot", ProtocolVersion: 1, EventTypes: []string{"contact.creation"},
				CredentialFields: []api.CredentialField{{Name: "access_token", Description: "a private app token", Secret: true, Required: true}},
				Capabilities:     []string{"fetch", "writeback"}, ContentTypes: []string{"application/json"}, PhoneFields: []string{"mobilephone", "phone"}}},
			{Name: "leadsquared", Version: "1.1.0", Source: "/opt/callgate/plugins/leadsquared", State: "restarting", Restarts: 3, LastError: "exit status 2"}},
		Manifests:       builtinManifests{},
		Credentials:     &countingChecker{},
		Fields:          pluginFields{base: fake.URL},
		Refusals:        wireRefusals(t),
		TestWebhooks:    testWebhooks{},
		Rules:           rulesTester{cfg},
		Outbox:          db,
		Eraser:          sched,
		Stats:           db,
		Pending:         db,
		Auditor:         db,
		Reconciliations: reconciled{},
		Logger:          hclog.NewNullLogger(),
		Now:             now,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	for _, rt := range a.Routes() {
		r.Handle(rt.Path, rt.Handler).Methods(rt.Method)
	}
	events := &api.EventsAPI{Store: db, Now: now, Region: func() string { return "IN" }}
	events.Mount(func(method, path string, h http.Handler) { r.Handle("/api/v1"+path, h).Methods(method) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL, ids
}

// wireLabels names the fixture's ids for paths and goldens.
func wireLabels(ids wireIDs) map[string]string {
	m := map[string]string{
		"call-completed": ids.callCompleted, "call-scheduled": ids.callScheduled, "call-dialing": ids.callDialing,
		"call-duplicate": ids.callDuplicate, "call-retry": ids.callRetry, "call-failed": ids.callFailed,
		"outbox-webhook": ids.outboxWebhook, "outbox-writeback": ids.outboxWriteback,
		"dead-webhook": ids.deadWebhook, "dead-writeback": ids.deadWriteback,
		"call-missing": fixedID(99, 99),
	}
	for status, id := range ids.events {
		m["event-"+status] = id
	}
	return m
}

func wireDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: content type %q", method, url, ct)
	}
	return resp.StatusCode, raw
}

// checkRoundTrip decodes raw into v and encodes v as the API does: the
// bytes must come back unchanged.
func checkRoundTrip(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode into %T: %v", v, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), raw) {
		t.Errorf("decoding into %T and encoding again changes the body:\n got: %s\nwant: %s", v, b.Bytes(), raw)
	}
}

var ulidRE = regexp.MustCompile(`\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b`)

// scrubIDs replaces the inbox's random event ids with their labels; any
// other id must be one of the fixture's fixed ones, or the golden would
// differ from run to run.
func scrubIDs(t *testing.T, raw []byte, ids wireIDs) []byte {
	t.Helper()
	labels := wireLabels(ids)
	fixed := map[string]bool{}
	for label, id := range labels {
		if strings.HasPrefix(label, "event-") {
			raw = bytes.ReplaceAll(raw, []byte(id), []byte("<"+label+">"))
		} else {
			fixed[id] = true
		}
	}
	var unknown []string
	for _, id := range ulidRE.FindAll(raw, -1) {
		if !fixed[string(id)] {
			unknown = append(unknown, string(id))
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Fatalf("ids not in the fixture (they would change from run to run): %v in %s", unknown, raw)
	}
	return raw
}
