package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/store"
)

// wireConfig is testConfig with a reconciled integration and a second
// agent's policy without a window, so agents, audit and overview show
// both shapes.
const wireConfig = `
server {
  default_timezone = "Asia/Kolkata"
  default_region   = "IN"
  public_url       = "https://calls.example.com"
}
integration "hubspot" {
  access_token = "test-token"
  reconcile {
    every    = "15m"
    lookback = "72h"
  }
}
dialer "log" {
  type        = "log"
  concurrency = 4
}
agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  when         = "event.kind == 'created'"
  variables = {
    firstname = "contact.firstname ?? 'there'"
  }
  required_variables = ["firstname"]
  window {
    start      = "09:00"
    end        = "18:00"
    carry_over = true
    days       = ["mon", "tue", "wed", "thu", "fri"]
  }
  retry {
    max  = 2
    gaps = ["1h", "2h"]
    on   = ["no_answer", "busy"]
  }
}
agent "renewals" {
  dialer = "log"
}
`

// wireT0 is the fixture's clock: a Friday morning in Asia/Kolkata.
var wireT0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fixedID is a ULID stamped at wireT0 plus minute with n as its entropy:
// the same on every run, so the goldens can hold it.
func fixedID(minute, n int) string {
	entropy := make([]byte, 10)
	entropy[9] = byte(n)
	return ulid.MustNew(ulid.Timestamp(wireT0.Add(time.Duration(minute)*time.Minute)), strings.NewReader(string(entropy))).String()
}

// wireIDs are the fixture's records, by what they are.
type wireIDs struct {
	callCompleted, callScheduled, callDialing, callDuplicate, callRetry, callFailed string
	outboxWebhook, outboxWriteback, deadWebhook, deadWriteback                      string
	// events holds the inbox's ids by status; the inbox draws them at
	// random, so the goldens show their labels instead.
	events map[string]string
}

func at(minute int) *time.Time {
	t := wireT0.Add(time.Duration(minute) * time.Minute)
	return &t
}

