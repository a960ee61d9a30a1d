package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
)

// callLogConfig is webhookConfig with write-back refined by a writeback
// block: a follow-up task for qualified leads and a lifecycle stage.
func callLogConfig(hubspotURL, dialerURL string) string {
	cfg := webhookConfig(hubspotURL, dialerURL)
	block := `dialer       = "voice"
  writeback {
    title = "'AI call with ' + (variables.firstname ?? 'a lead') + ': ' + outcome.status"
    follow_up "qualified" {
      when = "outcome.status == 'completed' && outcome.data.qualified == true"
      set  = { lifecyclestage = "'salesqualifiedlead'" }
      task {
        title = "'Book the demo for ' + variables.firstname"
        body  = "outcome.summary"
        due   = "24h"
        owner = "` + hubspottest.DefaultOwnerID + `"
      }
    }
  }`
	out := strings.Replace(cfg, `dialer       = "voice"`, block, 1)
	if out == cfg {
		panic("callLogConfig: webhookConfig changed shape; update the insertion")
	}
	return out
}

// reportedOutcome is the platform's callback for a qualified conversation.
func reportedOutcome(d dialertest.Dial) dialer.HTTPCallback {
	var req dialer.HTTPDialRequest
	_ = json.Unmarshal(d.Body, &req)
	return dialer.HTTPCallback{
		CallID: req.CallID, Attempt: req.Attempt, Status: "completed", ProviderCallID: d.ProviderCallID, DurationS: 95,
		RecordingURL: "https://rec.example.com/calls/701.mp3",
		Transcript: dialer.Transcript{{Speaker: "agent", Text: "Hello Ada, this is the Acme assistant."},
			{Speaker: "user", Text: "Hi! Yes, I'd like a demo on Tuesday."}},
		Summary: "Ada wants a demo on Tuesday.", Disposition: "interested", FromNumber: "+14155550100",
		Data: map[string]any{"qualified": true},
	}
}

func statusURL(d dialertest.Dial) string {
	var req dialer.HTTPDialRequest
	_ = json.Unmarshal(d.Body, &req)
	return req.StatusCallbackURL
}

