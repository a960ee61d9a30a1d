package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// dndConfig is a gateway whose agent "sales" places /call/outbound calls
// through an http dialer, reading schedule_at in Asia/Kolkata.
func dndConfig(dialerURL string) string {
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
dialer "voice" {
  type   = "http"
  url    = %q
  secret = "e2e-dialer-secret"
}
agent "sales" {
  dialer   = "voice"
  timezone = "Asia/Kolkata"
}
`, e2eAdminTokenSHA, sha256Hex(webhookAPIKey), dialerURL)
}

// TestDNDCheckedWhenTheCallIsPlaced: two calls are scheduled a few seconds
// ahead; the gateway is stopped, one number is put on the do-not-call list
// straight in the data file (so nothing cancels its call, as when another
// replica or tool lists it), and the gateway started again. When the calls
// come due, the listed one ends blocked with a reason and never reaches the
// dialer; the other is dialed.
func TestDNDCheckedWhenTheCallIsPlaced(t *testing.T) {
	platform := dialertest.New(t, dialertest.HTTP, "")
	cfg := dndConfig(platform.URL)
	dataDir := t.TempDir()
	g := launch(t, gatewayOptions{Config: cfg, DataDir: dataDir})

	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(8 * time.Second).Truncate(time.Second)
	schedule := func(number string) string {
		t.Helper()
		body := fmt.Sprintf(`{"to_number":%q,"agent_id":"sales","schedule_at":%q}`, number, due.In(kolkata).Format("2006-01-02T15:04:05"))
		status, out := g.Do(http.MethodPost, "/call/outbound", strings.NewReader(body),
			http.Header{"X-API-KEY": {webhookAPIKey}, "Content-Type": {"application/json"}})
		var queued struct {
			CallSID string `json:"call_sid"`
		}
		if status != http.StatusOK || json.Unmarshal(out, &queued) != nil || queued.CallSID == "" {
			t.Fatalf("outbound %s = %d %s", number, status, out)
		}
		return queued.CallSID
	}
	const listed, clear = "+919876547101", "+919876547102"
	listedID, clearID := schedule(listed), schedule(clear)
	var c store.Call
	adminJSON(t, g, "/api/v1/calls/"+listedID, &c)
	if c.Status != store.CallScheduled || c.NextAttemptAt == nil || !c.NextAttemptAt.Equal(due) {
		t.Fatalf("call = %s at %v, want scheduled at %s", c.Status, c.NextAttemptAt, due)
	}
	if code := g.Stop(); code != 0 {
		t.Fatalf("SIGTERM exit code %d", code)
	}

	db, err := bolt.Open(bolt.Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddDND(context.Background(), listed, "listed while the gateway was down", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	g = launch(t, gatewayOptions{Config: cfg, DataDir: dataDir})
	waitFor(t, 30*time.Second, "the listed call to end", func() bool {
		adminJSON(t, g, "/api/v1/calls/"+listedID, &c)
		return store.Final(c.Status)
	})
	if c.Status != store.CallBlocked || c.Reason != "not dialed: the number is on the do-not-call list (checked when attempt 1 was due)" || len(c.Attempts) != 0 {
		t.Fatalf("listed call = %s %q with %d attempts, want blocked when due", c.Status, c.Reason, len(c.Attempts))
	}
	waitFor(t, 15*time.Second, "the unlisted call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	time.Sleep(200 * time.Millisecond) // a dial of the listed number would have gone out with it
	for _, d := range platform.Dials() {
		var req dialer.HTTPDialRequest
		if err := json.Unmarshal(d.Body, &req); err != nil {
			t.Fatal(err)
		}
		if req.ToNumber == listed || req.CallID == listedID {
			t.Fatalf("the listed number was dialed: %s", d.Body)
		}
		if req.CallID != clearID {
			t.Fatalf("unexpected dial %s", d.Body)
		}
	}
	status, metrics := g.Do(http.MethodGet, "/metrics", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(metrics), `callgate_scheduler_calls_final_total{status="blocked"} 1`) {
		t.Fatalf("/metrics lacks the blocked final:\n%s", grepLines(string(metrics), "callgate_scheduler_calls_final"))
	}
	if strings.Contains(g.Output(), strings.TrimPrefix(listed, "+")) {
		t.Fatalf("the listed number appears in the log:\n%s", g.Output())
	}
}
