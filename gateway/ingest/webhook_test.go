package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

type response struct {
	code       int
	retryAfter string
	body       map[string]any
}

func post(t *testing.T, u string, header http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		t.Fatalf("%d: body is not JSON: %q", resp.StatusCode, raw)
	}
	return out
}

// signed builds a HubSpot-signed contact.creation for the given query.
func (e *env) signed(query string, ids ...int64) (string, []byte, http.Header) {
	u := e.url + "/call/crm-webhook?" + query
	body, h := hubspottest.ContactCreation(hubspottest.Webhook{Secret: secret, URL: u, ObjectIDs: ids, Time: e.at})
	return u, body, h
}

func TestWebhookStatusCodes(t *testing.T) {
	e := newEnv(t, envOptions{})
	q := "type=hubspot&agent_id=sales&x_api_key=" + keyAny
	tests := []struct {
		name   string
		build  func() (string, []byte, http.Header)
		code   int
		msg    string // substring of message
		counts [3]int // accepted, duplicates, ignored (200 only)
	}{
		{"signed creation", func() (string, []byte, http.Header) { return e.signed(q, 101) }, 200, "1 event received", [3]int{1, 0, 0}},
		{"redelivery is a duplicate", func() (string, []byte, http.Header) { return e.signed(q, 101) }, 200, "", [3]int{0, 1, 0}},
		{"two events, one new", func() (string, []byte, http.Header) { return e.signed(q, 101, 102) }, 200, "2 events received", [3]int{1, 1, 0}},
		{"key in header", func() (string, []byte, http.Header) {
			u, b, h := e.signed("type=hubspot&agent_id=sales", 103)
			h.Set("X-API-KEY", keySales)
			return u, b, h
		}, 200, "", [3]int{1, 0, 0}},
		{"policy overrides accepted", func() (string, []byte, http.Header) {
			return e.signed(q+"&min_trigger_time=10:00&max_trigger_time=17:30&carry_over=1&num_of_retries=2&gap_between_retries=1.5,3&timezone=callee", 104)
		}, 200, "", [3]int{1, 0, 0}},
		{"missing key", func() (string, []byte, http.Header) { return e.signed("type=hubspot&agent_id=sales", 105) }, 403, "Missing X-API-KEY", [3]int{}},
		{"wrong key", func() (string, []byte, http.Header) {
			return e.signed("type=hubspot&agent_id=sales&x_api_key=nope", 105)
		}, 403, "Invalid API key", [3]int{}},
		{"key not for this agent", func() (string, []byte, http.Header) {
			return e.signed("type=hubspot&agent_id=support&x_api_key="+keySales, 105)
		}, 403, `may not trigger agent "support"`, [3]int{}},
		{"missing agent", func() (string, []byte, http.Header) { return e.signed("type=hubspot&x_api_key="+keyAny, 105) }, 400, "Missing agent_id", [3]int{}},
		{"unknown agent", func() (string, []byte, http.Header) {
			return e.signed("type=hubspot&agent_id=ghost&x_api_key="+keyAny, 105)
		}, 404, `Agent "ghost" not found: use one of lsq-only, sales, support`, [3]int{}},
		{"unknown agent lists only the key's agents", func() (string, []byte, http.Header) {
			return e.signed("type=hubspot&agent_id=ghost&x_api_key="+keySales, 105)
		}, 404, `Agent "ghost" not found: use one of sales`, [3]int{}},
		{"missing type", func() (string, []byte, http.Header) { return e.signed("agent_id=sales&x_api_key="+keyAny, 105) }, 400, "Missing type in request query: use one of hubspot", [3]int{}},
		{"unknown type", func() (string, []byte, http.Header) {
			return e.signed("type=zoho&agent_id=sales&x_api_key="+keyAny, 105)
		}, 400, `Unknown type "zoho": use one of hubspot`, [3]int{}},
		{"agent without that integration", func() (string, []byte, http.Header) {
			return e.signed("type=hubspot&agent_id=lsq-only&x_api_key="+keyAny, 105)
		}, 400, `Agent "lsq-only" has no hubspot integration`, [3]int{}},
		{"bad window", func() (string, []byte, http.Header) { return e.signed(q+"&min_trigger_time=9am", 105) }, 400, "invalid min_trigger_time", [3]int{}},
		{"bad retries", func() (string, []byte, http.Header) { return e.signed(q+"&number_of_retries=11", 105) }, 400, "invalid number_of_retries", [3]int{}},
		{"bad signature", func() (string, []byte, http.Header) {
			u, b, h := e.signed(q, 105)
			h.Set("X-HubSpot-Signature-v3", "AAAA"+h.Get("X-HubSpot-Signature-v3")[4:])
			return u, b, h
		}, 401, "Invalid signature", [3]int{}},
		{"unsigned while a secret is set", func() (string, []byte, http.Header) {
			u := e.url + "/call/crm-webhook?" + q
			b, h := hubspottest.ContactCreation(hubspottest.Webhook{URL: u, ObjectIDs: []int64{105}})
			return u, b, h
		}, 401, "Invalid signature", [3]int{}},
		{"stale v3 timestamp", func() (string, []byte, http.Header) {
			u := e.url + "/call/crm-webhook?" + q
			b, h := hubspottest.ContactCreation(hubspottest.Webhook{Secret: secret, URL: u, ObjectIDs: []int64{105}, Time: time.Now().Add(-6 * time.Minute)})
			return u, b, h
		}, 401, "Invalid signature", [3]int{}},
		{"signed for another URL", func() (string, []byte, http.Header) {
			_, b, h := e.signed(q+"&x=1", 105)
			return e.url + "/call/crm-webhook?" + q, b, h
		}, 401, "Invalid signature", [3]int{}},
		{"malformed JSON", func() (string, []byte, http.Header) {
			u := e.url + "/call/crm-webhook?" + q
			b := []byte(`[{"eventId":`)
			return u, b, hubspottest.Sign(secret, "v3", http.MethodPost, u, b, time.Now())
		}, 400, "Malformed hubspot webhook", [3]int{}},
		{"form body", func() (string, []byte, http.Header) {
			u := e.url + "/call/crm-webhook?" + q
			b := []byte(`a=b`)
			h := hubspottest.Sign(secret, "v3", http.MethodPost, u, b, time.Now())
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			return u, b, h
		}, 415, `Unsupported Content-Type "application/x-www-form-urlencoded": the hubspot plugin accepts application/json`, [3]int{}},
		{"text body", func() (string, []byte, http.Header) {
			u, b, h := e.signed(q, 105)
			h.Set("Content-Type", "text/plain")
			return u, b, h
		}, 415, `Unsupported Content-Type "text/plain"`, [3]int{}},
		{"body over max_body_bytes", func() (string, []byte, http.Header) {
			u, _, h := e.signed(q, 105)
			return u, bytes.Repeat([]byte(" "), 70000), h
		}, 413, "larger than 65536 bytes", [3]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, b, h := tc.build()
			r := post(t, u, h, b)
			if r.code != tc.code {
				t.Fatalf("code = %d (%v), want %d", r.code, r.body, tc.code)
			}
			msg, _ := r.body["message"].(string)
			if !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q does not contain %q", msg, tc.msg)
			}
			if tc.code != 200 {
				if r.body["status"] != "error" {
					t.Fatalf("status = %v, want error", r.body["status"])
				}
				return
			}
			got := [3]int{int(r.body["accepted"].(float64)), int(r.body["duplicates"].(float64)), int(r.body["ignored"].(float64))}
			if got != tc.counts || r.body["status"] != "done" {
				t.Fatalf("body = %v, want counts %v", r.body, tc.counts)
			}
		})
	}
	t.Run("overrides stored on the event", func(t *testing.T) {
		evs, _, err := e.inbox.ListEvents(context.Background(), store.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.ObjectID != "104" {
				continue
			}
			want := `{"window_start":"10:00","window_end":"17:30","carry_over":true,"retries":2,"gaps":[5400000000000,10800000000000],"timezone":"callee"}`
			if string(ev.Overrides) != want {
				t.Fatalf("overrides = %s\nwant %s", ev.Overrides, want)
			}
			if ev.AgentID != "sales" || ev.Integration != "hubspot" || ev.Type != "hubspot" || ev.Kind != sdk.KindCreated || ev.Account != "62515" {
				t.Fatalf("event = %+v", ev)
			}
			return
		}
		t.Fatal("event for contact 104 not stored")
	})
	if n, _ := e.inbox.PendingEvents(context.Background()); n != 4 {
		t.Fatalf("pending = %d, want 4 (contacts 101–104 once each)", n)
	}
}