// TestCallLoggedOnTheContactOnce: webhook → call → outcome with transcript
// and recording → one Call on the contact's timeline and one task at the
// fake HubSpot, also with the outcome redelivered, across a kill -9
// between the outcome and the write-back, and across a replay of the
// webhook event.
func TestCallLoggedOnTheContactOnce(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("701", map[string]any{"firstname": "Ada", "company": "Acme", "mobilephone": "+91 98765 43701"})
	cfg := callLogConfig(hs.URL, platform.URL)
	dataDir := t.TempDir()
	g := launch(t, gatewayOptions{Config: cfg, DataDir: dataDir})

	if status, body := sendHubSpot(g, creation(701, time.Now().Add(-time.Second), 0)); status != http.StatusOK {
		t.Fatalf("webhook = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	d := platform.Dials()[0]

	// HubSpot's first answer to the write-back is a 503: the outcome is
	// stored, its write-back waits for a retry when the gateway is killed.
	hs.FailNext(1, http.StatusServiceUnavailable)
	codes, err := dialertest.PostOutcome(context.Background(), http.DefaultClient, statusURL(d), notifyDialSecret, reportedOutcome(d), 2)
	if err != nil || codes[0] != http.StatusOK {
		t.Fatalf("outcome callbacks = %v, %v", codes, err)
	}
	var outbox struct {
		Items []struct {
			ID        string `json:"id"`
			Attempts  int    `json:"attempts"`
			Dead      bool   `json:"dead"`
			LastError string `json:"last_error"`
		} `json:"items"`
	}
	waitFor(t, 15*time.Second, "the write-back's first try", func() bool {
		adminJSON(t, g, "/api/v1/outbox?kind=writeback", &outbox)
		return len(outbox.Items) == 1 && outbox.Items[0].Attempts == 1
	})
	g.Crash()
	if n := len(hs.Calls("701")); n != 0 {
		t.Fatalf("%d calls logged before the crash", n)
	}
	g = launch(t, gatewayOptions{Config: cfg, DataDir: dataDir})

	// The retry comes after the outbox's backoff (15–30 s for a first failure).
	waitFor(t, 45*time.Second, "the Call on the contact's timeline", func() bool { return len(hs.Calls("701")) > 0 && len(hs.Tasks("701")) > 0 })
	calls, tasks := hs.Calls("701"), hs.Tasks("701")
	if len(calls) != 1 || len(tasks) != 1 {
		t.Fatalf("%d calls and %d tasks on the contact, want one of each", len(calls), len(tasks))
	}
	var req dialer.HTTPDialRequest
	_ = json.Unmarshal(d.Body, &req)
	p := calls[0].Properties
	for k, want := range map[string]string{
		"hs_call_title": "AI call with Ada: completed", "hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED",
		"hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "hs_call_duration": "95000",
		"hs_call_to_number": "+919876543701", "hs_call_from_number": "+14155550100",
		"hs_call_recording_url": "https://rec.example.com/calls/701.mp3", "hs_call_external_id": req.CallID + "-1",
	} {
		if p[k] != want {
			t.Errorf("call %s = %q, want %q", k, p[k], want)
		}
	}
	for _, want := range []string{"Ada wants a demo on Tuesday.", "agent: Hello Ada, this is the Acme assistant.", "user: Hi! Yes, I&#39;d like a demo on Tuesday."} {
		if !strings.Contains(p["hs_call_body"], want) {
			t.Errorf("call body lacks %q: %s", want, p["hs_call_body"])
		}
	}
	if tp := tasks[0].Properties; tp["hs_task_subject"] != "Book the demo for Ada" || tp["hubspot_owner_id"] != hubspottest.DefaultOwnerID || tp["hs_task_body"] != "Ada wants a demo on Tuesday." {
		t.Errorf("task = %v", tp)
	}
	waitFor(t, 10*time.Second, "the follow-up property and the status write-back", func() bool {
		c, _ := hs.Contact("701")
		return c["lifecyclestage"] == "salesqualifiedlead" && c["callgate_last_call_status"] == "completed"
	})

	// The CRM's ids are kept on the attempt.
	var call store.Call
	waitFor(t, 10*time.Second, "the activity on the attempt", func() bool {
		adminJSON(t, g, "/api/v1/calls/"+req.CallID, &call)
		return len(call.Attempts) == 1 && call.Attempts[0].Activity != nil
	})
	if act := call.Attempts[0].Activity; act.ID != calls[0].ID || len(act.TaskIDs) != 1 || act.TaskIDs[0] != tasks[0].ID {
		t.Errorf("activity %+v, want call %s and task %s", act, calls[0].ID, tasks[0].ID)
	}

	// HubSpot redelivers the webhook, a property change for the contact
	// follows, the platform posts its outcome once more: nothing is dialed
	// or logged twice.
	sendHubSpot(g, creation(701, time.Now().Add(-time.Second), 1))
	change := creation(701, time.Now(), 0)
	change.EventID, change.SubscriptionType, change.PropertyName, change.PropertyValue = 7012, "contact.propertyChange", "lifecyclestage", "salesqualifiedlead"
	sendHubSpot(g, change)
	_, _ = dialertest.PostOutcome(context.Background(), http.DefaultClient, statusURL(d), notifyDialSecret, reportedOutcome(d), 1)
	time.Sleep(3 * time.Second)
	if n, m := len(hs.Calls("701")), len(hs.Tasks("701")); n != 1 || m != 1 || len(platform.Dials()) != 1 {
		t.Fatalf("after the redeliveries: %d calls, %d tasks, %d dials; want 1, 1, 1", n, m, len(platform.Dials()))
	}

	// A write-back refused for a missing scope is a dead letter naming it;
	// replayed once the app has the scope, it logs the call once.
	hs.AddContact("702", map[string]any{"firstname": "Alan", "mobilephone": "+91 98765 43702"})
	if status, body := sendHubSpot(g, creation(702, time.Now().Add(-time.Second), 0)); status != http.StatusOK {
		t.Fatalf("webhook = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the second call at the dialer", func() bool { return len(platform.Dials()) > 1 })
	d2 := platform.Dials()[1]
	hs.SetMissingScopes("crm.objects.contacts.write") // the app loses the scope after the record was read
	if codes, err := dialertest.PostOutcome(context.Background(), http.DefaultClient, statusURL(d2), notifyDialSecret, reportedOutcome(d2), 1); err != nil || codes[0] != http.StatusOK {
		t.Fatalf("outcome = %v %v", codes, err)
	}
	waitFor(t, 15*time.Second, "the dead letter", func() bool {
		adminJSON(t, g, "/api/v1/outbox?kind=writeback&dead=true", &outbox)
		return len(outbox.Items) > 0
	})
	if it := outbox.Items[0]; !strings.Contains(it.LastError, "crm.objects.contacts.write") {
		t.Fatalf("dead letter %+v", it)
	}
	hs.SetMissingScopes()
	status, body := g.Do(http.MethodPost, "/api/v1/outbox/"+outbox.Items[0].ID+"/retry", nil, http.Header{"Authorization": {"Bearer " + e2eAdminToken}})
	if status/100 != 2 {
		t.Fatalf("retry = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the replayed write-back", func() bool { return len(hs.Calls("702")) == 1 && len(hs.Tasks("702")) == 1 })
	time.Sleep(time.Second)
	if n, m := len(hs.Calls("702")), len(hs.Tasks("702")); n != 1 || m != 1 {
		t.Fatalf("after the replay: %d calls, %d tasks", n, m)
	}
}

// TestLeadSquaredCallLoggedOnTheLead: the same call, on LeadSquared, is one
// activity of the configured type on the lead, with the platform's report
// in its note, and stays one when the outcome is posted again.
func TestLeadSquaredCallLoggedOnTheLead(t *testing.T) {
	lsq := leadsquaredtest.New(leadsquaredtest.Options{})
	t.Cleanup(lsq.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	cfg := leadsquaredConfig(lsq, platform.URL)
	cfg = strings.Replace(cfg, "  secret_key = ", fmt.Sprintf("  call_activity_event = \"%d\"\n  secret_key = ", leadsquaredtest.DefaultActivityEvent), 1)
	cfg = strings.Replace(cfg, `  dialer       = "voice"`, "  dialer       = \"voice\"\n  writeback    = true", 1)
	g := startGateway(t, cfg)
	lead := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Asha", Mobile: "+91-9876543210", CreatedOn: time.Now().UTC().Truncate(time.Second)})
	lsq.AddLead(lead)
	status, _ := g.Do(http.MethodPost, "/call/crm-webhook?type=leadsquared&agent_id=lead-intro", bytes.NewReader(leadsquaredtest.WebhookBody(lead)),
		leadsquaredtest.WebhookHeaders(leadsquaredtest.ContentJSON, lsqAPIKey))
	if status != http.StatusOK {
		t.Fatalf("webhook = %d", status)
	}
	waitFor(t, 15*time.Second, "the lead is dialed", func() bool { return len(platform.Dials()) == 1 })
	d := platform.Dials()[0]
	if codes, err := dialertest.PostOutcome(context.Background(), http.DefaultClient, statusURL(d), "e2e-lsq-dialer-secret", reportedOutcome(d), 2); err != nil || codes[0] != http.StatusOK {
		t.Fatalf("outcome = %v %v", codes, err)
	}
	waitFor(t, 15*time.Second, "the activity on the lead", func() bool { return len(lsq.Activities(lead.ID())) > 0 })
	time.Sleep(2 * time.Second)
	acts := lsq.Activities(lead.ID())
	if len(acts) != 1 || acts[0].Event != leadsquaredtest.DefaultActivityEvent {
		t.Fatalf("activities %+v", acts)
	}
	for _, want := range []string{"AI call (lead-intro): completed", "Outcome: completed · Disposition: interested · Duration: 1m35s",
		"Recording: https://rec.example.com/calls/701.mp3", "Ada wants a demo on Tuesday.", "user: Hi! Yes, I'd like a demo on Tuesday."} {
		if !strings.Contains(acts[0].Note, want) {
			t.Errorf("note lacks %q:\n%s", want, acts[0].Note)
		}
	}
}

// TestWritebackScopesCheckedAtStart: a token without the write scope is
// named at start and in the credential check, before any call.
func TestWritebackScopesCheckedAtStart(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	hs.SetGrantedScopes("crm.objects.contacts.read", "crm.schemas.contacts.read")
	platform := dialertest.New(t, dialertest.HTTP, "")
	g := startGateway(t, callLogConfig(hs.URL, platform.URL))
	g.WaitForOutput("write-back will fail for this integration until its credentials are fixed")
	if !strings.Contains(g.Output(), "lacks scope(s) crm.objects.contacts.write") {
		t.Fatalf("the start log does not name the scope:\n%s", grepLines(g.Output(), "write-back"))
	}
	status, body := g.Do(http.MethodPost, "/api/v1/integrations/hubspot/check", nil, http.Header{"Authorization": {"Bearer " + e2eAdminToken}})
	if !strings.Contains(string(body), "crm.objects.contacts.write") {
		t.Fatalf("credential check = %d %s", status, body)
	}
}
