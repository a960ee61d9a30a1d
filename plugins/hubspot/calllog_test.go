package hubspot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

var callStart = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

func logReq(creds sdk.Credentials, contact string) sdk.LogCallRequest {
	return sdk.LogCallRequest{
		Credentials: creds, ObjectType: "contact", ObjectID: contact, Key: "01JDCALL-1",
		Call: sdk.LoggedCall{
			Direction: sdk.DirectionOutbound, Outcome: "completed", Duration: 95 * time.Second,
			ToNumber: "+14155550123", FromNumber: "+14155550100", RecordingURL: "https://rec.example.com/a.mp3",
			Title: "AI call: sales-intro", Body: "Wants a demo <Tuesday>\nagent: Hello", StartedAt: callStart,
		},
		Tasks:      []sdk.FollowUpTask{{Title: "Book the demo", Body: "asked for Tuesday", Due: callStart.Add(24 * time.Hour), Owner: hubspottest.DefaultOwnerID}},
		Properties: map[string]sdk.Value{"lifecyclestage": sdk.StringValue("salesqualifiedlead")},
	}
}

func TestLogCallCreatesCallTaskAndProperties(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	id := srv.AddContact("", map[string]any{"firstname": "Ada"})
	res, err := p.LogCall(context.Background(), logReq(creds, id))
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls(id)
	if len(calls) != 1 || calls[0].ID != res.ActivityID {
		t.Fatalf("calls on the timeline %+v, result %+v", calls, res)
	}
	want := map[string]string{
		"hs_timestamp": "2026-11-27T09:30:00.000Z", "hs_call_external_id": "01JDCALL-1",
		"hs_call_title": "AI call: sales-intro", "hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED",
		"hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "hs_call_duration": "95000",
		"hs_call_to_number": "+14155550123", "hs_call_from_number": "+14155550100",
		"hs_call_recording_url": "https://rec.example.com/a.mp3",
		"hs_call_body":          "Wants a demo &lt;Tuesday&gt;<br>agent: Hello",
	}
	for k, v := range want {
		if got := calls[0].Properties[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	tasks := srv.Tasks(id)
	if len(tasks) != 1 || len(res.TaskIDs) != 1 || tasks[0].ID != res.TaskIDs[0] {
		t.Fatalf("tasks %+v, result %+v", tasks, res)
	}
	if tp := tasks[0].Properties; tp["hs_task_subject"] != "Book the demo" || tp["hs_timestamp"] != "2026-11-28T09:30:00.000Z" ||
		tp["hubspot_owner_id"] != hubspottest.DefaultOwnerID || tp["hs_task_status"] != "NOT_STARTED" {
		t.Errorf("task properties %v", tp)
	}
	if c, _ := srv.Contact(id); c["lifecyclestage"] != "salesqualifiedlead" || len(res.Updated) != 1 {
		t.Errorf("contact %v, updated %v", c, res.Updated)
	}

	// The same key again (a retry, a replay) finds everything.
	again, err := p.LogCall(context.Background(), logReq(creds, id))
	if err != nil {
		t.Fatal(err)
	}
	if again.ActivityID != res.ActivityID || again.TaskIDs[0] != res.TaskIDs[0] || len(srv.Calls(id)) != 1 || len(srv.Tasks(id)) != 1 {
		t.Errorf("second try logged again: %+v then %+v", res, again)
	}
}

func TestLogCallOutcomes(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	id := srv.AddContact("", nil)
	tests := []struct {
		outcome, override, status, disposition string
	}{
		{"no_answer", "", "NO_ANSWER", "73a0d17f-1163-4015-bdd5-ec830791da20"},
		{"busy", "", "BUSY", "9d9162e7-6cf3-4944-bf63-4dff82258764"},
		{"voicemail", "", "COMPLETED", "b2cf5968-551e-4856-9783-52b3da59a7d0"},
		{"failed", "", "FAILED", ""},
		{"completed", "e448b440-6d4a-4830-9408-9504e32407e5", "COMPLETED", "e448b440-6d4a-4830-9408-9504e32407e5"},
	}
	for i, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			req := logReq(creds, id)
			req.Key = "k-" + tt.outcome + tt.override
			req.Tasks, req.Properties = nil, nil
			req.Call.Outcome, req.Call.Disposition = tt.outcome, tt.override
			req.Call.RecordingURL = "http://insecure.example.com/r.wav"
			if _, err := p.LogCall(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			c := srv.Calls(id)[i]
			if c.Properties["hs_call_status"] != tt.status || c.Properties["hs_call_disposition"] != tt.disposition {
				t.Errorf("status %q disposition %q", c.Properties["hs_call_status"], c.Properties["hs_call_disposition"])
			}
			// HubSpot takes HTTPS recordings only: another URL goes in the body.
			if _, ok := c.Properties["hs_call_recording_url"]; ok || !strings.Contains(c.Properties["hs_call_body"], "Recording: http://insecure.example.com/r.wav") {
				t.Errorf("recording %q body %q", c.Properties["hs_call_recording_url"], c.Properties["hs_call_body"])
			}
		})
	}
}

