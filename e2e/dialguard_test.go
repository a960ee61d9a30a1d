package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// TestCallkaro5xxIsNotResent: the hosted API answers 503 to a dial it may
// have queued. The attempt is never re-sent (one dial in all), waits for
// its outcome marked for an operator, and the call_ended webhook still
// settles it.
func TestCallkaro5xxIsNotResent(t *testing.T) {
	platform := dialertest.New(t, dialertest.Callkaro, "ck-key")
	platform.FailNext(1, 503, `{"status":"error","message":"Internal server error"}`)
	g := startGateway(t, callkaroConfig(platform.URL))
	status, body := g.Do(http.MethodPost, "/call/outbound",
		strings.NewReader(`{"to_number":"+919876500002","agent_id":"sales"}`),
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
	if c.Status != store.CallDialing || !strings.Contains(c.Reason, "503") {
		t.Errorf("call = %s %q, want dialing with the 503 in its reason", c.Status, c.Reason)
	}
	time.Sleep(500 * time.Millisecond) // room for a re-send to show up
	if n := len(platform.Dials()); n != 1 {
		t.Fatalf("the platform got %d dials, want 1: a 5xx must not be re-sent", n)
	}
}

// TestSubSecondRetryGapRefused: gap_between_retries=0.0001 (0.36 s, once
// stored as 0 s) is a 400 naming the parameter, nothing is stored.
func TestSubSecondRetryGapRefused(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	g := startGateway(t, webhookConfig(hs.URL, "http://127.0.0.1:1"))
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey + "&num_of_retries=10&gap_between_retries=0.0001"
	status, body := g.Do(http.MethodPost, path, strings.NewReader(`[]`), http.Header{"Content-Type": {"application/json"}})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "gap_between_retries") || !strings.Contains(string(body), "at least 1m") {
		t.Fatalf("webhook = %d %s, want 400 naming gap_between_retries and its floor", status, body)
	}
	status, body = g.Do(http.MethodPost, "/call/outbound",
		strings.NewReader(`{"to_number":"+919876500003","agent_id":"sales","number_of_retries":10,"gap_between_retries":0.006}`),
		http.Header{"X-API-KEY": {webhookAPIKey}, "Content-Type": {"application/json"}})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "gap_between_retries") {
		t.Fatalf("outbound = %d %s, want 400 naming gap_between_retries", status, body)
	}
	var list struct{ Calls []store.Call }
	adminJSON(t, g, "/api/v1/calls", &list)
	if len(list.Calls) != 0 {
		t.Errorf("%d calls stored", len(list.Calls))
	}
}
