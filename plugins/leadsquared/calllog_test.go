package leadsquared_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
)

func logSetup(t *testing.T) (*leadsquared.Plugin, *leadsquaredtest.Server, sdk.LogCallRequest) {
	t.Helper()
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	t.Cleanup(srv.Close)
	lead := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", Mobile: "+91-9876543210"})
	srv.AddLead(lead)
	c := creds(srv)
	c[leadsquared.CredCallActivityEvent] = strconv.Itoa(leadsquaredtest.DefaultActivityEvent)
	p, _ := leadsquared.NewWithOptions(leadsquared.Options{HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	return p, srv, sdk.LogCallRequest{
		Credentials: c, ObjectType: "lead", ObjectID: lead.ID(), Key: "01JDCALL-1",
		Call: sdk.LoggedCall{
			Direction: sdk.DirectionOutbound, Outcome: "completed", PlatformDisposition: "interested", Duration: 95 * time.Second,
			ToNumber: "+919876543210", FromNumber: "+918000000000", RecordingURL: "https://rec.example.com/a.mp3",
			Title: "AI call: sales-intro", Body: "Summary: wants a demo", StartedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
		},
		Tasks:      []sdk.FollowUpTask{{Title: "Book the demo", Due: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)}},
		Properties: map[string]sdk.Value{"ProspectStage": sdk.StringValue("Qualified")},
	}
}

func TestLogCallPostsOneActivity(t *testing.T) {
	p, srv, req := logSetup(t)
	res, err := p.LogCall(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	acts := srv.Activities(req.ObjectID)
	if len(acts) != 1 || acts[0].ID != res.ActivityID || acts[0].Event != leadsquaredtest.DefaultActivityEvent || acts[0].DateTime != "2026-11-27 09:30:00" {
		t.Fatalf("activities %+v, result %+v", acts, res)
	}
	for _, want := range []string{"AI call: sales-intro", "Outcome: completed · Disposition: interested · Duration: 1m35s",
		"To +919876543210 from +918000000000", "Recording: https://rec.example.com/a.mp3", "Summary: wants a demo",
		"Follow-up: Book the demo (due 2026-11-28 09:30:00 UTC)", "callgate-key: 01JDCALL-1"} {
		if !strings.Contains(acts[0].Note, want) {
			t.Errorf("note lacks %q:\n%s", want, acts[0].Note)
		}
	}
	if len(res.Updated) != 1 {
		t.Errorf("updated %v", res.Updated)
	}
	again, err := p.LogCall(context.Background(), req)
	if err != nil || again.ActivityID != res.ActivityID || len(srv.Activities(req.ObjectID)) != 1 {
		t.Errorf("a retry posted again: %+v, %v, %d activities", again, err, len(srv.Activities(req.ObjectID)))
	}
}

// A 429 and a 5xx leave nothing half-done that a retry would double.
func TestLogCallRetries(t *testing.T) {
	p, srv, req := logSetup(t)
	srv.Fail(http.StatusTooManyRequests, "MXAPIRateLimitExceededException", "API calls exceeded the limit of 25 in 5 second(s)", "3")
	_, err := p.LogCall(context.Background(), req)
	var se *sdk.Error
	if sdk.ClassOf(err) != sdk.ClassRateLimited || !asError(err, &se) || se.RetryAfter != 3*time.Second {
		t.Fatalf("429: %v", err)
	}
	srv.Fail(http.StatusBadGateway, "", "", "")
	if _, err := p.LogCall(context.Background(), req); sdk.ClassOf(err) != sdk.ClassTransient {
		t.Fatalf("502: %v", err)
	}
	if _, err := p.LogCall(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := p.LogCall(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Activities(req.ObjectID)); n != 1 {
		t.Errorf("%d activities", n)
	}
}

func TestLogCallErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*sdk.LogCallRequest)
		class sdk.Class
		says  string
	}{
		{"no activity type", func(r *sdk.LogCallRequest) { delete(r.Credentials, leadsquared.CredCallActivityEvent) }, sdk.ClassPermanent, "call_activity_event is not set"},
		{"bad activity type", func(r *sdk.LogCallRequest) { r.Credentials[leadsquared.CredCallActivityEvent] = "calls" }, sdk.ClassPermanent, "not an activity event code"},
		{"unknown activity type", func(r *sdk.LogCallRequest) { r.Credentials[leadsquared.CredCallActivityEvent] = "999" }, sdk.ClassPermanent, "MXInvalidActivityEventException"},
		{"no key", func(r *sdk.LogCallRequest) { r.Key = "" }, sdk.ClassBadRequest, "idempotency key"},
		{"unknown lead", func(r *sdk.LogCallRequest) { r.ObjectID = "00000000-0000-0000-0000-000000000000" }, sdk.ClassPermanent, "does not exist"},
		{"wrong keys", func(r *sdk.LogCallRequest) { r.Credentials[leadsquared.CredSecretKey] = "wrong-secret-9b9b" }, sdk.ClassAuth, "keys rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, req := logSetup(t)
			tt.edit(&req)
			_, err := p.LogCall(context.Background(), req)
			if sdk.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.says) || strings.Contains(err.Error(), "wrong-secret-9b9b") {
				t.Errorf("got %v, want %s saying %q", err, tt.class, tt.says)
			}
		})
	}
	p, _, req := logSetup(t)
	req.CheckOnly = true
	if _, err := p.LogCall(context.Background(), req); err != nil {
		t.Errorf("CheckOnly with an activity type: %v", err)
	}
}
