package hubspottest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
)

// Webhook describes a delivery to build, as HubSpot would post it.
type Webhook struct {
	// Secret is the app's client secret used to sign; empty sends no signature.
	Secret string
	// URL is the full URL HubSpot calls (the gateway's public_url + path + query).
	URL string
	// Version is the signature to send: "v3" (default), "v2" or "v1".
	Version string
	// Time is when HubSpot sends it (X-HubSpot-Request-Timestamp); default now.
	Time time.Time
	// PortalID and AppID identify the account and app; defaults 62515 and 54321.
	PortalID, AppID int64
	// ObjectIDs are the contacts created, one event each.
	ObjectIDs []int64
}

// Event is one event of a webhook body as HubSpot writes it, for tests and
// load tools that post what HubSpot posts (the plugin's parser reads
// hubspot.WebhookEvent, which also takes every older and rarer field).
type Event struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"` // epoch milliseconds
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
	ChangeFlag       string `json:"changeFlag,omitempty"`
	ChangeSource     string `json:"changeSource"`
	SourceID         string `json:"sourceId,omitempty"`
}

// ContactCreation builds a contact.creation webhook: the JSON body HubSpot
// posts and the headers it sends with it (Content-Type, User-Agent and the
// signature headers).
func ContactCreation(w Webhook) ([]byte, http.Header) {
	if w.Time.IsZero() {
		w.Time = time.Now()
	}
	if w.PortalID == 0 {
		w.PortalID = 62515
	}
	if w.AppID == 0 {
		w.AppID = 54321
	}
	events := make([]Event, len(w.ObjectIDs))
	occurred := w.Time.Add(-time.Second).UnixMilli()
	for i, id := range w.ObjectIDs {
		events[i] = Event{
			EventID: 100 + int64(i), SubscriptionID: 12345, PortalID: w.PortalID, AppID: w.AppID,
			OccurredAt: occurred, SubscriptionType: "contact.creation", ObjectID: id,
			ChangeFlag: "CREATED", ChangeSource: "CRM_UI", SourceID: "userId:45678",
		}
	}
	body, _ := json.Marshal(events)
	return body, Sign(w.Secret, w.Version, http.MethodPost, w.URL, body, w.Time)
}

// Sign returns the headers HubSpot sends with body: Content-Type,
// User-Agent and, when secret is set, the signature of the given version
// ("v3" default, "v2", "v1").
func Sign(secret, version, method, url string, body []byte, at time.Time) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) - WebhooksExecutorDaemon-executor")
	h.Set("X-HubSpot-Timeout-Millis", strconv.Itoa(10000))
	if secret == "" {
		return h
	}
	sign := hubspot.SignV3
	switch version {
	case "v1":
		sign = hubspot.SignV1
	case "v2":
		sign = hubspot.SignV2
	}
	for k, v := range sign(secret, method, url, body, at) {
		h.Set(k, v)
	}
	return h
}

// WorkflowContact builds the body a contact-based workflow's "Send a
// webhook" action posts for a stored contact: one JSON object in the
// contacts v1 API's shape (vid, canonical-vid, portal-id, is-contact and
// properties {name: {value, versions}}, only the properties that hold a
// value, as v1 returns them). ok is false for an unknown id.
func (s *Server) WorkflowContact(id string, portalID int64) ([]byte, bool) {
	s.mu.Lock()
	c, found := s.contacts[id]
	var props map[string]string
	var updated time.Time
	if found {
		props = make(map[string]string, len(c.props))
		for k, v := range c.props {
			props[k] = v
		}
		updated = c.updatedAt
	}
	s.mu.Unlock()
	if !found {
		return nil, false
	}
	vid, _ := strconv.ParseInt(id, 10, 64)
	if portalID == 0 {
		portalID = 62515
	}
	type version struct {
		Value      string `json:"value"`
		SourceType string `json:"source-type"`
		SourceID   any    `json:"source-id"`
		Timestamp  int64  `json:"timestamp"`
		Selected   bool   `json:"selected"`
	}
	type value struct {
		Value    string    `json:"value"`
		Versions []version `json:"versions"`
	}
	properties := make(map[string]value, len(props)+1)
	for k, v := range props {
		if v == "" {
			continue
		}
		properties[k] = value{Value: v, Versions: []version{{Value: v, SourceType: "CRM_UI", Timestamp: updated.UnixMilli()}}}
	}
	properties["hs_object_id"] = value{Value: id, Versions: []version{{Value: id, SourceType: "CALCULATED", Timestamp: updated.UnixMilli()}}}
	body, _ := json.Marshal(map[string]any{
		"vid": vid, "canonical-vid": vid, "merged-vids": []int64{}, "portal-id": portalID, "is-contact": true,
		"profile-token": "AO_T-mPNHk6O7jh8u8D2IlrhZn7GO91w", "profile-url": "https://app.hubspot.com/contacts/" + strconv.FormatInt(portalID, 10) + "/contact/" + id,
		"properties": properties, "form-submissions": []any{}, "list-memberships": []any{}, "identity-profiles": []any{}, "merge-audits": []any{},
	})
	return body, true
}

// WorkflowCustom builds a workflow's customised request body: the chosen
// properties as top-level keys (values as HubSpot writes them, strings, or
// null for an empty property) with the record's id in hs_object_id.
func WorkflowCustom(id string, props map[string]any) []byte {
	m := make(map[string]any, len(props)+1)
	for k, v := range props {
		if str, set := stringValue(v); set {
			m[k] = str
		} else {
			m[k] = nil
		}
	}
	m["hs_object_id"] = id
	body, _ := json.Marshal(m)
	return body
}
