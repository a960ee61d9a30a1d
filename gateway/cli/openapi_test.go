package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// specPath is the OpenAPI description this test holds to the handlers.
const specPath = "../../docs/openapi.yaml"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("load %s: %v", specPath, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI 3 document: %v", specPath, err)
	}
	return doc
}

// registeredRoutes lists every method and path the gateway mounts, from
// the same sources `serve` mounts them from: the admin API's Routes (with
// every optional part present, as serve wires them), the events API's and
// ingest's Mount, the status callback and the server's own probes.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	adm, err := api.New(api.Options{
		Stats:    db, // serve wires the overview
		Auditor:  db, // and the audit
		Config:   func() *config.Config { return &config.Config{} },
		Calls:    nopStore{},
		Canceler: nopStore{},
		DND:      nopStore{},
		Backup:   nopStore{},
		Outbox:   nopStore{},
		Eraser:   nopStore{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rt := range adm.Routes() {
		out = append(out, rt.Method+" "+rt.Path)
	}
	(&api.EventsAPI{}).Mount(func(method, path string, _ http.Handler) {
		out = append(out, method+" "+server.AdminPrefix+path)
	})
	(&ingest.Handler{}).Mount(func(method, path string, _ http.Handler) {
		out = append(out, method+" "+path)
	})
	return append(out, "POST /call/status/{dialer}", "GET /healthz", "GET /readyz", "GET /metrics")
}

// TestOpenAPIListsEveryRoute: a route the gateway serves that the spec
// leaves out fails here, so a new endpoint cannot ship undescribed.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	doc := loadSpec(t)
	inSpec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inSpec[method+" "+path] = true
		}
	}
	for _, r := range registeredRoutes(t) {
		if !inSpec[r] {
			t.Errorf("%s is served but not in %s", r, specPath)
		}
		delete(inSpec, r)
	}
	for r := range inSpec {
		t.Errorf("%s is in %s but the gateway does not serve it", r, specPath)
	}
}

// specCase is one request to the running gateway whose answer must be one
// the spec describes (status, content type and body schema).
type specCase struct {
	name   string
	method string
	path   string // with the query, if any
	body   string
	header map[string]string
	status int
	// offSpec marks a request that breaks the spec on purpose (bad input):
	// only the answer is checked.
	offSpec bool
	// then reads the answer for later cases (ids); may be nil.
	then func(t *testing.T, body []byte)
}

