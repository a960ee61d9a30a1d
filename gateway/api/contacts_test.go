package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

func TestEraseContactRoute(t *testing.T) {
	e := newEnv(t)
	// addCall uses the minute as the HubSpot object id.
	mine := e.addCall(t, "sales-intro", "+919812345601", store.CallScheduled, 7)
	other := e.addCall(t, "renewals", "+919812345601", store.CallCompleted, 8)
	bystander := e.addCall(t, "sales-intro", "+919812345699", store.CallScheduled, 9)

	var res api.EraseResult
	if code := e.do(t, http.MethodPost, "/api/v1/contacts/erase", `{"contact_type":"hubspot","object_id":"7"}`, &res); code != http.StatusOK {
		t.Fatalf("erase contact = %d %+v", code, res)
	}
	// The contact's call brings its number: the other agent's call to it
	// (another record) is erased too, and only the pending one canceled.
	if res.Status != "done" || res.Canceled.Calls != 1 || res.Erased.Calls != 2 {
		t.Errorf("erase contact = %+v", res)
	}
	for _, id := range []string{mine.ID, other.ID} {
		var c api.Call
		e.do(t, http.MethodGet, "/api/v1/calls/"+id, "", &c)
		if c.ToNumber != store.Erased || c.Variables["firstname"] != store.Erased {
			t.Errorf("call %s after erasure: %+v", id, c)
		}
	}
	var c api.Call
	e.do(t, http.MethodGet, "/api/v1/calls/"+mine.ID, "", &c)
	if c.Status != store.CallCanceled || c.Reason != api.EraseReason {
		t.Errorf("canceled call = %s %q", c.Status, c.Reason)
	}
	var list api.CallList
	e.do(t, http.MethodGet, "/api/v1/calls?phone=%2B919812345601", "", &list)
	if len(list.Calls) != 0 {
		t.Errorf("calls by the erased number: %d", len(list.Calls))
	}

	res = api.EraseResult{}
	if code := e.do(t, http.MethodPost, "/api/v1/contacts/erase", `{"number":"098123 45699"}`, &res); code != http.StatusOK || res.Erased.Calls != 1 || res.Canceled.Calls != 1 {
		t.Errorf("erase by national number = %d %+v", code, res)
	}
	e.do(t, http.MethodGet, "/api/v1/calls/"+bystander.ID, "", &c)
	if c.ToNumber != store.Erased {
		t.Errorf("call to the erased number = %+v", c)
	}
}

func TestEraseContactRouteRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, body, field string }{
		{"empty body", ``, "body"},
		{"not JSON", `number=1`, "body"},
		{"unknown field", `{"phone":"+919812345601"}`, "body"},
		{"nobody", `{}`, "number"},
		{"both", `{"number":"+919812345601","contact_type":"hubspot","object_id":"7"}`, "number"},
		{"bad number", `{"number":"12"}`, "number"},
		{"type without id", `{"contact_type":"hubspot"}`, "object_id"},
		{"id without type", `{"object_id":"7"}`, "contact_type"},
		{"unknown type", `{"contact_type":"salesforce","object_id":"7"}`, "contact_type"},
		{"unknown integration", `{"contact_type":"hubspot","object_id":"7","integration":"eu"}`, "integration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			code := e.do(t, http.MethodPost, "/api/v1/contacts/erase", tt.body, &body)
			msg, _ := body["message"].(string)
			if code != http.StatusBadRequest || !strings.HasPrefix(msg, tt.field+":") {
				t.Errorf("got %d %q, want 400 naming %s", code, msg, tt.field)
			}
		})
	}
}