// failingCRM stands in for a plugin process that is down: the host's
// client answers every call with a transient error.
type failingCRM struct {
	sdk.CRM
	err error
}

func (f failingCRM) Describe(context.Context) (sdk.Manifest, error) { return sdk.Manifest{}, f.err }

func (f failingCRM) HandleWebhook(context.Context, sdk.WebhookRequest) (sdk.WebhookResult, error) {
	return sdk.WebhookResult{}, f.err
}

func TestWebhookBackpressure(t *testing.T) {
	q := "type=hubspot&agent_id=sales&x_api_key=" + keyAny
	t.Run("over the high-water mark", func(t *testing.T) {
		e := newEnv(t, envOptions{tweak: func(c *config.Config) { c.Server.InboxHighWater = 2 }})
		for i, want := range []int{200, 200, 503} {
			u, b, h := e.signed(q, int64(200+i))
			r := post(t, u, h, b)
			if r.code != want {
				t.Fatalf("request %d: code %d (%v), want %d", i, r.code, r.body, want)
			}
			if want == 503 && (r.retryAfter != "7" || !strings.Contains(r.body["message"].(string), "Inbox is full")) {
				t.Fatalf("503 without Retry-After 7 / message: %q %v", r.retryAfter, r.body)
			}
		}
	})
	t.Run("store failing", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.inbox.Close()
		u, b, h := e.signed(q, 300)
		r := post(t, u, h, b)
		if r.code != 503 || r.retryAfter == "" || !strings.Contains(r.body["message"].(string), "Could not store the events") {
			t.Fatalf("got %d %q %v, want 503 with Retry-After", r.code, r.retryAfter, r.body)
		}
	})
	t.Run("plugin down", func(t *testing.T) {
		e := newEnv(t, envOptions{plugins: plugins{"hubspot": failingCRM{err: sdk.Transient("plugin hubspot exited; restarting")}}})
		u, b, h := e.signed(q, 301)
		r := post(t, u, h, b)
		if r.code != 503 || r.retryAfter == "" || !strings.Contains(r.body["message"].(string), "plugin is unavailable") {
			t.Fatalf("got %d %q %v", r.code, r.retryAfter, r.body)
		}
	})
	t.Run("deletions are accepted for the pipeline", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		u := e.url + "/call/crm-webhook?" + q
		b := []byte(`[{"eventId":9,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":1764237600000,"subscriptionType":"contact.deletion","attemptNumber":0,"objectId":77,"changeFlag":"DELETED","changeSource":"CRM_UI"},` +
			`{"eventId":10,"subscriptionId":2,"portalId":62515,"appId":1,"occurredAt":1764237600000,"subscriptionType":"contact.privacyDeletion","attemptNumber":0,"objectId":77,"changeSource":"GDPR"}]`)
		r := post(t, u, hubspottest.Sign(secret, "v3", http.MethodPost, u, b, time.Now()), b)
		if r.code != 200 || r.body["accepted"].(float64) != 2 {
			t.Fatalf("got %d %v, want 200 with both accepted", r.code, r.body)
		}
		evs, _, _ := e.inbox.ListEvents(context.Background(), store.EventFilter{Status: store.EventPending})
		kinds := map[string]bool{}
		for _, ev := range evs {
			kinds[ev.Kind] = ev.ObjectID == "77"
		}
		if len(evs) != 2 || !kinds[sdk.KindDeleted] || !kinds[sdk.KindErased] {
			t.Fatalf("pending events = %+v, want a deleted and an erased event for contact 77", evs)
		}
	})
}

func TestSignedURLKeepsRawQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	// HubSpot signs the URL as it calls it; percent-encodings must survive.
	q := "type=hubspot&agent_id=sales&x_api_key=" + keyAny + "&timezone=Asia%2FKolkata"
	u, b, h := e.signed(q, 400)
	if r := post(t, u, h, b); r.code != 200 {
		t.Fatalf("got %d %v", r.code, r.body)
	}
}

// TestWebhookBatchWithProblems: a batch with an unknown type, an event
// without objectId and a non-object element is a 200; the good event is
// pending, the others are stored terminal with their reasons (ignored for
// the unknown type, failed for the rest) and counted in the reply; a
// redelivery of the whole batch is all duplicates.
func TestWebhookBatchWithProblems(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.url + "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + keyAny
	body := []byte(`[{"eventId":1,"subscriptionId":9,"portalId":62515,"occurredAt":1764244800000,"subscriptionType":"contact.creation","objectId":201,"changeSource":"IMPORT","sourceId":"userId:7"},` +
		`{"eventId":2,"subscriptionId":9,"portalId":62515,"occurredAt":1764244800000,"subscriptionType":"contact.futureThing","objectId":202},` +
		`{"eventId":3,"subscriptionId":9,"portalId":62515,"occurredAt":1764244800000,"subscriptionType":"contact.creation"},7]`)
	r := post(t, u, hubspottest.Sign(secret, "v3", http.MethodPost, u, body, time.Now()), body)
	if r.code != 200 || r.body["accepted"] != 1.0 || r.body["ignored"] != 1.0 || r.body["failed"] != 2.0 {
		t.Fatalf("reply %d %v", r.code, r.body)
	}
	evs, _, err := e.inbox.ListEvents(context.Background(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string][]store.Event{}
	for _, ev := range evs {
		byStatus[ev.Status] = append(byStatus[ev.Status], ev)
	}
	if p := byStatus[store.EventPending]; len(p) != 1 || p[0].ObjectID != "201" || p[0].ChangeSource != "IMPORT" || p[0].SourceID != "userId:7" {
		t.Fatalf("pending %+v", p)
	}
	if ig := byStatus[store.EventIgnored]; len(ig) != 1 || ig[0].ObjectID != "202" || !strings.Contains(ig[0].Reason, "not one callgate acts on") {
		t.Fatalf("ignored %+v", ig)
	}
	failed := byStatus[store.EventFailed]
	if len(failed) != 2 {
		t.Fatalf("failed %+v", failed)
	}
	for _, ev := range failed {
		if !strings.Contains(ev.Reason, "has no objectId") && !strings.Contains(ev.Reason, "not a JSON object") {
			t.Errorf("failed without a reason saying why: %+v", ev)
		}
	}
	if n, _ := e.inbox.PendingEvents(context.Background()); n != 1 {
		t.Fatalf("pending = %d: a problem event reached the pipeline's queue", n)
	}
	r = post(t, u, hubspottest.Sign(secret, "v3", http.MethodPost, u, body, time.Now()), body)
	if r.code != 200 || r.body["duplicates"] != 4.0 || r.body["accepted"] != 0.0 {
		t.Fatalf("redelivery %d %v", r.code, r.body)
	}
}
