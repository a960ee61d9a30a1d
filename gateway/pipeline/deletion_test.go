package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

func deletionEvent(agent, objectID, kind string) store.Event {
	ev := event(agent, "created", objectID)
	ev.Key = "hubspot:62515:9:" + kind + ":" + objectID + ":" + agent
	ev.Kind, ev.EventType = kind, "contact.deletion"
	if kind == sdk.KindErased {
		ev.EventType = "contact.privacyDeletion"
	}
	return ev
}

func callsOf(t *testing.T, e *env, objectID string) []store.Call {
	t.Helper()
	calls, err := e.db.SourceCalls(context.Background(), store.SourceFilter{Type: "hubspot", ObjectID: objectID})
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// TestDeletionCancelsTheContactsCalls: contact.deletion cancels the
// contact's pending calls for every agent, and only theirs; the event
// ends ignored with a reason that counts them.
func TestDeletionCancelsTheContactsCalls(t *testing.T) {
	e := newEnvWith(t, "", `agent "support" { dialer = "voice" }`, nil)
	e.hs.AddContact("1", map[string]any{"firstname": "Ada", "phone": "+1 415 555 0123"})
	e.hs.AddContact("2", map[string]any{"firstname": "Bo", "phone": "+1 415 555 0124"})
	e.add(t, event("sales", "created", "1"), event("support", "created", "1"), event("sales", "created", "2"))
	e.run(t)
	if calls := callsOf(t, e, "1"); len(calls) != 2 || calls[0].Status != store.CallScheduled || calls[1].Status != store.CallScheduled {
		t.Fatalf("contact 1 calls before the deletion: %+v", calls)
	}
	del := e.add(t, deletionEvent("sales", "1", sdk.KindDeleted))[0]
	e.run(t)
	got := e.get(t, del.ID)
	if got.Status != store.EventIgnored || got.Reason != "contact 1 deleted in HubSpot: canceled 2 pending calls" {
		t.Errorf("deletion event = %s %q", got.Status, got.Reason)
	}
	for _, c := range callsOf(t, e, "1") {
		if c.Status != store.CallCanceled || c.Reason != "contact deleted in HubSpot" {
			t.Errorf("call %s for agent %s = %s %q", c.ID, c.AgentID, c.Status, c.Reason)
		}
		if c.ToNumber != "+14155550123" || c.Variables["firstname"] == store.Erased {
			t.Errorf("a plain deletion erased data: %+v", c)
		}
	}
	if calls := callsOf(t, e, "2"); len(calls) != 1 || calls[0].Status != store.CallScheduled {
		t.Errorf("bystander contact 2: %+v", calls)
	}
	// Redelivered or sent to a second agent's URL: nothing left to cancel.
	again := e.add(t, deletionEvent("support", "1", sdk.KindDeleted))[0]
	e.run(t)
	if got := e.get(t, again.ID); got.Reason != "contact 1 deleted in HubSpot: canceled 0 pending calls" {
		t.Errorf("second deletion = %q", got.Reason)
	}
}

// TestPrivacyDeletionErases: contact.privacyDeletion cancels and erases,
// also when the creation that made the call is in the same batch (the
// erasure runs after the batch is saved, so the saved creation cannot
// bring the data back).
func TestPrivacyDeletionErases(t *testing.T) {
	e := newEnv(t, "")
	e.hs.AddContact("3", map[string]any{"firstname": "Ada", "phone": "+1 415 555 0133"})
	e.hs.AddContact("4", map[string]any{"firstname": "Bo", "phone": "+1 415 555 0144"})
	e.hs.AddContact("5", map[string]any{"firstname": "Cy", "phone": "+1 415 555 0155"})
	e.add(t, event("sales", "created", "3"))
	e.run(t)
	batch := e.add(t, deletionEvent("sales", "3", sdk.KindErased), event("sales", "created", "4"), deletionEvent("sales", "4", sdk.KindErased), event("sales", "created", "5"))
	e.run(t)
	for i, id := range []string{"3", "4"} {
		calls := callsOf(t, e, id)
		if len(calls) != 1 {
			t.Fatalf("contact %s: %d calls", id, len(calls))
		}
		c := calls[0]
		if c.Status != store.CallCanceled || c.Reason != "contact deleted in HubSpot (privacy deletion)" || c.ToNumber != store.Erased ||
			c.Variables["firstname"] != store.Erased || c.ErasedAt == nil {
			t.Errorf("contact %s call = %+v", id, c)
		}
		ev := e.get(t, batch[i*2].ID)
		if ev.Status != store.EventIgnored || ev.ErasedAt == nil || !strings.HasPrefix(ev.Reason, "contact "+id+" erased in HubSpot (privacy deletion): canceled 1 pending call; erased 1 calls") {
			t.Errorf("erasure event %s = %s %q", id, ev.Status, ev.Reason)
		}
	}
	creation := e.get(t, batch[1].ID)
	if creation.Status != store.EventCalled || creation.ErasedAt == nil {
		t.Errorf("contact 4's creation in the same batch = %+v, want called and erased", creation)
	}
	if calls, _, _ := e.db.ListCalls(context.Background(), store.CallFilter{Phone: "+14155550144"}); len(calls) != 0 {
		t.Errorf("calls still listed by contact 4's number: %d", len(calls))
	}
	if calls := callsOf(t, e, "5"); len(calls) != 1 || calls[0].Status != store.CallScheduled || calls[0].ToNumber != "+14155550155" {
		t.Errorf("bystander contact 5: %+v", calls)
	}
	if n, _ := e.inbox.PendingEvents(context.Background()); n != 0 {
		t.Errorf("pending events = %d, want 0", n)
	}
}
