package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

const (
	webhookAPIKey = "e2e-webhook-key"
	hubspotSecret = "e2e-hubspot-client-secret"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// webhookConfig is a gateway whose agent "sales" calls HubSpot contacts
// through an http dialer. when covers creation and property changes, so
// the pair reaches the dedupe.
func webhookConfig(hubspotURL, dialerURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
}
api_key "hubspot" {
  sha256 = %q
  agents = ["sales"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "voice" {
  type   = "http"
  url    = %q
  secret = "e2e-dialer-secret"
}
agent "sales" {
  dialer       = "voice"
  integrations = ["hubspot"]
  when         = "event.kind in ['created', 'updated']"
  variables = {
    firstname = "contact.firstname ?? 'there'"
    company   = "upper(contact.company ?? '')"
  }
}
`, e2eAdminTokenSHA, sha256Hex(webhookAPIKey), hubspottest.DefaultToken, hubspotSecret, hubspotURL, dialerURL)
}

// creation is a contact.creation event for id; equal arguments make a redelivery.
func creation(id int64, occurred time.Time, attempt int) hubspottest.Event {
	return hubspottest.Event{EventID: 1000 + id, SubscriptionID: 1, PortalID: 62515, AppID: 54321, OccurredAt: occurred.UnixMilli(),
		SubscriptionType: "contact.creation", AttemptNumber: attempt, ObjectID: id, ChangeSource: "CRM_UI"}
}

// sendHubSpot posts events to g as HubSpot does: signed (v3) for the URL it calls.
func sendHubSpot(g *gateway, evs ...hubspottest.Event) (int, []byte) {
	g.t.Helper()
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey
	body, _ := json.Marshal(evs)
	h := hubspottest.Sign(hubspotSecret, "v3", http.MethodPost, g.URL+path, body, time.Now())
	return g.Do(http.MethodPost, path, bytes.NewReader(body), h)
}

// adminJSON GETs an admin API document with the e2e admin token.
func adminJSON(t *testing.T, g *gateway, path string, out any) {
	t.Helper()
	status, body := g.Do(http.MethodGet, path, nil, http.Header{"Authorization": {"Bearer " + e2eAdminToken}})
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestHubSpotWebhookBecomesOneCall(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("501", map[string]any{"firstname": "Ada", "company": "Analytical Engines", "mobilephone": "+91 98765 43210"})
	g := startGateway(t, webhookConfig(hs.URL, platform.URL))

	occurred := time.Now().Add(-2 * time.Second)
	status, body := sendHubSpot(g, creation(501, occurred, 0))
	if status != http.StatusOK || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("webhook = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	d := platform.Dials()[0]
	var req dialer.HTTPDialRequest
	if err := json.Unmarshal(d.Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.ToNumber != "+919876543210" || req.AgentID != "sales" || req.Variables["firstname"] != "Ada" || req.Variables["company"] != "ANALYTICAL ENGINES" {
		t.Fatalf("dial = %s", d.Body)
	}
	if !strings.HasPrefix(d.Key, req.CallID+"-") {
		t.Fatalf("Idempotency-Key %q does not name call %s", d.Key, req.CallID)
	}

	// HubSpot redelivers the creation, and the property change that
	// followed it arrives: neither may call Ada again.
	status, body = sendHubSpot(g, creation(501, occurred, 1))
	if status != http.StatusOK || !strings.Contains(string(body), `"duplicates":1`) {
		t.Fatalf("redelivery = %d %s", status, body)
	}
	change := creation(501, occurred.Add(time.Second), 0)
	change.EventID, change.SubscriptionType, change.PropertyName, change.PropertyValue = 2000, "contact.propertyChange", "lifecyclestage", "lead"
	if status, body = sendHubSpot(g, change); status != http.StatusOK {
		t.Fatalf("property change = %d %s", status, body)
	}
	var list struct {
		Events []store.Event `json:"events"`
	}
	waitFor(t, 15*time.Second, "both events to finish", func() bool {
		adminJSON(t, g, "/api/v1/events", &list)
		for _, ev := range list.Events {
			if ev.Status == store.EventPending {
				return false
			}
		}
		return len(list.Events) == 2
	})
	for _, ev := range list.Events {
		if ev.Status != store.EventCalled || ev.CallID != req.CallID {
			t.Fatalf("event %s (%s): %s %q call %s, want called with %s", ev.ID, ev.EventType, ev.Status, ev.Reason, ev.CallID, req.CallID)
		}
	}
	if !strings.Contains(list.Events[0].Reason, "duplicate of call") {
		t.Fatalf("newest event reason %q, want a duplicate", list.Events[0].Reason)
	}
	var one store.Event
	adminJSON(t, g, "/api/v1/events/"+list.Events[1].ID, &one)
	if one.ObjectID != "501" || one.Account != "62515" {
		t.Fatalf("event = %+v", one)
	}
	time.Sleep(200 * time.Millisecond) // a second dial would have gone out by now
	if n := len(platform.Dials()); n != 1 {
		t.Fatalf("%d dials, want 1", n)
	}

	t.Run("metrics", func(t *testing.T) {
		status, body := g.Do(http.MethodGet, "/metrics", nil, nil)
		for _, want := range []string{
			`callgate_events_accepted_total{type="hubspot"} 2`, `callgate_events_duplicate_total{type="hubspot"} 1`,
			`callgate_inbox_pending_events 0`, `callgate_events_finished_total{status="called",type="hubspot"} 2`,
			`callgate_crm_fetch_seconds_count{type="hubspot"}`,
		} {
			if status != http.StatusOK || !strings.Contains(string(body), want) {
				t.Fatalf("/metrics (%d) lacks %s:\n%s", status, want, grepLines(string(body), "callgate_events", "callgate_inbox", "callgate_crm"))
			}
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey
		body, _ := json.Marshal([]hubspottest.Event{creation(502, time.Now(), 0)})
		h := hubspottest.Sign("not-the-secret", "v3", http.MethodPost, g.URL+path, body, time.Now())
		if status, out := g.Do(http.MethodPost, path, bytes.NewReader(body), h); status != http.StatusUnauthorized {
			t.Fatalf("= %d %s, want 401", status, out)
		}
	})
}

// grepLines keeps the lines of s that hold one of the words.
func grepLines(s string, words ...string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(line, w) && !strings.HasPrefix(line, "#") {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