// addWireFixture stores calls in every shape the API shows (every
// optional attempt field, a lease, a duplicate, an erasable one), events
// of every status, outbox items and dead letters, and a CRM listing with
// a record no event brought.
func addWireFixture(t *testing.T, db store.Store) wireIDs {
	t.Helper()
	ctx := context.Background()
	ids := wireIDs{
		callCompleted: fixedID(1, 1), callScheduled: fixedID(2, 2), callDialing: fixedID(3, 3),
		callDuplicate: fixedID(4, 4), callRetry: fixedID(5, 5), callFailed: fixedID(6, 6),
		outboxWebhook: fixedID(7, 7), outboxWriteback: fixedID(7, 8), deadWebhook: fixedID(8, 9), deadWriteback: fixedID(8, 10),
		events: map[string]string{},
	}
	addWireEvents(t, db, ids)
	salesPolicy := store.Policy{Timezone: "Asia/Kolkata",
		TimezoneNote: "callee: +919812345601 has one timezone; called in it",
		Window:       &store.Window{Start: "09:00", End: "18:00", CarryOver: true, Days: []string{"mon", "tue", "wed", "thu", "fri"}},
		Retry: store.RetryPolicy{Max: 2, Gaps: []store.Duration{store.Duration(time.Hour), store.Duration(2 * time.Hour)},
			On: []string{"no_answer", "busy"}}}
	hubspotSource := func(object string) store.Source {
		return store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: object, ObjectType: "contact",
			EventID: ids.events[store.EventCalled], Account: "62515"}
	}
	calls := []store.Call{
		{ID: ids.callCompleted, AgentID: "sales-intro", Status: store.CallCompleted, Reason: "attempt 2 completed",
			ToNumber: "+919812345601", Variables: map[string]string{"firstname": "Ada"}, Source: hubspotSource("1001"),
			Policy: salesPolicy, Dialer: "log",
			Fields:  map[string]any{"firstname": "Ada", "lifecyclestage": "lead", "hs_lead_score": 42.5, "consent": true},
			BatchID: "spring-2026", Priority: 10, Language: "hi",
			Attempts: []store.Attempt{
				{N: 1, StartedAt: *at(1), PlacedAt: at(1), EndedAt: at(2), Outcome: store.OutcomeNoAnswer,
					Reason: "no answer after 30s", ProviderCallID: "log-0001"},
				{N: 2, StartedAt: *at(61), PlacedAt: at(61), EndedAt: at(64), Outcome: store.OutcomeCompleted,
					Reason: "completed", ProviderCallID: "log-0002", DurationS: 187.5,
					RecordingURL: "https://media.example.com/rec/log-0002.mp3",
					Transcript: []store.Turn{
						{Speaker: "agent", Text: "Hello Ada, this is Priya from Acme.", At: at(61)},
						{Speaker: "user", Text: "Hi! Yes, I filled in the form."},
						{Text: "(silence)"},
					},
					Summary: "Ada wants a demo next week.", Disposition: "interested", FromNumber: "+918041234567",
					Data: map[string]any{"demo_day": "tuesday", "seats": 25.0, "budget_confirmed": true},
					Activity: &store.Activity{ID: "crm-call-9001", TaskIDs: []string{"task-1", "task-2"},
						Updated: []string{"lifecyclestage"}, LoggedAt: *at(65)}},
			}},
		{ID: ids.callScheduled, AgentID: "renewals", Status: store.CallScheduled, Reason: "scheduled for the window",
			ToNumber: "+919812345602", Source: store.Source{Type: "api"},
			Policy: store.Policy{Timezone: "Asia/Kolkata"}, Dialer: "log", NextAttemptAt: at(120)},
		{ID: ids.callDialing, AgentID: "sales-intro", Status: store.CallDialing, Reason: "attempt 1 dialing",
			ToNumber: "+919812345603", Variables: map[string]string{"firstname": "Grace"}, Source: hubspotSource("1003"),
			Policy: salesPolicy, Dialer: "log", LeaseUntil: at(33), TransportFailures: 2,
			Attempts: []store.Attempt{{N: 1, StartedAt: *at(3), NeedsOperator: true}}},
		{ID: ids.callDuplicate, AgentID: "sales-intro", Status: store.CallSkipped,
			Reason:   "duplicate of call " + ids.callCompleted + " (same contact within 24h0m0s)",
			ToNumber: "+919812345601", Variables: map[string]string{"firstname": "Ada"}, Source: hubspotSource("1001"),
			Policy: salesPolicy, Dialer: "log", DuplicateOf: ids.callCompleted},
		{ID: ids.callRetry, AgentID: "sales-intro", Status: store.CallRetryScheduled, Reason: "attempt 1 busy; retry in 1h0m0s",
			ToNumber: "+919812345605", Variables: map[string]string{"firstname": "Linus"}, Source: hubspotSource("1005"),
			Policy: salesPolicy, Dialer: "log", NextAttemptAt: at(66),
			Attempts: []store.Attempt{{N: 1, StartedAt: *at(5), PlacedAt: at(5), EndedAt: at(6), Outcome: store.OutcomeBusy,
				ProviderCallID: "log-0005", Summary: "line busy"}}},
		{ID: ids.callFailed, AgentID: "renewals", Status: store.CallFailed, Reason: "attempt 1 failed: number unreachable",
			ToNumber: "+919812345606", Variables: map[string]string{}, Source: store.Source{Type: "api"},
			Policy: store.Policy{Timezone: "Asia/Kolkata", Retry: store.RetryPolicy{Max: 0, Gaps: []store.Duration{}, On: []string{}}},
			Dialer: "log",
			Attempts: []store.Attempt{{N: 1, StartedAt: *at(6), EndedAt: at(7), Outcome: store.OutcomeFailed,
				Reason: "number unreachable", DurationS: 0}}},
	}
	for i, c := range calls {
		// Each call is created at its id's minute, so listings keep the order above.
		if _, created, err := db.CreateCall(ctx, c, store.CreateOptions{Now: wireT0.Add(time.Duration(i+1) * time.Minute)}); err != nil || !created {
			t.Fatalf("create call %s: created=%v err=%v", c.ID, created, err)
		}
	}
	err := db.EnqueueOutbox(ctx,
		store.OutboxItem{ID: ids.outboxWebhook, Kind: store.OutboxWebhook,
			URL:    "https://ops:hunter2@hooks.example.com/callgate/events?token=s3cret#frag",
			CallID: ids.callCompleted, AgentID: "sales-intro", Event: "call_ended", Attempts: 2,
			NextAt: *at(20), CreatedAt: *at(10), UpdatedAt: *at(15), LastError: "POST hooks.example.com: 503 Service Unavailable",
			Body: []byte(`{"secret":"never shown"}`)},
		store.OutboxItem{ID: ids.outboxWriteback, Kind: store.OutboxWriteback, Integration: "hubspot",
			CallID: ids.callCompleted, AgentID: "sales-intro", Event: "attempt_ended", NextAt: *at(11), CreatedAt: *at(11)},
		store.OutboxItem{ID: ids.deadWebhook, Kind: store.OutboxWebhook, URL: "http://127.0.0.1:9/hook",
			CallID: ids.callFailed, AgentID: "renewals", Event: "call_ended", Attempts: 8, NextAt: *at(30),
			CreatedAt: *at(12), UpdatedAt: *at(30), LastError: "dial tcp 127.0.0.1:9: connection refused", Dead: true},
		store.OutboxItem{ID: ids.deadWriteback, Kind: store.OutboxWriteback, Integration: "hubspot",
			CallID: ids.callCompleted, AgentID: "sales-intro", Event: "call_ended", Attempts: 5, NextAt: *at(31),
			CreatedAt: *at(13), UpdatedAt: *at(31), LastError: "hubspot: log call: token rejected (401)", Dead: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	// The CRM listed two contacts created this morning; 1099 brought no event.
	err = db.RecordListing(ctx, "hubspot", "contact", *at(40), []store.ListedRecord{
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "1001", CreatedAt: wireT0.Add(-5 * time.Minute)},
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "1099", CreatedAt: wireT0.Add(-4 * time.Minute)},
	}, wireT0.Add(-72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// addWireEvents appends one event per status and settles each as the
// pipeline would, filling ids.events.
func addWireEvents(t *testing.T, db store.Store, ids wireIDs) {
	t.Helper()
	ctx := context.Background()
	ev := func(object, eventType, kind string) store.Event {
		return store.Event{Key: "hubspot:62515:" + object + ":" + eventType, AgentID: "sales-intro", Type: "hubspot",
			Integration: "hubspot", EventType: "contact." + eventType, Kind: kind, ObjectType: "contact", ObjectID: object,
			Account: "62515", OccurredAt: wireT0.Add(-10 * time.Minute)}
	}
	pending := ev("1010", "creation", "created")
	pending.Overrides = []byte(`{"window":{"start":"10:00","end":"12:00"}}`)
	pending.Record = []byte(`{"object_id":"1010","fields":{"firstname":"Alan","phone":"+919812345610"}}`)
	called := ev("1001", "creation", "created")
	ignored := ev("1002", "propertyChange", "updated")
	ignored.Property, ignored.Value, ignored.ChangeSource, ignored.SourceID = "lifecyclestage", "customer", "CRM_UI", "userId:77"
	skipped := ev("1004", "creation", "created")
	blocked := ev("1005", "creation", "created")
	failed := ev("1006", "associationChange", "other")
	failed.RelatedObjectType, failed.RelatedObjectID, failed.Reconciled = "company", "5001", true
	evs := []store.Event{pending, called, ignored, skipped, blocked, failed}
	res, err := db.AppendEvents(ctx, evs, store.AppendOptions{Now: wireT0.Add(-9 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	settled := []struct {
		status, reason, callID string
		attempts               int
	}{
		{store.EventPending, "", "", 1},
		{store.EventCalled, "", ids.callCompleted, 0},
		{store.EventIgnored, "the when rule is false", "", 0},
		{store.EventSkipped, "contact 1004 has no valid phone number", "", 0},
		{store.EventBlocked, "+919812345605 is on the DND list", "", 0},
		{store.EventFailed, "hubspot: fetch contact 1006: token rejected (401)", "", 3},
	}
	for i, s := range settled {
		e := res.Events[i]
		e.Status, e.Reason, e.CallID, e.Attempts, e.UpdatedAt = s.status, s.reason, s.callID, s.attempts, wireT0.Add(-8*time.Minute)
		if s.status == store.EventPending {
			e.NotBefore, e.OrphanedAt = wireT0.Add(5*time.Minute), wireT0.Add(-7*time.Minute)
		}
		if err := db.SaveEvents(ctx, []store.Event{e}); err != nil {
			t.Fatal(err)
		}
		ids.events[s.status] = e.ID
	}
}

// reconciled answers api.Reconciliations with one pass of hubspot.
type reconciled struct{}

func (reconciled) Last() []reconcile.Status {
	return []reconcile.Status{{Integration: "hubspot", At: wireT0.Add(40 * time.Minute), Listed: 2, Recovered: 1}}
}

// testWebhooks answers as ingest does for one accepted event.
type testWebhooks struct{}

func (testWebhooks) SendTestWebhook(_ context.Context, _, _ string) (ingest.WebhookReply, error) {
	return ingest.WebhookReply{Status: "success", Message: "1 event accepted", Accepted: 1}, nil
}

// wireRefusals is a refusal log with one refused webhook.
func wireRefusals(t *testing.T) *refused.Log {
	t.Helper()
	l, err := refused.New(refused.Config{Now: func() time.Time { return wireT0 }})
	if err != nil {
		t.Fatal(err)
	}
	l.Add(refused.Refusal{At: wireT0.Add(-time.Minute), Route: "/call/crm-webhook", Agent: "sales-intro", Type: "hubspot",
		Status: 401, Class: "unauthorized", Reason: "signature does not match", Remote: "203.0.113.7", RequestID: "req-42"})
	return l
}