// TestOpenAPIMatchesTheHandlers starts the whole gateway in this process
// (real store in a temp dir, the real HubSpot plugin process, against the
// fake HubSpot), sends representative requests to every operation in the
// spec, and validates each request and answer against docs/openapi.yaml.
// Every operation must be exercised at least once.
func TestOpenAPIMatchesTheHandlers(t *testing.T) {
	doc := loadSpec(t)
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	hs.AddContact("1001", map[string]any{"firstname": "Asha", "lastname": "Rao", "email": "asha@example.com",
		"phone": "+91 98450 12345", "company": "Example Ltd", "city": "Bengaluru"})

	const (
		adminToken = "openapi-admin-token"
		apiKey     = "openapi-api-key"
		secret     = "openapi-client-secret"
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// The spec's server is the default listen address; this gateway's is
	// a free port.
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`server {
  listen             = %q
  public_url         = %q
  data_dir           = %q
  admin_token_sha256 = [%q]
}
api_key "k" {
  sha256 = %q
  agents = ["sales"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "log" {
  type = "log"
}
agent "sales" {
  dialer       = "log"
  integrations = ["hubspot"]
  timezone     = "Asia/Kolkata"
  region       = "IN"
  phone_fields = ["phone"]
  when         = "event.kind == 'created'"
  variables = {
    firstname = "contact.firstname"
    lastname  = "contact.lastname"
    email     = "contact.email"
    phone     = "call.to_number"
    company   = "contact.company"
    city      = "contact.city"
  }
}
`, ln.Addr().String(), base, filepath.Join(dir, "data"), digest(adminToken), digest(apiKey),
		hubspottest.DefaultToken, secret, hs.URL)
	path := writeFile(t, dir, "callgate.hcl", cfgText)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{Config: cfg, Path: path, Logger: hclog.NewNullLogger(), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, make(chan os.Signal)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
	})
	eventually(t, "the gateway is ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	webhookURL := base + "/call/crm-webhook?agent_id=sales&type=hubspot&num_of_retries=1&timezone=callee&x_api_key=" + apiKey
	signed, signedHeader := hubspottest.ContactCreation(hubspottest.Webhook{Secret: secret, URL: webhookURL, ObjectIDs: []int64{1001}})
	bearer := map[string]string{"Authorization": "Bearer " + adminToken}
	var callID, outboundID, eventID string
	firstCall := func(t *testing.T, body []byte) {
		var list struct {
			Calls []struct {
				ID string `json:"id"`
			} `json:"calls"`
		}
		if err := json.Unmarshal(body, &list); err != nil || len(list.Calls) == 0 {
			t.Fatalf("no calls listed (%v): %s", err, body)
		}
		callID = list.Calls[len(list.Calls)-1].ID
	}

	cases := []specCase{
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "readyz", method: "GET", path: "/readyz", status: 200},
		{name: "metrics", method: "GET", path: "/metrics", status: 200},
		{name: "webhook accepted", method: "POST", path: strings.TrimPrefix(webhookURL, base), body: string(signed),
			header: flat(signedHeader), status: 200},
		{name: "webhook bad signature", method: "POST", path: strings.TrimPrefix(webhookURL, base), body: string(signed) + " ",
			header: flat(signedHeader), status: 401},
		{name: "webhook wrong key", method: "POST", path: "/call/crm-webhook?agent_id=sales&type=hubspot&x_api_key=nope",
			body: string(signed), header: flat(signedHeader), status: 403},
		{name: "webhook unknown agent", method: "POST", path: "/call/crm-webhook?agent_id=nobody&type=hubspot&x_api_key=" + apiKey,
			body: string(signed), header: flat(signedHeader), status: 404},
		{name: "outbound", method: "POST", path: "/call/outbound?x_api_key=" + apiKey,
			body:   `{"to_number":"+919845012399","agent_id":"sales","metadata":{"firstname":"Ravi"},"schedule_at":"2099-01-02T10:00:00"}`,
			header: map[string]string{"Content-Type": "application/json"}, status: 200,
			then: func(t *testing.T, body []byte) {
				var r ingest.OutboundReply
				if err := json.Unmarshal(body, &r); err != nil || r.CallSID == "" {
					t.Fatalf("no call_sid (%v): %s", err, body)
				}
				outboundID = r.CallSID
			}},
		{name: "outbound bad number", method: "POST", path: "/call/outbound?x_api_key=" + apiKey,
			body: `{"to_number":"12","agent_id":"sales"}`, header: map[string]string{"Content-Type": "application/json"}, status: 400},
		{name: "status callback, unknown dialer", method: "POST", path: "/call/status/nodialer", body: `{}`,
			header: map[string]string{"Content-Type": "application/json"}, status: 404},
		{name: "calls without a token", method: "GET", path: "/api/v1/calls", status: 401},
		{name: "calls", method: "GET", path: "/api/v1/calls?agent_id=sales&limit=50", header: bearer, status: 200, then: firstCall},
		{name: "calls bad limit", method: "GET", path: "/api/v1/calls?limit=0", header: bearer, status: 400},
		{name: "calls searched", method: "GET", path: "/api/v1/calls?q=Asha", header: bearer, status: 200},
	}
	// Cases that need the ids the first ones read, built when they run.
	later := func() []specCase {
		return []specCase{
			{name: "call", method: "GET", path: "/api/v1/calls/" + callID, header: bearer, status: 200},
			{name: "unknown call", method: "GET", path: "/api/v1/calls/01ARZ3NDEKTSV4RRFFQ69G5FAV", header: bearer, status: 404},
			{name: "cancel", method: "POST", path: "/api/v1/calls/" + outboundID + "/cancel", header: bearer, status: 200},
			{name: "cancel again", method: "POST", path: "/api/v1/calls/" + outboundID + "/cancel", header: bearer, status: 409},
			{name: "delete-schedule-call, nothing waiting", method: "POST", path: "/call/delete-schedule-call?agent_id=sales&x_api_key=" + apiKey,
				body: `{"to_number":"+919845012399"}`, header: map[string]string{"Content-Type": "application/json"}, status: 404},
			{name: "outbound to delete", method: "POST", path: "/call/outbound?x_api_key=" + apiKey,
				body:   `{"to_number":"+919845012398","agent_id":"sales","schedule_at":"2099-01-02T10:00:00"}`,
				header: map[string]string{"Content-Type": "application/json"}, status: 200},
			{name: "delete-schedule-call", method: "POST", path: "/call/delete-schedule-call?agent_id=sales&x_api_key=" + apiKey,
				body: `{"to_number":"+919845012398"}`, header: map[string]string{"Content-Type": "application/json"}, status: 200},
			{name: "delete-schedule-call without agent", method: "POST", path: "/call/delete-schedule-call?x_api_key=" + apiKey,
				body: `{"to_number":"+919845012398"}`, header: map[string]string{"Content-Type": "application/json"}, status: 400},
			{name: "events", method: "GET", path: "/api/v1/events?agent_id=sales", header: bearer, status: 200,
				then: func(t *testing.T, body []byte) {
					var l api.EventList
					if err := json.Unmarshal(body, &l); err != nil || len(l.Events) == 0 {
						t.Fatalf("no events (%v): %s", err, body)
					}
					eventID = l.Events[0].ID
				}},
			{name: "events bad status", method: "GET", path: "/api/v1/events?status=odd", header: bearer, status: 400},
			{name: "events searched", method: "GET", path: "/api/v1/events?q=1001&since=2020-01-01T00:00:00Z", header: bearer, status: 200},
			{name: "bulk replay", method: "POST", path: "/api/v1/events/replay", body: `{"status":"failed","agent_id":"sales","dry_run":true}`,
				header: withJSON(bearer), status: 200},
			{name: "bulk replay without a filter", method: "POST", path: "/api/v1/events/replay", body: `{}`, header: withJSON(bearer), status: 400},
			{name: "overview", method: "GET", path: "/api/v1/overview", header: bearer, status: 200},
		}
	}
	last := func() []specCase {
		erase := `{"number":"+919845099999"}`
		return []specCase{
			{name: "event", method: "GET", path: "/api/v1/events/" + eventID, header: bearer, status: 200},
			{name: "replay a called event", method: "POST", path: "/api/v1/events/" + eventID + "/replay", header: bearer, status: 409},
			{name: "replay unknown", method: "POST", path: "/api/v1/events/01ARZ3NDEKTSV4RRFFQ69G5FAV/replay", header: bearer, status: 404},
			{name: "dnd add", method: "POST", path: "/api/v1/dnd", body: `{"number":"+919845012377","note":"asked"}`,
				header: withJSON(bearer), status: 200},
			{name: "dnd add bad", method: "POST", path: "/api/v1/dnd", body: `{"number":"abc"}`, header: withJSON(bearer), status: 400},
			{name: "dnd list", method: "GET", path: "/api/v1/dnd", header: bearer, status: 200},
			{name: "dnd remove", method: "DELETE", path: "/api/v1/dnd?number=%2B919845012377", header: bearer, status: 200},
			{name: "agents", method: "GET", path: "/api/v1/agents", header: bearer, status: 200},
			{name: "plugins", method: "GET", path: "/api/v1/plugins", header: bearer, status: 200},
			{name: "fields", method: "GET", path: "/api/v1/integrations/hubspot/fields", header: bearer, status: 200},
			{name: "fields unknown", method: "GET", path: "/api/v1/integrations/nope/fields", header: bearer, status: 404},
			{name: "check credentials", method: "POST", path: "/api/v1/integrations/hubspot/check", header: bearer, status: 200},
			{name: "check unknown integration", method: "POST", path: "/api/v1/integrations/nope/check", header: bearer, status: 404},
			{name: "refusals", method: "GET", path: "/api/v1/refusals?limit=10", header: bearer, status: 200},
			{name: "audit", method: "GET", path: "/api/v1/audit?since=48h&agent_id=sales", header: bearer, status: 200},
			{name: "audit bad since", method: "GET", path: "/api/v1/audit?since=yesterday", header: bearer, status: 400},
			{name: "test webhook", method: "POST", path: "/api/v1/agents/sales/test-webhook", body: `{"contact_id":"1001"}`,
				header: withJSON(bearer), status: 200},
			{name: "test webhook no body", method: "POST", path: "/api/v1/agents/sales/test-webhook", body: `[]`,
				header: withJSON(bearer), status: 400, offSpec: true},
			{name: "rules test", method: "POST", path: "/api/v1/rules/test",
				body:   `{"agent_id":"sales","record":{"object_id":"1001","fields":{"firstname":"Asha","phone":"+919845012345"}}}`,
				header: withJSON(bearer), status: 200},
			{name: "rules test on a record read by id", method: "POST", path: "/api/v1/rules/test", body: `{"agent_id":"sales","record_id":"1001"}`,
				header: withJSON(bearer), status: 200},
			{name: "rules test unknown agent", method: "POST", path: "/api/v1/rules/test", body: `{"agent_id":"nobody","record":{}}`,
				header: withJSON(bearer), status: 400},
			{name: "outbox", method: "GET", path: "/api/v1/outbox", header: bearer, status: 200},
			{name: "outbox retry unknown", method: "POST", path: "/api/v1/outbox/01ARZ3NDEKTSV4RRFFQ69G5FAV/retry", header: bearer, status: 404},
			{name: "backup", method: "GET", path: "/api/v1/backup", header: bearer, status: 200},
			{name: "erase", method: "POST", path: "/api/v1/contacts/erase", body: erase, header: withJSON(bearer), status: 200},
			{name: "erase nothing named", method: "POST", path: "/api/v1/contacts/erase", body: `{}`, header: withJSON(bearer), status: 400},
		}
	}

	exercised := map[string]bool{}
	runCases := func(cs []specCase) {
		for _, c := range cs {
			checkAgainstSpec(t, router, base, c, exercised)
		}
	}
	runCases(cases)
	eventually(t, "the webhook's call is placed", func() bool { return callStatus(base, adminToken, "completed") })
	runCases(later())
	runCases(last())

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !exercised[method+" "+path] {
				t.Errorf("%s %s: no request in this test reaches it", method, path)
			}
		}
	}
}

