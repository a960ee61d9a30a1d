package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

func TestListCallsFilters(t *testing.T) {
	e := newEnv(t)
	a1 := e.addCall(t, "sales-intro", "+919812345601", store.CallScheduled, 1)
	a2 := e.addCall(t, "sales-intro", "+919812345602", store.CallCompleted, 2)
	b1 := e.addCall(t, "renewals", "+919812345601", store.CallFailed, 3)
	a3 := e.addCall(t, "sales-intro", "+919812345603", store.CallCompleted, 4)

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all newest first", "", []string{a3.ID, b1.ID, a2.ID, a1.ID}},
		{"by agent", "agent_id=sales-intro", []string{a3.ID, a2.ID, a1.ID}},
		{"by status", "status=completed", []string{a3.ID, a2.ID}},
		{"by agent and status", "agent_id=renewals&status=failed", []string{b1.ID}},
		{"by phone normalised", "phone=" + url.QueryEscape("098123 45601"), []string{b1.ID, a1.ID}},
		{"since inclusive", "since=2026-11-27T10:03:00Z", []string{a3.ID, b1.ID}},
		{"until exclusive", "until=2026-11-27T10:02:00Z", []string{a1.ID}},
		{"no match", "agent_id=nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got api.CallList
			if code := e.do(t, http.MethodGet, "/api/v1/calls?"+tt.query, "", &got); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if got.Calls == nil {
				t.Fatal(`"calls" is null; want a list`)
			}
			if ids := callIDs(got.Calls); strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("calls %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestListCallsPaginates(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := 0; i < 7; i++ {
		c := e.addCall(t, "sales-intro", "", store.CallCompleted, i)
		want = append([]string{c.ID}, want...)
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		var page api.CallList
		if code := e.do(t, http.MethodGet, "/api/v1/calls?limit=3&cursor="+url.QueryEscape(cursor), "", &page); code != 200 {
			t.Fatalf("page %d: status %d", pages, code)
		}
		pages++
		got = append(got, callIDs(page.Calls)...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages with %v, want 3 pages with %v", pages, got, want)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, body, field string
	}{
		{"status", "GET", "/api/v1/calls?status=ringing", "", "status:"},
		{"since", "GET", "/api/v1/calls?since=yesterday", "", "since:"},
		{"until before since", "GET", "/api/v1/calls?since=2026-11-27T10:00:00Z&until=2026-11-26T10:00:00Z", "", "until:"},
		{"limit zero", "GET", "/api/v1/calls?limit=0", "", "limit:"},
		{"limit huge", "GET", "/api/v1/calls?limit=100000", "", "limit:"},
		{"phone", "GET", "/api/v1/calls?phone=12", "", "phone:"},
		{"cursor", "GET", "/api/v1/calls?cursor=%21%21", "", "cursor:"},
		{"dnd no body", "POST", "/api/v1/dnd", "", "number:"},
		{"dnd bad json", "POST", "/api/v1/dnd", "{", "body:"},
		{"dnd bad number", "POST", "/api/v1/dnd", `{"number":"hello"}`, "number:"},
		{"dnd delete bad number", "DELETE", "/api/v1/dnd?number=xyz", "", "number:"},
		{"rules no agent", "POST", "/api/v1/rules/test", `{"record":{}}`, "agent_id:"},
		{"rules unknown agent", "POST", "/api/v1/rules/test", `{"agent_id":"x","record":{}}`, "agent_id:"},
		{"rules no record", "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro"}`, "record:"},
		{"rules record not object", "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro","record":[1]}`, "record:"},
		{"rules record and record id", "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro","record":{},"record_id":"1"}`, "record_id: give either"},
		{"rules bad record id", "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro","record_id":"../1"}`, "record_id:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env reply.Envelope
			code := e.do(t, tt.method, tt.path, tt.body, &env)
			if code != http.StatusBadRequest || env.Status != "error" || !strings.HasPrefix(env.Message, tt.field) {
				t.Fatalf("got %d %+v; want 400 with a message starting %q", code, env, tt.field)
			}
		})
	}
}

