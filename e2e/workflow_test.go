package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// sendWorkflow posts a workflow's "Send a webhook" body to g, signed with
// the app's secret (v1, as a workflow with "Use request signature" does).
func sendWorkflow(g *gateway, query string, body []byte) (int, []byte) {
	g.t.Helper()
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey + query
	h := hubspottest.Sign(hubspotSecret, "v1", http.MethodPost, g.URL+path, body, time.Now())
	return g.Do(http.MethodPost, path, bytes.NewReader(body), h)
}

// TestHubSpotWorkflowWebhook: a contact-based workflow posts the enrolled
// contact (v1 shape, signed). It becomes one call with the record taken
// from the body, so HubSpot is not asked for the contact; the workflow's
// retry of the same delivery is a duplicate. A customised body that lacks a
// property the rules read is fetched.
func TestHubSpotWorkflowWebhook(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("701", map[string]any{"firstname": "Grace", "company": "Navy", "mobilephone": "+91 98765 43270"})
	g := startGateway(t, webhookConfig(hs.URL, platform.URL))

	body, ok := hs.WorkflowContact("701", 62515)
	if !ok {
		t.Fatal("no contact")
	}
	status, out := sendWorkflow(g, "", body)
	if status != http.StatusOK || !strings.Contains(string(out), `"accepted":1`) {
		t.Fatalf("workflow webhook = %d %s", status, out)
	}
	waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	var req dialer.HTTPDialRequest
	if err := json.Unmarshal(platform.Dials()[0].Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.ToNumber != "+919876543270" || req.Variables["firstname"] != "Grace" || req.Variables["company"] != "NAVY" {
		t.Fatalf("dial %s", platform.Dials()[0].Body)
	}
	if st := hs.Stats(); st.BatchRead != 0 || st.GetContact != 0 {
		t.Fatalf("HubSpot saw contact reads %+v: the body carried every field", st)
	}
	// The workflow did not see the 200 in time and retries.
	status, out = sendWorkflow(g, "", body)
	if status != http.StatusOK || !strings.Contains(string(out), `"duplicates":1`) {
		t.Fatalf("retry = %d %s", status, out)
	}
	evs := eventsSettled(t, g, 1)
	if ev := evs[0]; ev.Status != store.EventCalled || ev.EventType != "contact.workflow" || ev.Kind != "created" || ev.ObjectID != "701" || ev.Account != "62515" {
		t.Fatalf("event %+v", ev)
	}

	// A customised body with only the phone and the id: the rules read
	// firstname and company, so the contact is fetched. event=updated says
	// what the workflow means.
	hs.AddContact("702", map[string]any{"firstname": "Katherine", "mobilephone": "+91 98765 43271"})
	custom := hubspottest.WorkflowCustom("702", map[string]any{"mobilephone": "+91 98765 43271"})
	if status, out := sendWorkflow(g, "&event=updated", custom); status != http.StatusOK || !strings.Contains(string(out), `"accepted":1`) {
		t.Fatalf("custom body = %d %s", status, out)
	}
	waitFor(t, 15*time.Second, "the second call", func() bool { return len(platform.Dials()) == 2 })
	if err := json.Unmarshal(platform.Dials()[1].Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Variables["firstname"] != "Katherine" {
		t.Fatalf("dial %s", platform.Dials()[1].Body)
	}
	if st := hs.Stats(); st.GetContact+st.BatchRead != 1 {
		t.Fatalf("HubSpot reads %+v: want the one fetch of contact 702", st)
	}
	evs = eventsSettled(t, g, 2)
	if evs[0].Kind != "updated" || evs[0].Status != store.EventCalled {
		t.Fatalf("custom body event %+v", evs[0])
	}

	// A body naming no record is kept, failed with the reason, and answered 200.
	if status, out := sendWorkflow(g, "", []byte(`{"firstname":"Nobody"}`)); status != http.StatusOK || !strings.Contains(string(out), `"failed":1`) {
		t.Fatalf("no id = %d %s", status, out)
	}
	evs = eventsSettled(t, g, 3)
	if evs[0].Status != store.EventFailed || !strings.Contains(evs[0].Reason, "hs_object_id") {
		t.Fatalf("no-id event %+v", evs[0])
	}
	// Signed with another secret: refused.
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey
	h := hubspottest.Sign("not-the-secret", "v1", http.MethodPost, g.URL+path, body, time.Now())
	if status, out := g.Do(http.MethodPost, path, bytes.NewReader(body), h); status != http.StatusUnauthorized {
		t.Fatalf("bad signature = %d %s", status, out)
	}
}
