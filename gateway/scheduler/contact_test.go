package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// submitFor submits a call for agent and CRM contact objectID.
func (e *env) submitFor(agent, number, objectID string, p store.Policy) store.Call {
	e.t.Helper()
	res, err := e.s.Submit(context.Background(), scheduler.Submission{Call: store.Call{
		AgentID: agent, ToNumber: number, Dialer: "voice", Policy: p, Variables: map[string]string{"firstname": "Ada"},
		Source: store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: objectID, Account: "62515"},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Call
}

// TestCancelContact: every agent's pending call of the contact is
// canceled; the one already dialing finishes at the platform, its outcome
// is recorded, and no retry follows.
func TestCancelContact(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	dialing := e.submitFor("sales", "+919876543210", "123", policy(nil, 2, time.Minute))
	e.dialed()
	e.waitStatus(dialing.ID, store.CallDialing)
	later := &store.Window{Start: "17:00", End: "18:00", CarryOver: true}
	waiting := e.submitFor("support", "+919876543211", "123", policy(later, 2, time.Minute))
	bystander := e.submitFor("sales", "+919876543212", "124", policy(later, 0))
	if waiting.Status != store.CallScheduled {
		t.Fatalf("waiting call = %s", waiting.Status)
	}
	n, err := e.s.CancelContact(context.Background(), store.SourceFilter{Type: "hubspot", ObjectID: "123", Account: "62515"}, "contact deleted in HubSpot")
	if err != nil || n != (scheduler.Canceled{Calls: 2, Dialing: 1}) {
		t.Fatalf("CancelContact = %+v, %v", n, err)
	}
	for _, id := range []string{dialing.ID, waiting.ID} {
		if c := e.call(id); c.Status != store.CallCanceled || c.Reason != "contact deleted in HubSpot" || c.NextAttemptAt != nil {
			t.Errorf("call %s = %s %q", id, c.Status, c.Reason)
		}
	}
	e.outcome(dialing.ID, 1, store.OutcomeNoAnswer)
	got := e.call(dialing.ID)
	if got.Status != store.CallCanceled || len(got.Attempts) != 1 || got.Attempts[0].Outcome != store.OutcomeNoAnswer {
		t.Errorf("after the dialing attempt's outcome: %s, attempts %+v", got.Status, got.Attempts)
	}
	e.clock.Set(monday8.Add(10 * time.Hour))
	e.noDial()
	if c := e.call(bystander.ID); c.Status != store.CallScheduled {
		t.Errorf("bystander = %s", c.Status)
	}
	again, err := e.s.CancelContact(context.Background(), store.SourceFilter{Type: "hubspot", ObjectID: "123"}, "again")
	if err != nil || again.Calls != 0 {
		t.Errorf("second CancelContact = %+v, %v", again, err)
	}
}

// TestEraseCancelsThenErases: Erase by number cancels the calls to it
// (with their notification, erased with the rest) and erases them.
func TestEraseCancelsThenErases(t *testing.T) {
	e := newEnv(t, monday8)
	e.run()
	a := e.submitFor("sales", "+919876543210", "123", policy(office, 0))
	b := e.submitFor("support", "+919876543210", "999", policy(office, 0))
	res, err := e.s.Erase(context.Background(), scheduler.Erasure{Number: "+919876543210", Reason: "erased by an operator"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Canceled.Calls != 2 || res.Erased.Calls != 2 || res.Erased.Outbox != 2 {
		t.Errorf("Erase = %+v", res)
	}
	for _, id := range []string{a.ID, b.ID} {
		c := e.call(id)
		if c.Status != store.CallCanceled || c.Reason != "erased by an operator" || c.ToNumber != store.Erased || c.Variables["firstname"] != store.Erased {
			t.Errorf("call %s = %+v", id, c)
		}
	}
	if _, err := e.s.Erase(context.Background(), scheduler.Erasure{}); err == nil {
		t.Error("Erase with nobody named succeeded")
	}
	e.clock.Set(monday8.Add(2 * time.Hour))
	e.noDial()
}
