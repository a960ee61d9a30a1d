package hubspottest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

func TestActivityEndpoints(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{})
	defer srv.Close()
	tok := srv.Token()
	id := srv.AddContact("", map[string]any{"firstname": "Ada"})
	assoc := func(typeID string) string {
		return `"associations":[{"to":{"id":"` + id + `"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":` + typeID + `}]}]`
	}
	tests := []struct {
		name, path, body string
		status           int
		says             string
	}{
		{"call", "/crm/v3/objects/calls", `{"properties":{"hs_timestamp":"2026-11-27T09:30:00.000Z","hs_call_external_id":"k-1","hs_call_status":"COMPLETED","hs_call_duration":"95000"},` + assoc("194") + `}`, 201, ""},
		{"no timestamp", "/crm/v3/objects/calls", `{"properties":{"hs_call_title":"x"},` + assoc("194") + `}`, 400, "REQUIRED_FIELD"},
		{"insecure recording", "/crm/v3/objects/calls", `{"properties":{"hs_timestamp":"1764235800000","hs_call_recording_url":"http://x/a.mp3"},` + assoc("194") + `}`, 400, "Only HTTPS"},
		{"bad status", "/crm/v3/objects/calls", `{"properties":{"hs_timestamp":"1764235800000","hs_call_status":"DONE"},` + assoc("194") + `}`, 400, "INVALID_OPTION"},
		{"task association type on a call", "/crm/v3/objects/calls", `{"properties":{"hs_timestamp":"1764235800000"},` + assoc("204") + `}`, 400, "not a valid association type"},
		{"unknown contact", "/crm/v3/objects/tasks", `{"properties":{"hs_timestamp":"1764235800000"},"associations":[{"to":{"id":"9"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":204}]}]}`, 400, "No contact with ID 9"},
		{"unknown owner", "/crm/v3/objects/tasks", `{"properties":{"hs_timestamp":"1764235800000","hubspot_owner_id":"1"},` + assoc("204") + `}`, 400, "INVALID_OWNER_ID"},
		{"task", "/crm/v3/objects/tasks", `{"properties":{"hs_timestamp":"1764235800000","hs_task_subject":"Call back","hs_task_status":"NOT_STARTED"},` + assoc("204") + `}`, 201, ""},
		{"search by key", "/crm/v3/objects/calls/search", `{"filterGroups":[{"filters":[{"propertyName":"hs_call_external_id","operator":"EQ","value":"k-1"}]}]}`, 200, `"total":1`},
		{"search by contact, subject, due", "/crm/v3/objects/tasks/search", `{"filterGroups":[{"filters":[{"propertyName":"associations.contact","operator":"EQ","value":"` + id + `"},{"propertyName":"hs_task_subject","operator":"EQ","value":"Call back"},{"propertyName":"hs_timestamp","operator":"EQ","value":"2025-11-27T09:30:00Z"}]}]}`, 200, `"total":1`},
		{"token info", "/oauth/v2/private-apps/get/access-token-info", `{"tokenKey":"` + tok + `"}`, 200, "crm.objects.contacts.write"},
		{"token info, other token", "/oauth/v2/private-apps/get/access-token-info", `{"tokenKey":"pat-other"}`, 401, "INVALID_AUTHENTICATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, srv, tok, http.MethodPost, tt.path, tt.body)
			raw := mustJSONString(body)
			if res.StatusCode != tt.status || !strings.Contains(raw, tt.says) {
				t.Errorf("%d %s; want %d saying %q", res.StatusCode, raw, tt.status, tt.says)
			}
		})
	}
	if calls, tasks := srv.Calls(id), srv.Tasks(id); len(calls) != 1 || len(tasks) != 1 || calls[0].Properties["hs_call_external_id"] != "k-1" {
		t.Errorf("timeline: %+v, %+v", calls, tasks)
	}
}

func mustJSONString(v any) string { b, _ := json.Marshal(v); return string(b) }
