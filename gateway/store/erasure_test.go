package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestErasureCall: every personal field of a call and of its attempts is
// erased, what the audit needs stays, and a call still due is canceled.
func TestErasureCall(t *testing.T) {
	now := t0.Add(time.Hour)
	next := t0
	c := Call{ID: "01JCALL", AgentID: "sales", Status: CallRetryScheduled, NextAttemptAt: &next,
		Reason:    `attempt 1: no_answer for Asha Rao at +919812345678`,
		ToNumber:  "+919812345678",
		Variables: map[string]string{"firstname": "Asha", "lastname": "Rao"},
		Fields:    map[string]any{"email": "asha.rao@example.com"},
		Attempts: []Attempt{{N: 1, Outcome: OutcomeNoAnswer, ProviderCallID: "pc-1", DurationS: 12,
			Reason: `callee "Asha" did not answer`, RecordingURL: "https://rec.example.com/1.mp3",
			Transcript: []Turn{{Speaker: "agent", Text: "Hello Asha"}, {Speaker: "user", Text: "call me on 09812345678"}},
			Summary:    "Asha asked to be called back", Disposition: "callback", FromNumber: "+14155550100",
			Data: map[string]any{"email": "asha.rao@example.com", "budget": 5000.0}}},
	}
	e := NewErasure([]string{c.ToNumber}, []string{"Asha", "Rao", "asha.rao@example.com"})
	e.EraseCall(&c, now)

	raw, _ := json.Marshal(c)
	for _, personal := range []string{"Asha", "Rao", "9812345678", "rec.example.com", "call me", "callback", "4155550100", "5000"} {
		if strings.Contains(string(raw), personal) {
			t.Errorf("erased call still holds %q: %s", personal, raw)
		}
	}
	a := c.Attempts[0]
	if a.Outcome != OutcomeNoAnswer || a.ProviderCallID != "pc-1" || a.DurationS != 12 || a.N != 1 {
		t.Errorf("the attempt lost what the audit keeps: %+v", a)
	}
	if c.Status != CallCanceled || c.NextAttemptAt != nil || c.ErasedAt == nil || !c.ErasedAt.Equal(now) {
		t.Errorf("status %s, next %v, erased_at %v; want canceled, nil, %s", c.Status, c.NextAttemptAt, c.ErasedAt, now)
	}
}

// TestErasureFinal: a call already over keeps its status and reason's
// wording; only the person's values leave the reason.
func TestErasureFinal(t *testing.T) {
	c := Call{ID: "01JDONE", Status: CallFailed, ToNumber: "+919812345678",
		Reason: "no valid phone: phone \"98 1234\" for +919812345678"}
	NewErasure([]string{c.ToNumber}, nil).EraseCall(&c, t0)
	if c.Status != CallFailed || c.Reason != `no valid phone: phone "[erased]" for [erased]` || c.ToNumber != Erased {
		t.Errorf("got %s %q %s", c.Status, c.Reason, c.ToNumber)
	}
}

func TestErasureMentionsNumber(t *testing.T) {
	e := NewErasure([]string{"+919876543210"}, nil)
	for _, tt := range []struct {
		name string
		ev   Event
		want bool
	}{
		{"property value, national format", Event{Value: "098765 43210"}, true},
		{"property value, other number", Event{Value: "+919876500000"}, false},
		{"inline record", Event{Record: json.RawMessage(`{"Phones":["+91-98765-43210"]}`)}, true},
		{"a longer number ending alike", Event{Value: "12345559876543210"}, false},
		{"nothing", Event{}, false},
	} {
		if got := e.MentionsNumber(tt.ev); got != tt.want {
			t.Errorf("%s: MentionsNumber = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !e.HoldsNumber([]byte(`{"to":"919876543210"}`)) || e.HoldsNumber([]byte(`{"to":"+14155550100"}`)) {
		t.Error("HoldsNumber reads the number's forms wrong")
	}
}

// TestEraseTarget: the contact's calls bring their numbers and values in;
// events and notifications are the person's by call, contact or number.
func TestEraseTarget(t *testing.T) {
	contact := &SourceFilter{Type: "hubspot", ObjectID: "123"}
	tg := NewEraseTarget(EraseRequest{Contact: contact, Numbers: []string{"+14155550123", ""}, KeepEvent: "01JKEEP"})
	tg.AddCall(Call{ID: "c1", ToNumber: "+919812345678", Variables: map[string]string{"firstname": "Asha"}})
	tg.AddCall(Call{ID: "c1", ToNumber: "+919812345678"})
	if len(tg.Calls) != 1 || strings.Join(tg.Numbers, ",") != "+14155550123,+919812345678" {
		t.Fatalf("calls %v, numbers %v", tg.Calls, tg.Numbers)
	}
	e := tg.Erasure()
	for _, tt := range []struct {
		name string
		ev   Event
		want bool
	}{
		{"became one of the calls", Event{ID: "e1", CallID: "c1"}, true},
		{"the contact's", Event{ID: "e2", Type: "hubspot", ObjectID: "123"}, true},
		{"names a number", Event{ID: "e3", Value: "+1 415 555 0123"}, true},
		{"the request itself", Event{ID: "01JKEEP", Type: "hubspot", ObjectID: "123"}, false},
		{"someone else", Event{ID: "e4", Type: "hubspot", ObjectID: "124"}, false},
	} {
		if got := tg.EventIsTheirs(e, tt.ev, nil); got != tt.want {
			t.Errorf("%s: EventIsTheirs = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !tg.OutboxIsTheirs(e, OutboxItem{CallID: "c1"}, nil) || tg.OutboxIsTheirs(e, OutboxItem{CallID: "c2"}, []byte(`{}`)) {
		t.Error("OutboxIsTheirs")
	}
	if err := (EraseRequest{}).Check(); err == nil {
		t.Error("a request naming nobody passed Check")
	}
}
