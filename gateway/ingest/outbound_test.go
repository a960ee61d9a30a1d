package ingest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func TestOutbound(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	if err := e.db.AddDND(context.Background(), "+919876500099", "asked not to be called", time.Now()); err != nil {
		t.Fatal(err)
	}
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		header http.Header
		body   string
		code   int
		msg    string
	}{
		{"queued", key, `{"to_number":"+919876543210","agent_id":"sales","metadata":{"name":"Ada","age":25},
			"min_trigger_time":"10:00","max_trigger_time":"17:00","carry_over":true,"number_of_retries":3,"gap_between_retries":[30,60]}`,
			200, "Call queued successfully"},
		{"same number again", key, `{"to_number":"919876543210","agent_id":"sales"}`, 200, "Call already queued"},
		{"scheduled later, gap as one number", key, `{"to_number":"+919876543211","agent_id":"sales","schedule_at":"2030-05-28T09:30:00","gap_between_retries":45,"number_of_retries":"2","carry_over":"false"}`, 200, "queued"},
		{"due after the window closed, no carry_over", key, `{"to_number":"+919876543213","agent_id":"sales","schedule_at":"2030-05-28T19:30:00","min_trigger_time":"10:00","max_trigger_time":"17:00","carry_over":false}`,
			200, "Call not queued: not called: closed for today at 17:00"},
		{"missing key", http.Header{"Content-Type": {"application/json"}}, `{"to_number":"+919876543212","agent_id":"sales"}`, 403, "Missing X-API-KEY"},
		{"missing agent", key, `{"to_number":"+919876543212"}`, 400, "Missing agent_id in request body"},
		{"unknown agent", key, `{"to_number":"+919876543212","agent_id":"ghost"}`, 404, "not found"},
		{"missing number", key, `{"agent_id":"sales"}`, 400, "Missing to_number"},
		{"invalid number", key, `{"to_number":"12","agent_id":"sales"}`, 400, "Invalid to_number"},
		{"DND", key, `{"to_number":"+919876500099","agent_id":"sales"}`, 400, "DND_NUMBER"},
		{"bad schedule_at", key, `{"to_number":"+919876543212","agent_id":"sales","schedule_at":"2030-05-28T09:30:00+05:30"}`, 400, "Invalid schedule_at"},
		{"bad retries", key, `{"to_number":"+919876543212","agent_id":"sales","number_of_retries":12}`, 400, "number_of_retries"},
		{"bad gap", key, `{"to_number":"+919876543212","agent_id":"sales","gap_between_retries":"soon"}`, 400, "gap_between_retries"},
		{"bad carry_over", key, `{"to_number":"+919876543212","agent_id":"sales","carry_over":{}}`, 400, "carry_over"},
		{"not JSON", key, `to_number=1`, 400, "Malformed JSON"},
		{"wrong content type", http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"text/csv"}}, `{}`, 415, "Unsupported Content-Type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, e.url+"/call/outbound", tc.header, []byte(tc.body))
			if r.code != tc.code || !strings.Contains(r.body["message"].(string), tc.msg) {
				t.Fatalf("= %d %v, want %d %q", r.code, r.body, tc.code, tc.msg)
			}
		})
	}
	calls, _, err := e.db.ListCalls(context.Background(), store.CallFilter{})
	if err != nil || len(calls) != 3 {
		t.Fatalf("%d calls (%v), want 3", len(calls), err)
	}
	for _, c := range calls {
		if c.ToNumber != "+919876543210" {
			continue
		}
		p := c.Policy
		if c.Variables["name"] != "Ada" || c.Variables["age"] != "25" || p.Window == nil || p.Window.Start != "10:00" ||
			p.Window.End != "17:00" || !p.Window.CarryOver || p.Retry.Max != 3 ||
			len(p.Retry.Gaps) != 2 || time.Duration(p.Retry.Gaps[1]) != time.Hour || c.Source.Type != "api" {
			t.Fatalf("call = %+v policy %+v window %+v", c, p, p.Window)
		}
		return
	}
	t.Fatal("no call to +919876543210")
}

func TestDeleteSchedule(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	if r := post(t, e.url+"/call/outbound", key, []byte(`{"to_number":"+919876543210","agent_id":"sales","carry_over":true}`)); r.code != 200 {
		t.Fatalf("outbound = %d %v", r.code, r.body)
	}
	tests := []struct {
		name   string
		query  string
		header http.Header
		body   string
		code   int
		msg    string
	}{
		{"missing agent", "", key, `{"to_number":"919876543210"}`, 400, "Missing agent_id in request query"},
		{"missing key", "?agent_id=sales", http.Header{}, `{"to_number":"919876543210"}`, 403, "Missing X-API-KEY in headers"},
		{"missing number", "?agent_id=sales", key, `{}`, 400, "Missing to_number in request"},
		{"deleted (number without +)", "?agent_id=sales", key, `{"to_number":"919876543210"}`, 200, "Scheduled call deleted successfully"},
		{"nothing left", "?agent_id=sales", http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/x-www-form-urlencoded"}}, `to_number=%2B919876543210`, 404, "No scheduled call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, e.url+"/call/delete-schedule-call"+tc.query, tc.header, []byte(tc.body))
			if r.code != tc.code || !strings.Contains(r.body["message"].(string), tc.msg) {
				t.Fatalf("= %d %v, want %d %q", r.code, r.body, tc.code, tc.msg)
			}
		})
	}
	calls, _, _ := e.db.ListCalls(context.Background(), store.CallFilter{})
	if len(calls) != 1 || calls[0].Status != store.CallCanceled {
		t.Fatalf("calls = %+v", calls)
	}
}
