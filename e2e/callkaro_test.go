package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
)

// callkaroConfig has one agent calling through the hosted service's API,
// which has no idempotency key: an attempt that may have been placed must
// never be sent again.
func callkaroConfig(platformURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
}
api_key "outbound" {
  sha256 = %q
}
dialer "ck" {
  type            = "callkaro"
  url             = %q
  api_key         = "ck-key"
  secret          = "ck-token"
  outcome_timeout = "30m"
}
agent "sales" {
  dialer = "ck"
  retry {
    max  = 2
    gaps = ["1m"]
  }
}
`, e2eAdminTokenSHA, sha256Hex(webhookAPIKey), platformURL)
}

// TestCallkaroUncertainDialSurvivesACrash: the platform takes the call but
// the connection drops before it answers, so the gateway cannot know
// whether the person's phone is ringing. The attempt waits for its outcome
// marked for an operator; a SIGKILL and restart must not re-send it either;
// the call_ended webhook then completes it. One dial in all.
func TestCallkaroUncertainDialSurvivesACrash(t *testing.T) {
	platform := dialertest.New(t, dialertest.Callkaro, "ck-key")
	platform.FailNext(1, 0, "") // takes the call, then drops the connection
	cfg := callkaroConfig(platform.URL)
	g := startGateway(t, cfg)

	status, body := g.Do(http.MethodPost, "/call/outbound",
		strings.NewReader(`{"to_number":"+919876500001","agent_id":"sales","metadata":{"name":"Ada"}}`),
		http.Header{"X-API-KEY": {webhookAPIKey}, "Content-Type": {"application/json"}})
	if status != http.StatusOK {
		t.Fatalf("outbound = %d %s", status, body)
	}
	var queued struct {
		CallSID string `json:"call_sid"`
	}
	if err := json.Unmarshal(body, &queued); err != nil || queued.CallSID == "" {
		t.Fatalf("outbound answer %s: %v", body, err)
	}

	var c store.Call
	waitFor(t, 10*time.Second, "the attempt marked for an operator", func() bool {
		adminJSON(t, g, "/api/v1/calls/"+queued.CallSID, &c)
		return len(c.Attempts) == 1 && c.Attempts[0].NeedsOperator
	})
	if c.Status != store.CallDialing || c.Attempts[0].Outcome != "" {
		t.Fatalf("call %s (%s), attempt %+v: want dialing, waiting for its outcome", c.Status, c.Reason, c.Attempts[0])
	}

	g.Crash()
	g = launch(t, gatewayOptions{Config: cfg, DataDir: g.DataDir})
	time.Sleep(500 * time.Millisecond) // room for a re-send to show up
	if n := len(platform.Dials()); n != 1 {
		t.Fatalf("the platform got %d dials after the restart, want 1", n)
	}

	codes, err := platform.EndCall(context.Background(), http.DefaultClient, 0,
		g.URL+"/call/status/ck?token=ck-token", "completed", "interested", 31, 1)
	if err != nil || codes[0] != http.StatusOK {
		t.Fatalf("call_ended = %v, %v", codes, err)
	}
	waitFor(t, 10*time.Second, "the call completed", func() bool {
		adminJSON(t, g, "/api/v1/calls/"+queued.CallSID, &c)
		return c.Status == store.CallCompleted
	})
	if n := len(platform.Dials()); n != 1 || len(c.Attempts) != 1 {
		t.Fatalf("%d dials, %d attempts; want one of each", n, len(c.Attempts))
	}
}