func TestShowCallIsTheDesignRecord(t *testing.T) {
	e := newEnv(t)
	c := e.addCall(t, "sales-intro", "+14155550123", store.CallRetryScheduled, 0)
	var got map[string]any
	if code := e.do(t, "GET", "/api/v1/calls/"+c.ID, "", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, key := range []string{"id", "agent_id", "status", "reason", "to_number", "variables", "source",
		"policy", "next_attempt_at", "attempts", "created_at", "updated_at"} {
		if _, ok := got[key]; !ok {
			t.Errorf("call record lacks %q: %v", key, got)
		}
	}
	if got["to_number"] != "+14155550123" || got["status"] != "retry_scheduled" {
		t.Errorf("record %v", got)
	}
	gaps := got["policy"].(map[string]any)["retry"].(map[string]any)["gaps"].([]any)
	if gaps[0] != "1h0m0s" {
		t.Errorf("gaps %v, want Go durations", gaps)
	}
	bare, _, err := e.db.CreateCall(context.Background(), store.Call{AgentID: "renewals", Status: store.CallSkipped, Reason: "no phone"}, store.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	e.do(t, "GET", "/api/v1/calls/"+bare.ID, "", &raw)
	if _, ok := raw["variables"].(map[string]any); !ok {
		t.Errorf("variables of a call without any: %v, want {}", raw["variables"])
	}
	if _, ok := raw["attempts"].([]any); !ok {
		t.Errorf("attempts of a call without any: %v, want []", raw["attempts"])
	}
	var env reply.Envelope
	if code := e.do(t, "GET", "/api/v1/calls/01NOPE", "", &env); code != 404 || env.Status != "error" {
		t.Fatalf("unknown call: %d %+v", code, env)
	}
}

func TestCancelCall(t *testing.T) {
	e := newEnv(t)
	pending := e.addCall(t, "sales-intro", "+919812345601", store.CallScheduled, 0)
	done := e.addCall(t, "sales-intro", "+919812345602", store.CallCompleted, 1)
	tests := []struct {
		name, id string
		code     int
	}{
		{"pending", pending.ID, 200},
		{"again", pending.ID, 409},
		{"final", done.ID, 409},
		{"unknown", "01NOPE", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			if code := e.do(t, "POST", "/api/v1/calls/"+tt.id+"/cancel", "", &body); code != tt.code {
				t.Fatalf("status %d (%v), want %d", code, body, tt.code)
			}
		})
	}
	c, err := e.db.GetCall(context.Background(), pending.ID)
	if err != nil || c.Status != store.CallCanceled || c.Reason != api.CancelReason || c.NextAttemptAt != nil {
		t.Fatalf("stored call %+v %v", c, err)
	}
}

func TestDND(t *testing.T) {
	e := newEnv(t)
	pending := e.addCall(t, "sales-intro", "+919812345678", store.CallScheduled, 0)
	other := e.addCall(t, "renewals", "+919812345678", store.CallRetryScheduled, 1)
	kept := e.addCall(t, "sales-intro", "+919812345679", store.CallScheduled, 2)

	var res api.DNDResult
	if code := e.do(t, "POST", "/api/v1/dnd", `{"number":"098123 45678","note":"asked not to be called"}`, &res); code != 200 {
		t.Fatalf("add: %d %+v", code, res)
	}
	if res.Number != "+919812345678" || res.Canceled != 2 {
		t.Fatalf("add: %+v; want the E.164 number and 2 calls canceled", res)
	}
	for _, id := range []string{pending.ID, other.ID} {
		if c, _ := e.db.GetCall(context.Background(), id); c.Status != store.CallCanceled || c.Reason != api.DNDCancelReason {
			t.Errorf("call %s: %s %q, want canceled for DND", id, c.Status, c.Reason)
		}
	}
	if c, _ := e.db.GetCall(context.Background(), kept.ID); c.Status != store.CallScheduled {
		t.Errorf("another number's call became %s", c.Status)
	}

	var list api.DNDList
	if code := e.do(t, "GET", "/api/v1/dnd", "", &list); code != 200 || len(list.Numbers) != 1 ||
		list.Numbers[0].Number != "+919812345678" || list.Numbers[0].Note != "asked not to be called" ||
		!list.Numbers[0].AddedAt.Equal(e.clock.now()) {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := e.do(t, "DELETE", "/api/v1/dnd?number=%2B919812345678", "", &res); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code := e.do(t, "DELETE", "/api/v1/dnd", `{"number":"+919812345678"}`, &res); code != 404 {
		t.Fatalf("delete again: %d, want 404", code)
	}
	if code := e.do(t, "GET", "/api/v1/dnd", "", &list); code != 200 || len(list.Numbers) != 0 || list.Numbers == nil {
		t.Fatalf("list after delete: %d %+v", code, list)
	}
}

func TestAgents(t *testing.T) {
	e := newEnv(t)
	var got api.AgentList
	if code := e.do(t, "GET", "/api/v1/agents", "", &got); code != 200 || len(got.Agents) != 2 {
		t.Fatalf("%d %+v", code, got)
	}
	ren, si := got.Agents[0], got.Agents[1]
	if ren.ID != "renewals" || si.ID != "sales-intro" {
		t.Fatalf("order %s, %s", ren.ID, si.ID)
	}
	if si.Policy.Window == nil || si.Policy.Window.Start != "09:00" || !si.Policy.Window.CarryOver ||
		si.Policy.Retry.Max != 2 || time.Duration(si.Policy.Retry.Gaps[1]) != 2*time.Hour ||
		si.Variables["firstname"] != "contact.firstname ?? 'there'" || si.RequiredVariables[0] != "firstname" {
		t.Errorf("sales-intro %+v", si)
	}
	if ren.When != "event.kind == 'created'" || ren.Policy.Timezone != "Asia/Kolkata" || ren.Policy.Window != nil ||
		len(ren.Policy.Retry.On) != 4 || ren.DedupeWindow != "24h0m0s" {
		t.Errorf("renewals defaults %+v", ren)
	}
	if strings.Join(ren.PhoneFields, ",") != "mobilephone,phone" || ren.PhoneFieldsFrom != "plugin hubspot" {
		t.Errorf("renewals phone fields %v from %q", ren.PhoneFields, ren.PhoneFieldsFrom)
	}
}

const phoneFieldsConfig = `
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
integration "hubspot" {
  access_token = "t"
}
dialer "log" {
  type = "log"
}
agent "lsq-default" {
  integrations = ["lsq"]
}
agent "lsq-own" {
  integrations = ["lsq"]
  phone_fields = ["mx_Alt"]
}
agent "hubspot-default" {
  integrations = ["hubspot"]
}
`

// An agent's phone fields are its own, else its plugin's manifest's; with
// no plugin running they are not known yet, and nothing pretends to be.
func TestAgentPhoneFields(t *testing.T) {
	cfg, err := config.LoadBytes("test.hcl", []byte(phoneFieldsConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		plugins    api.Manifests
		agent      string
		wantFields string
		wantFrom   string
	}{
		{"leadsquared's", builtinManifests{}, "lsq-default", "Mobile,Phone", "plugin leadsquared"},
		{"the agent's", builtinManifests{}, "lsq-own", "mx_Alt", "agent"},
		{"hubspot's", builtinManifests{}, "hubspot-default", "mobilephone,phone", "plugin hubspot"},
		{"no plugin host", nil, "lsq-default", "", api.NoPluginRunning},
		{"no plugin host, the agent's", nil, "lsq-own", "mx_Alt", "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ag := range api.Agents(cfg, tt.plugins) {
				if ag.ID != tt.agent {
					continue
				}
				if strings.Join(ag.PhoneFields, ",") != tt.wantFields || ag.PhoneFieldsFrom != tt.wantFrom || ag.PhoneFields == nil {
					t.Errorf("phone fields %#v from %q, want %s from %q", ag.PhoneFields, ag.PhoneFieldsFrom, tt.wantFields, tt.wantFrom)
				}
				return
			}
			t.Fatalf("no agent %q", tt.agent)
		})
	}
}

func TestPluginsCachesCredentialChecks(t *testing.T) {
	e := newEnv(t)
	var got api.PluginList
	for i := 0; i < 3; i++ {
		if code := e.do(t, "GET", "/api/v1/plugins", "", &got); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if len(got.Plugins) != 1 || got.Plugins[0].PID != 4242 || got.Plugins[0].State != "running" ||
		strings.Join(got.Plugins[0].Manifest.PhoneFields, ",") != "mobilephone,phone" ||
		strings.Join(got.Plugins[0].Manifest.ContentTypes, ",") != "application/json" {
		t.Fatalf("plugins %+v", got.Plugins)
	}
	if len(got.Integrations) != 1 || got.Integrations[0].Credentials.OK || !strings.Contains(got.Integrations[0].Credentials.Error, "401") {
		t.Fatalf("integrations %+v", got.Integrations)
	}
	if e.checker.calls != 1 {
		t.Fatalf("%d credential checks for 3 views, want 1 (cached)", e.checker.calls)
	}
	e.clock.add(6 * time.Minute)
	e.do(t, "GET", "/api/v1/plugins", "", &got)
	if e.checker.calls != 2 {
		t.Fatalf("%d credential checks after the cache expired, want 2", e.checker.calls)
	}
}

func TestRulesTest(t *testing.T) {
	e := newEnv(t)
	var got map[string]any
	code := e.do(t, "POST", "/api/v1/rules/test", `{"agent_id":"sales-intro","record":{"firstname":"Ada"}}`, &got)
	if code != 200 || got["call"] != true || got["agent"] != "sales-intro" {
		t.Fatalf("%d %v", code, got)
	}
}

func callIDs(cs []api.Call) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestBackupIsAnOpenableCopy(t *testing.T) {
	e := newEnv(t)
	c := e.addCall(t, "sales-intro", "+919812345601", store.CallScheduled, 0)
	resp, err := http.Get(e.srv.URL + "/api/v1/backup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength <= 0 || !strings.Contains(resp.Header.Get("Content-Disposition"), "callgate-") {
		t.Fatalf("status %d, length %d, headers %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(f, resp.Body); err != nil || n != resp.ContentLength {
		t.Fatalf("copied %d of %d: %v", n, resp.ContentLength, err)
	}
	f.Close()
	copyDB, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if got, err := copyDB.GetCall(context.Background(), c.ID); err != nil || got.ToNumber != c.ToNumber {
		t.Fatalf("the backup lacks call %s: %v", c.ID, err)
	}
}

// A store with no file to copy (PostgreSQL): the route says so with 501.
func TestBackupWithoutAFile(t *testing.T) {
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Config: func() *config.Config { return config.Default() }, Calls: db, Canceler: sched, DND: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/backup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "pg_dump") {
		t.Fatalf("backup without a file = %d %s, want 501 naming pg_dump", resp.StatusCode, body)
	}
}