// callStatus reports whether any call has status.
func callStatus(base, token, status string) bool {
	req, _ := http.NewRequest("GET", base+"/api/v1/calls?status="+status, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.Contains(string(raw), `"id"`)
}

// checkAgainstSpec sends c to the gateway and validates the request and
// the answer against the operation the spec routes it to.
func checkAgainstSpec(t *testing.T, router routers.Router, base string, c specCase, exercised map[string]bool) {
	t.Helper()
	t.Run(c.name, func(t *testing.T) {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s is not in the spec: %v", c.method, c.path, err)
		}
		exercised[c.method+" "+route.Path] = true
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if c.body != "" {
			// The validator reads the body; the request must still carry it.
			req.Body = io.NopCloser(strings.NewReader(c.body))
		}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && !c.offSpec {
			t.Errorf("the request does not match the spec: %v", err)
		}
		send, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		send.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(send)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status {
			t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, clip(raw))
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
			Header: resp.Header, Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(raw)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("the answer does not match the spec: %v\nbody: %s", err, clip(raw))
		}
		if c.then != nil {
			c.then(t, raw)
		}
	})
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

func flat(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

func withJSON(h map[string]string) map[string]string {
	out := map[string]string{"Content-Type": "application/json"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// nopStore stands in for the admin API's parts when only its Routes are
// read: none of its methods is ever called.
type nopStore struct {
	api.Calls
	api.Canceler
	api.DND
	api.Backuper
	api.Outbox
	api.Eraser
}
