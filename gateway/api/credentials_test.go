package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/sdk"
)

// scriptedChecker answers each integration's check with the error set for
// it and counts the checks.
type scriptedChecker struct {
	mu     sync.Mutex
	errs   map[string]error
	counts map[string]int
}

func (c *scriptedChecker) CheckCredentials(_ context.Context, integration string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[integration]++
	return c.errs[integration]
}

func (c *scriptedChecker) count(integration string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[integration]
}

func integrationsConfig(t *testing.T, hubspotToken string) *config.Config {
	t.Helper()
	cfg, err := config.LoadBytes("creds.hcl", []byte(fmt.Sprintf(`
integration "hubspot" {
  access_token = %q
}
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
dialer "log" {
  type = "log"
}
agent "a" {}
`, hubspotToken)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// credentialsAPI is an API over a config a test can swap, as a reload does.
func credentialsAPI(t *testing.T, checker api.CredentialChecker, cfg *atomic.Pointer[config.Config], now func() time.Time) *api.API {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Config: cfg.Load, Calls: db, Canceler: sched, DND: db, Credentials: checker, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCredentialStates(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantState string
		wantOK    bool
	}{
		{"accepted", nil, api.CredentialsAccepted, true},
		{"auth", sdk.Auth("hubspot: check credentials: the token was rejected (401)"), api.CredentialsRejected, false},
		{"transient", sdk.Transient("hubspot: check credentials: dial tcp: connection refused"), api.CredentialsUnreachable, false},
		{"rate limited", sdk.RateLimited(10*time.Second, "hubspot: check credentials: 429"), api.CredentialsUnreachable, false},
		{"no class (plugin down)", errors.New(`no plugin "hubspot" runs for integration "hubspot"`), api.CredentialsUnreachable, false},
		{"permanent", sdk.Permanent("hubspot: check credentials: answered 404; check the integration's base_url"), api.CredentialsFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg atomic.Pointer[config.Config]
			cfg.Store(integrationsConfig(t, "pat-1"))
			checker := &scriptedChecker{errs: map[string]error{"hubspot": tt.err}, counts: map[string]int{}}
			a := credentialsAPI(t, checker, &cfg, time.Now)
			in, err := a.CheckCredentials(context.Background(), "hubspot")
			if err != nil {
				t.Fatal(err)
			}
			c := in.Credentials
			if c.State != tt.wantState || c.OK != tt.wantOK || !c.Checked {
				t.Fatalf("credentials %+v, want state %s", c, tt.wantState)
			}
			var se *sdk.Error
			if errors.As(tt.err, &se) && c.Error != se.Message {
				t.Errorf("error %q, want the plugin's message %q without its class", c.Error, se.Message)
			}
		})
	}
}

// TestCredentialCheckFollowsTheConfig: a result is reused while the
// integration's credentials stay the same, and checked again once a
// reload changes them, by the next view or by RefreshCredentials; Check
// now always checks.
func TestCredentialCheckFollowsTheConfig(t *testing.T) {
	var cfg atomic.Pointer[config.Config]
	cfg.Store(integrationsConfig(t, "pat-old"))
	checker := &scriptedChecker{errs: map[string]error{"hubspot": sdk.Auth("token rejected (401)")}, counts: map[string]int{}}
	a := credentialsAPI(t, checker, &cfg, time.Now)
	ctx := context.Background()

	a.PluginList(ctx)
	a.PluginList(ctx)
	if n := checker.count("hubspot"); n != 1 {
		t.Fatalf("%d checks for two views, want 1", n)
	}
	if got := a.RefreshCredentials(ctx); len(got) != 0 {
		t.Fatalf("nothing changed, yet RefreshCredentials checked %+v", got)
	}
	cfg.Store(integrationsConfig(t, "pat-old")) // a reload that changes nothing
	a.PluginList(ctx)
	if n := checker.count("hubspot"); n != 1 {
		t.Fatalf("a reload with the same credentials made %d checks, want 1", n)
	}

	checker.mu.Lock()
	checker.errs["hubspot"] = nil // the new token works
	checker.mu.Unlock()
	cfg.Store(integrationsConfig(t, "pat-new"))
	got := a.RefreshCredentials(ctx)
	if len(got) != 1 || got[0].Name != "hubspot" || got[0].Credentials.State != api.CredentialsAccepted {
		t.Fatalf("after the token changed RefreshCredentials checked %+v, want hubspot accepted", got)
	}
	if checker.count("hubspot") != 2 || checker.count("lsq") != 1 {
		t.Fatalf("checks: hubspot %d (want 2), lsq %d (want 1: its credentials did not change)", checker.count("hubspot"), checker.count("lsq"))
	}
	list := a.PluginList(ctx)
	if list.Integrations[0].Credentials.State != api.CredentialsAccepted || checker.count("hubspot") != 2 {
		t.Fatalf("the view after the refresh: %+v, %d checks", list.Integrations[0], checker.count("hubspot"))
	}

	cfg.Store(integrationsConfig(t, "pat-newer")) // no refresh: the next view checks
	a.PluginList(ctx)
	if n := checker.count("hubspot"); n != 3 {
		t.Fatalf("the view after a credential change made %d checks in all, want 3", n)
	}

	if _, err := a.CheckCredentials(ctx, "hubspot"); err != nil || checker.count("hubspot") != 4 {
		t.Fatalf("check now: %v, %d checks (want 4)", err, checker.count("hubspot"))
	}
	if _, err := a.CheckCredentials(ctx, "nope"); !errors.Is(err, api.ErrUnknownIntegration) {
		t.Fatalf("unknown integration: %v", err)
	}
}

func TestCheckCredentialsRoute(t *testing.T) {
	var cfg atomic.Pointer[config.Config]
	cfg.Store(integrationsConfig(t, "pat"))
	checker := &scriptedChecker{errs: map[string]error{"lsq": sdk.Transient("leadsquared: could not reach the API")}, counts: map[string]int{}}
	srv := httptest.NewServer(credentialsAPI(t, checker, &cfg, time.Now).Handler())
	t.Cleanup(srv.Close)
	e := &env{srv: srv}
	var in api.Integration
	if code := e.do(t, "POST", "/api/v1/integrations/lsq/check", "", &in); code != 200 || in.Credentials.State != api.CredentialsUnreachable {
		t.Fatalf("%d %+v", code, in)
	}
	var msg map[string]any
	if code := e.do(t, "POST", "/api/v1/integrations/nope/check", "", &msg); code != 404 {
		t.Fatalf("unknown integration: %d %v", code, msg)
	}
}
