package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// hubspotAgentConfig is webhookConfig with the agent's when rule given.
func hubspotAgentConfig(hubspotURL, dialerURL, when string) string {
	return strings.Replace(webhookConfig(hubspotURL, dialerURL), `when         = "event.kind in ['created', 'updated']"`, fmt.Sprintf("when         = %q", when), 1)
}

// sendRaw posts a raw body to g's HubSpot webhook URL, signed (v3) as HubSpot signs it.
func sendRaw(g *gateway, query string, body []byte) (int, []byte) {
	g.t.Helper()
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey + query
	h := hubspottest.Sign(hubspotSecret, "v3", http.MethodPost, g.URL+path, body, time.Now())
	return g.Do(http.MethodPost, path, bytes.NewReader(body), h)
}

// eventsSettled lists the events once none is pending and there are n.
func eventsSettled(t *testing.T, g *gateway, n int) []store.Event {
	t.Helper()
	var list struct {
		Events []store.Event `json:"events"`
	}
	waitFor(t, 20*time.Second, fmt.Sprintf("%d settled events", n), func() bool {
		adminJSON(t, g, "/api/v1/events", &list)
		for _, ev := range list.Events {
			if ev.Status == store.EventPending {
				return false
			}
		}
		return len(list.Events) == n
	})
	return list.Events
}

func byObject(evs []store.Event, typ string) (store.Event, bool) {
	for _, ev := range evs {
		if ev.EventType == typ {
			return ev, true
		}
	}
	return store.Event{}, false
}