// flaky cuts the first reply to a matching request after HubSpot
// committed it (a connection reset), and answers the first request
// matching fail with a 502 without sending it.
type flaky struct {
	drop, fail      func(*http.Request) bool
	dropped, failed atomic.Bool
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.fail(r) && f.failed.CompareAndSwap(false, true) {
		return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/html"}},
			Body: io.NopCloser(strings.NewReader("<html>502 Bad Gateway</html>")), Request: r}, nil
	}
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && f.drop(r) && f.dropped.CompareAndSwap(false, true) {
		res.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return res, err
}

func creates(kind string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/objects/"+kind)
	}
}

// A reply lost after HubSpot created the Call, a search 429, a 502 on the task (a
// partial failure: the Call exists, its task does not): every retry finds
// what exists, and the contact ends with one Call and one task.
func TestLogCallExactlyOnceAcrossFailures(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{})
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &flaky{drop: creates("calls"), fail: creates("tasks")}, Timeout: 5 * time.Second}
	p, err := hubspot.NewWithOptions(hubspot.Options{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
	id := srv.AddContact("", nil)
	req := logReq(creds, id)

	_, err = p.LogCall(context.Background(), req)
	if sdk.ClassOf(err) != sdk.ClassTransient || len(srv.Calls(id)) != 1 {
		t.Fatalf("lost reply: err %v, calls %d", err, len(srv.Calls(id)))
	}
	// A search 429 is waited out inside the call; the task create then
	// answers 502.
	srv.FailNextWith(http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, "")
	start := time.Now()
	_, err = p.LogCall(context.Background(), req)
	if sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "502") {
		t.Fatalf("task create 502: %v", err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("the search 429's Retry-After was not waited out (%s)", waited)
	}
	if len(srv.Calls(id)) != 1 || len(srv.Tasks(id)) != 0 {
		t.Fatalf("after the partial failure: %d calls, %d tasks", len(srv.Calls(id)), len(srv.Tasks(id)))
	}
	res, err := p.LogCall(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if calls, tasks := srv.Calls(id), srv.Tasks(id); len(calls) != 1 || len(tasks) != 1 || calls[0].ID != res.ActivityID || tasks[0].ID != res.TaskIDs[0] {
		t.Errorf("after the failures: %d calls, %d tasks, result %+v", len(calls), len(tasks), res)
	}
}

func TestLogCallErrors(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	id := srv.AddContact("", nil)
	tests := []struct {
		name   string
		edit   func(*sdk.LogCallRequest)
		class  sdk.Class
		says   string
		before func()
	}{
		{"no key", func(r *sdk.LogCallRequest) { r.Key = "" }, sdk.ClassBadRequest, "idempotency key", nil},
		{"no contact", func(r *sdk.LogCallRequest) { r.ObjectID = "" }, sdk.ClassBadRequest, "no contact id", nil},
		{"deal", func(r *sdk.LogCallRequest) { r.ObjectType = "deal" }, sdk.ClassPermanent, "logged on contacts", nil},
		{"unknown contact", func(r *sdk.LogCallRequest) { r.ObjectID = "404404" }, sdk.ClassPermanent, "No contact with ID 404404", nil},
		{"unknown owner", func(r *sdk.LogCallRequest) { r.Key = "k-owner"; r.Tasks[0].Owner = "999" }, sdk.ClassPermanent, "INVALID_OWNER_ID", nil},
		{"missing scope", func(r *sdk.LogCallRequest) { r.Key = "k-scope" }, sdk.ClassAuth, "crm.objects.contacts.write", func() { srv.SetMissingScopes("crm.objects.contacts.write") }},
		{"token rejected", func(r *sdk.LogCallRequest) {
			r.Credentials = sdk.Credentials{hubspot.CredAccessToken: "pat-wrong", hubspot.CredBaseURL: srv.URL}
		}, sdk.ClassAuth, "token rejected", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
				defer srv.SetMissingScopes()
			}
			req := logReq(creds, id)
			tt.edit(&req)
			_, err := p.LogCall(context.Background(), req)
			if sdk.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v, want %s saying %q", err, tt.class, tt.says)
			}
			if strings.Contains(err.Error(), srv.Token()) {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestLogCallCheckOnlyNamesMissingScopes(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	if _, err := p.LogCall(context.Background(), sdk.LogCallRequest{Credentials: creds, CheckOnly: true}); err != nil {
		t.Fatalf("all scopes granted: %v", err)
	}
	srv.SetGrantedScopes("crm.objects.contacts.read", "oauth")
	_, err := p.LogCall(context.Background(), sdk.LogCallRequest{Credentials: creds, CheckOnly: true})
	if sdk.ClassOf(err) != sdk.ClassAuth || !strings.Contains(err.Error(), "lacks scope(s) crm.objects.contacts.write") {
		t.Errorf("got %v", err)
	}
	if st := srv.Stats(); st.Create != 0 {
		t.Errorf("CheckOnly wrote: %+v", st)
	}
}
