package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

const testConfig = `
server {
  default_timezone = "Asia/Kolkata"
  default_region   = "IN"
}
integration "hubspot" {
  access_token = "test-token"
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  when         = "event.kind == 'created'"
  variables = {
    firstname = "contact.firstname ?? 'there'"
  }
  required_variables = ["firstname"]
  window {
    start = "09:00"
    end   = "18:00"
    carry_over = true
  }
  retry {
    max  = 2
    gaps = ["1h", "2h"]
  }
}
agent "renewals" {
  dialer = "log"
}
`

// rulesTester dry-runs an agent's rules with the real rules engine.
type rulesTester struct{ cfg *config.Config }

func (rt rulesTester) TestRules(_ context.Context, req api.RulesTest) (api.RulesReport, error) {
	ag := rt.cfg.Agents[req.AgentID]
	spec := rules.Spec{When: ag.When.Source, Variables: map[string]string{}, Required: ag.RequiredVariables}
	for k, v := range ag.Variables {
		spec.Variables[k] = v.Source
	}
	rep, err := rules.Try(spec, rules.Trial{Record: req.Record, Event: req.Event})
	return api.RulesReport{Agent: ag.Name, Report: rep}, err
}

type plugins []api.PluginStatus

// builtinManifests answers api.Manifests as the plugin host does once the
// built-in plugins run, asking the real plugins for their manifests.
type builtinManifests struct{}

func (builtinManifests) Manifest(name string) (sdk.Manifest, bool) {
	crms := map[string]sdk.CRM{"hubspot": hubspot.New(), "leadsquared": leadsquared.New()}
	crm, ok := crms[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := crm.Describe(context.Background())
	return m, err == nil
}

func (p plugins) Status() []api.PluginStatus { return p }

// countingChecker rejects one integration and counts the checks.
type countingChecker struct {
	mu    sync.Mutex
	calls int
}

func (c *countingChecker) CheckCredentials(_ context.Context, integration string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if integration == "hubspot" {
		return errors.New("hubspot: token rejected (401)")
	}
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	db      *bolt.Store
	srv     *httptest.Server
	clock   *clock
	checker *countingChecker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The real scheduler, not running: cancel needs only its store side.
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadBytes("test.hcl", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}, checker: &countingChecker{}}
	a, err := api.New(api.Options{
		Config:   func() *config.Config { return cfg },
		Calls:    db,
		Canceler: sched,
		DND:      db,
		Plugins: plugins{{Name: "hubspot", Version: "1.0.0", Source: "builtin", State: "running", PID: 4242,
			Manifest: &api.Manifest{ContentTypes: []string{"application/json"}, PhoneFields: []string{"mobilephone", "phone"}}}},
		Manifests:   builtinManifests{},
		Credentials: e.checker,
		Rules:       rulesTester{cfg},
		Backup:      db,
		Outbox:      db,
		Eraser:      sched,
		Now:         e.clock.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// addCall stores a call created at the given minute past the env's clock.
func (e *env) addCall(t *testing.T, agent, number, status string, minute int) store.Call {
	t.Helper()
	next := e.clock.now().Add(time.Hour)
	c := store.Call{AgentID: agent, Status: status, ToNumber: number, Dialer: "log",
		Variables: map[string]string{"firstname": "Ada"},
		Source:    store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: fmt.Sprint(minute), Account: "62515"},
		Policy:    store.Policy{Timezone: "Asia/Kolkata", Retry: store.RetryPolicy{Max: 1, Gaps: []store.Duration{store.Duration(time.Hour)}, On: []string{"no_answer"}}},
	}
	if !store.Final(status) {
		c.NextAttemptAt = &next
	} else {
		c.Reason = "test: " + status
	}
	got, created, err := e.db.CreateCall(context.Background(), c, store.CreateOptions{Now: e.clock.now().Add(time.Duration(minute) * time.Minute)})
	if err != nil || !created {
		t.Fatalf("create call: created=%v err=%v", created, err)
	}
	return got
}

// do sends a request and decodes the JSON answer into out (if non-nil).
func (e *env) do(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q, body %s", method, path, ct, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}