// TestHubSpotBatchKeepsGoodEvents: a batch of three, one of a type
// callgate does not know and one without objectId, is answered 200; the
// good one becomes a call, the other two are visible in the events API,
// ignored and failed with their reasons, and never reach the pipeline.
func TestHubSpotBatchKeepsGoodEvents(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("601", map[string]any{"firstname": "Ada", "mobilephone": "+91 98765 43210"})
	g := startGateway(t, webhookConfig(hs.URL, platform.URL))

	now := time.Now().Add(-time.Second)
	unknown := creation(602, now, 0)
	unknown.EventID, unknown.SubscriptionType = 3002, "contact.somethingHubSpotAddsLater"
	body, _ := json.Marshal([]hubspottest.Event{creation(601, now, 0), unknown})
	// The third event names no object (HubSpot's "Test" button can send such).
	body = append(body[:len(body)-1], []byte(`,{"eventId":3003,"subscriptionId":1,"portalId":62515,"occurredAt":1764244800000,"subscriptionType":"contact.creation","attemptNumber":0}]`)...)
	status, out := sendRaw(g, "", body)
	if status != http.StatusOK || !strings.Contains(string(out), `"accepted":1`) || !strings.Contains(string(out), `"ignored":1`) || !strings.Contains(string(out), `"failed":1`) {
		t.Fatalf("webhook = %d %s", status, out)
	}
	evs := eventsSettled(t, g, 3)
	waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	statuses := map[string]store.Event{}
	for _, ev := range evs {
		statuses[ev.Status] = ev
	}
	if ev := statuses[store.EventCalled]; ev.ObjectID != "601" {
		t.Fatalf("called event %+v", ev)
	}
	if ev := statuses[store.EventIgnored]; ev.ObjectID != "602" || !strings.Contains(ev.Reason, "contact.somethingHubSpotAddsLater") || !strings.Contains(ev.Reason, "not one callgate acts on") {
		t.Fatalf("ignored event %+v", ev)
	}
	if ev := statuses[store.EventFailed]; !strings.Contains(ev.Reason, "contact.creation has no objectId") || ev.Key == "" {
		t.Fatalf("failed event %+v", ev)
	}
	var failed struct {
		Events []store.Event `json:"events"`
	}
	adminJSON(t, g, "/api/v1/events?status=failed", &failed)
	if len(failed.Events) != 1 {
		t.Fatalf("?status=failed lists %d events", len(failed.Events))
	}
	// HubSpot retries the whole batch (say the 200 was lost): nothing new.
	status, out = sendRaw(g, "", body)
	if status != http.StatusOK || !strings.Contains(string(out), `"duplicates":3`) {
		t.Fatalf("redelivery = %d %s", status, out)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(platform.Dials()); n != 1 {
		t.Fatalf("%d dials, want 1", n)
	}
	if st := hs.Stats(); st.GetContact+st.BatchRead != 1 {
		t.Fatalf("HubSpot reads %+v: only the good event's contact should be read", st)
	}
}

// TestHubSpotChangeSourceAndAssociation: the rules see HubSpot's
// changeSource (an imported contact is not called) and an association's
// other side (a contact associated to a company is).
func TestHubSpotChangeSourceAndAssociation(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("611", map[string]any{"firstname": "Imported", "mobilephone": "+91 98765 43211"})
	hs.AddContact("612", map[string]any{"firstname": "Typed", "mobilephone": "+91 98765 43212"})
	hs.AddContact("613", map[string]any{"firstname": "Associated", "mobilephone": "+91 98765 43213"})
	when := "(event.kind == 'created' && event.change_source != 'IMPORT') || (event.type == 'object.associationChange' && event.related_object_type == 'company')"
	g := startGateway(t, hubspotAgentConfig(hs.URL, platform.URL, when))

	now := time.Now().Add(-time.Second)
	imported := creation(611, now, 0)
	imported.ChangeSource, imported.SourceID = "IMPORT", "userId:42"
	if status, out := sendHubSpot(g, imported, creation(612, now, 0)); status != http.StatusOK {
		t.Fatalf("creations = %d %s", status, out)
	}
	assoc := []byte(fmt.Sprintf(`[{"eventId":4001,"subscriptionId":7,"portalId":62515,"appId":54321,"occurredAt":%d,"subscriptionType":"object.associationChange","attemptNumber":0,"changeSource":"CRM_UI","sourceId":"userId:45678","associationTypeId":1,"associationCategory":"HUBSPOT_DEFINED","fromObjectTypeId":"0-1","fromObjectId":613,"toObjectTypeId":"0-2","toObjectId":18440015001,"associationRemoved":false,"isPrimaryAssociation":true}]`, now.UnixMilli()))
	if status, out := sendRaw(g, "", assoc); status != http.StatusOK || !strings.Contains(string(out), `"accepted":1`) {
		t.Fatalf("association = %d %s", status, out)
	}
	evs := eventsSettled(t, g, 3)
	for _, ev := range evs {
		switch ev.ObjectID {
		case "611":
			if ev.Status != store.EventIgnored || ev.ChangeSource != "IMPORT" || ev.SourceID != "userId:42" || !strings.Contains(ev.Reason, "change_source") {
				t.Errorf("imported contact: %+v", ev)
			}
		case "612":
			if ev.Status != store.EventCalled || ev.ChangeSource != "CRM_UI" {
				t.Errorf("typed-in contact: %+v", ev)
			}
		case "613":
			if ev.Status != store.EventCalled || ev.EventType != "object.associationChange" || ev.ObjectType != "contact" ||
				ev.RelatedObjectType != "company" || ev.RelatedObjectID != "18440015001" || ev.Property != "CONTACT_TO_COMPANY" {
				t.Errorf("association: %+v", ev)
			}
		default:
			t.Errorf("unexpected event %+v", ev)
		}
	}
	waitFor(t, 15*time.Second, "two calls", func() bool { return len(platform.Dials()) >= 2 })
	time.Sleep(200 * time.Millisecond)
	if n := len(platform.Dials()); n != 2 {
		t.Fatalf("%d dials, want 2 (the import is not called)", n)
	}
}

// TestHubSpotPhoneAddedLater is the docs/hubspot.md recipe: a contact
// created without a phone is skipped, and called once when a later
// contact.propertyChange sets its phone; a second number changes nothing.
func TestHubSpotPhoneAddedLater(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("621", map[string]any{"firstname": "Later"})
	when := "event.kind == 'created' || (event.kind == 'updated' && event.property in ['phone', 'mobilephone'])"
	g := startGateway(t, hubspotAgentConfig(hs.URL, platform.URL, when))

	now := time.Now().Add(-3 * time.Second)
	if status, out := sendHubSpot(g, creation(621, now, 0)); status != http.StatusOK {
		t.Fatalf("creation = %d %s", status, out)
	}
	evs := eventsSettled(t, g, 1)
	if evs[0].Status != store.EventSkipped || !strings.Contains(evs[0].Reason, "no phone number") {
		t.Fatalf("creation without a phone: %+v", evs[0])
	}
	// A form fills the phone in; HubSpot sends the property change.
	hs.AddContact("621", map[string]any{"phone": "+91 98765 43221"})
	change := creation(621, now.Add(time.Second), 0)
	change.EventID, change.SubscriptionType, change.PropertyName, change.PropertyValue = 5001, "contact.propertyChange", "phone", "+91 98765 43221"
	if status, out := sendHubSpot(g, change); status != http.StatusOK {
		t.Fatalf("phone change = %d %s", status, out)
	}
	waitFor(t, 15*time.Second, "the call", func() bool { return len(platform.Dials()) == 1 })
	// The mobile number follows: still one call (the dedupe window).
	hs.AddContact("621", map[string]any{"mobilephone": "+91 98765 43222"})
	mobile := creation(621, now.Add(2*time.Second), 0)
	mobile.EventID, mobile.SubscriptionType, mobile.PropertyName, mobile.PropertyValue = 5002, "contact.propertyChange", "mobilephone", "+91 98765 43222"
	if status, out := sendHubSpot(g, mobile); status != http.StatusOK {
		t.Fatalf("mobile change = %d %s", status, out)
	}
	evs = eventsSettled(t, g, 3)
	if evs[0].Status != store.EventCalled || !strings.Contains(evs[0].Reason, "duplicate of call") {
		t.Fatalf("second number: %+v", evs[0])
	}
	if n := len(platform.Dials()); n != 1 {
		t.Fatalf("%d dials, want 1", n)
	}
}
