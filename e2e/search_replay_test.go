package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFailedEventsBulkReplayAndSearch is "why wasn't this person
// called?" through the real binary: with a wrong HubSpot token the
// webhook's event fails; once the token is fixed (SIGHUP),
// `events replay --status failed --agent sales-intro` puts it back in
// the queue, it becomes a call, and a search by the number in another
// format finds both the call and the event, which shows its call's status.
func TestFailedEventsBulkReplayAndSearch(t *testing.T) {
	fakeAddr := freeAddr(t)
	startFake(t, "hubspot", "--listen", fakeAddr)
	raw, err := os.ReadFile("../configs/quickstart.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), `listen           = "127.0.0.1:8080"`, `listen           = "{{.Listen}}"`, 1)
	cfg = strings.Replace(cfg, `data_dir         = "./data"`, `data_dir         = "{{.DataDir}}"`, 1)
	cfg = strings.Replace(cfg, `base_url     = env("HUBSPOT_BASE_URL", "http://127.0.0.1:8090")`, `base_url     = "http://`+fakeAddr+`"`, 1)
	good := cfg
	bad := strings.Replace(cfg, `access_token = env("HUBSPOT_ACCESS_TOKEN", "demo-access-token")`, `access_token = "pat-wrong-token"`, 1)
	if bad == good || !strings.Contains(good, fakeAddr) {
		t.Fatal("configs/quickstart.hcl no longer has the lines this test rewrites")
	}
	g := launch(t, gatewayOptions{Config: bad})
	admin := []string{"--addr", g.URL, "--token", "demo-admin-token"}

	if r := runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "sales-intro", "--key", "demo-api-key", "--contact", "1001"); r.Code != 0 {
		t.Fatalf("webhook send: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	ev := waitForEvent(t, g, "status=failed&agent_id=sales-intro")
	if !strings.Contains(ev.Reason, "401") && !strings.Contains(strings.ToLower(ev.Reason), "token") {
		t.Fatalf("failed event's reason %q does not name the token", ev.Reason)
	}

	// Nothing to replay for another agent; the dry run counts this one.
	if r := runCLI(t, nil, append(admin, "events", "replay", "--status", "failed", "--agent", "sales-intro", "--dry-run")...); r.Code != 0 || !strings.Contains(r.Stdout, "would replay 1 event;") {
		t.Fatalf("dry run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, nil, append(admin, "events", "replay")...); r.Code == 0 || !strings.Contains(r.Stderr, "give an event ID, or filter flags") {
		t.Fatalf("replay without ID or filter: exit %d\n%s", r.Code, r.Stderr)
	}

	g.WriteConfig(good)
	g.Signal(syscall.SIGHUP)
	g.WaitForOutput("config reloaded")
	r := runCLI(t, nil, append(admin, "events", "replay", "--status", "failed", "--agent", "sales-intro", "--since", ev.ReceivedAt.Add(-time.Minute).Format(time.RFC3339))...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "replayed 1 event;") {
		t.Fatalf("bulk replay: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	got := waitForEvent(t, g, "status=called&agent_id=sales-intro")
	if got.ID != ev.ID || len(got.History) != 1 || !strings.Contains(got.History[0], "failed") {
		t.Fatalf("replayed event = %+v, want %s called with its failure in history", got, ev.ID)
	}
	call := waitForCall(t, g, "Ada")

	// The fake's contact 1001 is +91 98765 43210: search in the national form.
	calls := runCLI(t, nil, append(admin, "calls", "list", "--q", "098765 43210")...)
	if calls.Code != 0 || !strings.Contains(calls.Stdout, call.ID) || !strings.Contains(calls.Stdout, "Ada") {
		t.Fatalf("calls list --q: exit %d\n%s%s", calls.Code, calls.Stdout, calls.Stderr)
	}
	events := runCLI(t, nil, append(admin, "events", "list", "--q", "+919876543210", "-o", "json")...)
	if events.Code != 0 || !strings.Contains(events.Stdout, ev.ID) || !strings.Contains(events.Stdout, `"call_status": "completed"`) {
		t.Fatalf("events list --q: exit %d\n%s%s", events.Code, events.Stdout, events.Stderr)
	}
	if none := runCLI(t, nil, append(admin, "calls", "list", "--q", "+919800000000")...); !strings.Contains(none.Stderr, "no calls match") {
		t.Errorf("a search for another number found calls:\n%s", none.Stdout)
	}
}

// e2eEvent is the part of an event the test reads.
type e2eEvent struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"received_at"`
	History    []string  `json:"history"`
	CallStatus string    `json:"call_status"`
}

// waitForEvent polls GET /api/v1/events?query until one event is listed.
func waitForEvent(t *testing.T, g *gateway, query string) e2eEvent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		code, body := g.Do(http.MethodGet, "/api/v1/events?"+query, nil, http.Header{"Authorization": {"Bearer demo-admin-token"}})
		var list struct{ Events []e2eEvent }
		if code == http.StatusOK && json.Unmarshal(body, &list) == nil && len(list.Events) > 0 {
			return list.Events[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no event for %s", query)
	return e2eEvent{}
}
