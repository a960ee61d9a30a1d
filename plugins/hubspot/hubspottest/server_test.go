package hubspottest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

func do(t *testing.T, srv *hubspottest.Server, token, method, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res, out
}

func TestShapes(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{})
	defer srv.Close()
	srv.AddContact("512", map[string]any{"firstname": "Ada", "phone": "+14155550123", "score": 17})

	res, body := do(t, srv, "", "GET", "/crm/v3/objects/contacts/512", "")
	if res.StatusCode != 401 || body["category"] != "INVALID_AUTHENTICATION" || body["status"] != "error" || body["correlationId"] == "" {
		t.Fatalf("401: %d %v", res.StatusCode, body)
	}

	res, body = do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts/512?properties=firstname,lastname,phone,nonexistent", "")
	props, _ := body["properties"].(map[string]any)
	if res.StatusCode != 200 || body["id"] != "512" || body["archived"] != false || props["firstname"] != "Ada" {
		t.Fatalf("GET: %d %v", res.StatusCode, body)
	}
	if v, ok := props["lastname"]; !ok || v != nil {
		t.Errorf("an empty defined property is null, got %v (present %v)", v, ok)
	}
	if _, ok := props["nonexistent"]; ok {
		t.Error("an undefined property must be left out")
	}
	if props["hs_object_id"] != "512" || body["createdAt"] == nil || body["updatedAt"] == nil {
		t.Errorf("system fields: %v", body)
	}
	for _, h := range []string{"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Interval-Milliseconds"} {
		if res.Header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}

	res, body = do(t, srv, srv.Token(), "POST", "/crm/v3/objects/contacts/batch/read", `{"properties":["firstname"],"propertiesWithHistory":[],"inputs":[{"id":"512"},{"id":"1"},{"id":"2"}]}`)
	errs, _ := body["errors"].([]any)
	if res.StatusCode != 207 || body["numErrors"] != float64(1) || len(errs) != 1 || body["status"] != "COMPLETE" {
		t.Fatalf("207: %d %v", res.StatusCode, body)
	}
	e := errs[0].(map[string]any)
	ids := e["context"].(map[string]any)["ids"].([]any)
	if e["status"] != "error" || e["category"] != "OBJECT_NOT_FOUND" || len(ids) != 2 || ids[0] != "1" {
		t.Errorf("207 error entry %v", e)
	}

	res, body = do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts/9", "")
	if res.StatusCode != 404 || body["category"] != "OBJECT_NOT_FOUND" {
		t.Errorf("404: %d %v", res.StatusCode, body)
	}

	srv.SetMissingScopes("crm.objects.contacts.read")
	res, body = do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts/512", "")
	if res.StatusCode != 403 || body["category"] != "MISSING_SCOPES" || !strings.Contains(mustJSON(body["errors"]), "requiredGranularScopes") {
		t.Errorf("403: %d %v", res.StatusCode, body)
	}
}

func TestRollingWindow(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv := hubspottest.New(hubspottest.Options{RateMax: 3, RateInterval: 10 * time.Second, Clock: func() time.Time { return now }})
	defer srv.Close()
	for i := range 3 {
		if res, _ := do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts?limit=1", ""); res.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, res.StatusCode)
		}
	}
	res, body := do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts?limit=1", "")
	if res.StatusCode != 429 || body["policyName"] != "TEN_SECONDLY_ROLLING" || body["errorType"] != "RATE_LIMIT" || res.Header.Get("X-HubSpot-RateLimit-Remaining") != "0" {
		t.Fatalf("4th request: %d %v", res.StatusCode, body)
	}
	now = now.Add(10*time.Second + time.Millisecond)
	if res, _ := do(t, srv, srv.Token(), "GET", "/crm/v3/objects/contacts?limit=1", ""); res.StatusCode != 200 {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
	if st := srv.Stats(); st.RateLimited != 1 || st.List != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestContactCreationWebhook: what the helper builds is what the plugin accepts.
func TestContactCreationWebhook(t *testing.T) {
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro&x_api_key=k"
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, version := range []string{"v1", "v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			body, header := hubspottest.ContactCreation(hubspottest.Webhook{Secret: "s3cret", URL: url, Version: version, Time: at, ObjectIDs: []int64{101, 65059681032}})
			res, err := hubspot.New().HandleWebhook(context.Background(), sdk.WebhookRequest{
				Method: "POST", URL: url, Headers: header, Body: body, ReceivedAt: at.Add(time.Second),
				Credentials: sdk.Credentials{hubspot.CredClientSecret: "s3cret"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 2 || res.Events[1].ObjectID != "65059681032" || res.Events[0].Kind != sdk.KindCreated || res.Events[0].Account != "62515" {
				t.Fatalf("events %+v", res.Events)
			}
			if !bytes.HasPrefix(body, []byte(`[{"eventId":`)) || header.Get("Content-Type") != "application/json" {
				t.Errorf("body %s header %v", body, header)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
