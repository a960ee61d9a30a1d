package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var eraseTests = []subtest{
	{"Contact", testEraseContact},
	{"Number", testEraseNumber},
	{"NeedsAPerson", testEraseNeedsAPerson},
}

const (
	erasedNumber = "+14155550123"
	keptNumber   = "+14155550999"
)

// eraseFixture is one person (HubSpot contact 7, called by two agents,
// plus an outbound call to the same number) and one bystander (contact 8).
type eraseFixture struct {
	s                                  store.Store
	c1, c2, c3, c4                     store.Call
	creation, property, pending, lsq   string
	kept, formatted, hook, dead, other string
}

func newEraseFixture(t *testing.T, s store.Store) *eraseFixture {
	t.Helper()
	f := &eraseFixture{s: s}
	src := store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "7", Account: "62515", ObjectType: "contact"}
	mk := func(agent, number string, src store.Source, status string, vars map[string]string, o store.CreateOptions) store.Call {
		c := newCall(agent, number)
		c.Source, c.Status, c.Variables = src, status, vars
		c.Fields = map[string]any{"firstname": vars["firstname"], "score": 42.0}
		if store.Final(status) {
			c.NextAttemptAt = nil
		}
		if status == store.CallCompleted {
			end := t0.Add(time.Minute)
			c.Reason = "connected"
			c.Attempts = []store.Attempt{{N: 1, StartedAt: t0, EndedAt: &end, Outcome: store.OutcomeCompleted,
				Reason: `the platform said "` + number + ` answered"`, ProviderCallID: "prov-1", DurationS: 61,
				RecordingURL: "https://media.example.com/rec/1.mp3", Summary: "Ada Lovelace agreed to a demo", Disposition: "interested",
				FromNumber: "+14155550100", Transcript: []store.Turn{{Speaker: "user", Text: "This is Ada"}}, Data: map[string]any{"email": "ada@example.com"}}}
		}
		o.Now = t0
		return createCall(t, s, c, o)
	}
	ada := map[string]string{"firstname": "Ada Lovelace"}
	f.c1 = mk("sales", erasedNumber, src, store.CallCompleted, ada, store.CreateOptions{ContactKey: "hubspot:62515:contact:7"})
	f.c2 = mk("support", erasedNumber, src, store.CallCanceled, ada, store.CreateOptions{})
	f.c3 = mk("sales", erasedNumber, store.Source{Type: "api"}, store.CallScheduled, ada, store.CreateOptions{ContactKey: "api:" + erasedNumber})
	other := src
	other.ObjectID = "8"
	f.c4 = mk("sales", keptNumber, other, store.CallScheduled, map[string]string{"firstname": "Grace Hopper"}, store.CreateOptions{})

	record, _ := json.Marshal(map[string]any{"object_id": "7", "fields": map[string]any{"firstname": map[string]any{"string": "Ada Lovelace"}}})
	lsqRecord, _ := json.Marshal(map[string]any{"object_id": "lead-9", "fields": map[string]any{"Phone": map[string]any{"string": erasedNumber}}})
	creation := event("k-creation")
	creation.ObjectID, creation.Account, creation.Record = "7", "62515", record
	property := event("k-phone")
	property.ObjectID, property.Account, property.Kind, property.EventType, property.Property, property.Value = "7", "62515", "updated", "contact.propertyChange", "phone", erasedNumber
	property.Status, property.Reason = store.EventIgnored, `when rule "event.kind == 'created'" is false`
	pending := event("k-pending")
	pending.ObjectID, pending.Account = "7", "62515"
	lsq := event("k-lsq")
	lsq.Type, lsq.Integration, lsq.ObjectType, lsq.ObjectID, lsq.Record = "leadsquared", "lsq", "lead", "lead-9", lsqRecord
	lsq.Status, lsq.Reason = store.EventSkipped, `invalid phone number "`+erasedNumber+`" in Phone (region IN)`
	kept := event("k-kept")
	kept.ObjectID, kept.Record = "8", []byte(`{"object_id":"8","fields":{"firstname":{"string":"Grace Hopper"}}}`)
	// Another record given the person's number, written as people write it.
	formatted := event("k-formatted")
	formatted.ObjectID, formatted.Kind, formatted.EventType, formatted.Property, formatted.Value = "9", "updated", "contact.propertyChange", "phone", "+1 (415) 555-0123"
	formatted.Status, formatted.Reason = store.EventIgnored, "when rule is false"
	res := appendAt(t, s, t0, creation, property, pending, lsq, kept, formatted)
	f.creation, f.property, f.pending, f.lsq, f.kept, f.formatted = res.Events[0].ID, res.Events[1].ID, res.Events[2].ID, res.Events[3].ID, res.Events[4].ID, res.Events[5].ID
	// The creation event became c1.
	cr := res.Events[0]
	cr.Status, cr.Reason, cr.CallID, cr.UpdatedAt = store.EventCalled, "call "+f.c1.ID+" scheduled", f.c1.ID, t0
	must(t, s.SaveEvents(ctx(t), []store.Event{cr}))
	body := func(c store.Call) []byte {
		b, _ := json.Marshal(map[string]any{"event": "call_ended", "data": map[string]any{
			"call_id": c.ID, "to_number": c.ToNumber, "to": c.ToNumber[1:], "call_metadata": c.Variables,
			"reason": "connected to " + c.ToNumber, "status": c.Status}})
		return b
	}
	hk, dead, oth := hook(s, f.c1.ID, t0), hook(s, f.c2.ID, t0), hook(s, f.c4.ID, t0)
	hk.Body, dead.Body, oth.Body = body(f.c1), body(f.c2), body(f.c4)
	dead.Dead, dead.LastError = true, "endpoint refused "+erasedNumber
	must(t, s.EnqueueOutbox(ctx(t), hk, dead, oth))
	f.hook, f.dead, f.other = hk.ID, dead.ID, oth.ID
	must(t, s.AddDND(ctx(t), erasedNumber, "asked not to be called", t0))
	return f
}

// e164 reads the fixture's numbers as the gateway's normalizer would.
func e164(q string) (string, error) {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	switch {
	case len(d) == 11 && d[0] == '1':
		return "+" + d, nil
	case len(d) == 10:
		return "+1" + d, nil
	}
	return "", errors.New("not a number")
}

// testEraseContact: the person's calls, events and notifications lose
// their personal data (ids, statuses and times stay for the audit), the
// number indexes forget it, pending events settle, erased events are
// never replayed, the bystander and the DND list are untouched.
func testEraseContact(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newEraseFixture(t, s)
	pendingBefore, err := s.PendingEvents(ctx(t))
	must(t, err)
	rep, err := s.Erase(ctx(t), store.EraseRequest{Contact: &store.SourceFilter{Type: "hubspot", Integration: "hubspot", ObjectID: "7", ObjectType: "contact"}, Now: t0.Add(time.Hour)})
	must(t, err)
	want := store.EraseReport{Calls: 3, Events: 5, Outbox: 1, DeadLetters: 1, SettledEvents: 1, DedupeKeys: 1}
	if rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	t.Run("calls keep ids, statuses and times", func(t *testing.T) {
		for _, was := range []store.Call{f.c1, f.c2, f.c3} {
			c := getCall(t, s, was.ID)
			if c.ToNumber != store.Erased || c.Variables["firstname"] != store.Erased || c.Fields["firstname"] != store.Erased || c.Fields["score"] != store.Erased {
				t.Errorf("call %s not erased: %+v", c.ID, c)
			}
			if c.ErasedAt == nil || !c.ErasedAt.Equal(t0.Add(time.Hour)) || !c.CreatedAt.Equal(was.CreatedAt) || c.AgentID != was.AgentID || c.Source != was.Source {
				t.Errorf("call %s lost its audit fields: %+v", c.ID, c)
			}
		}
		c1 := getCall(t, s, f.c1.ID)
		if c1.Status != store.CallCompleted || c1.Reason != "connected" || c1.Attempts[0].ProviderCallID != "prov-1" || c1.Attempts[0].Outcome != store.OutcomeCompleted {
			t.Errorf("c1 = %+v", c1)
		}
		if a := c1.Attempts[0]; a.Reason != `the platform said "[erased]"` || a.RecordingURL != store.Erased || a.Summary != store.Erased ||
			a.Disposition != store.Erased || a.FromNumber != store.Erased || a.Data["email"] != store.Erased ||
			len(a.Transcript) != 1 || a.Transcript[0].Text != store.Erased || a.DurationS != 61 {
			t.Errorf("attempt = %+v: want what the platform reported erased, the duration kept", a)
		}
		if c3 := getCall(t, s, f.c3.ID); c3.Status != store.CallCanceled || c3.NextAttemptAt != nil {
			t.Errorf("a scheduled call erased without a cancel must not stay due: %+v", c3)
		}
		if due, _ := s.DueCalls(ctx(t), "voice", t0.Add(48*time.Hour), 10); len(due) != 1 || due[0].ID != f.c4.ID {
			t.Errorf("due calls = %v, want only the bystander's", callIDs(due))
		}
	})
	t.Run("the number is forgotten", func(t *testing.T) {
		if calls, _, _ := s.ListCalls(ctx(t), store.CallFilter{Phone: erasedNumber}); len(calls) != 0 {
			t.Errorf("ListCalls by the erased number = %v", callIDs(calls))
		}
		if calls, _, _ := s.ListCalls(ctx(t), store.CallFilter{Phone: store.Erased}); len(calls) != 0 {
			t.Errorf("the marker is indexed as a number: %v", callIDs(calls))
		}
		if act, _ := s.ActiveCalls(ctx(t), "", erasedNumber); len(act) != 0 {
			t.Errorf("active calls = %v", callIDs(act))
		}
		if calls, _, _ := s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("lovelace", e164)}); len(calls) != 0 {
			t.Errorf("a search for the name finds %v", callIDs(calls))
		}
		if evs, _, _ := s.ListEvents(ctx(t), store.EventFilter{Search: store.NewSearch(erasedNumber, e164)}); len(evs) != 0 {
			t.Errorf("a search for the number finds events %v", eventIDs(evs))
		}
	})
	t.Run("events", func(t *testing.T) {
		for _, id := range []string{f.creation, f.property, f.pending, f.lsq, f.formatted} {
			e, err := s.GetEvent(ctx(t), id)
			must(t, err)
			if e.ErasedAt == nil {
				t.Errorf("event %s not marked erased", id)
			}
			if len(e.Record) > 0 && string(e.Record) != `"[erased]"` {
				t.Errorf("event %s record = %s", id, e.Record)
			}
			if _, err := s.ReplayEvent(ctx(t), id, t0.Add(2*time.Hour)); !errors.Is(err, store.ErrNotReplayable) {
				t.Errorf("replay of erased event %s: %v, want ErrNotReplayable", id, err)
			}
		}
		if res, _ := s.ReplayEvents(ctx(t), store.EventFilter{}, t0.Add(2*time.Hour), false); res.Replayed != 0 {
			t.Errorf("a bulk replay replayed %d erased events", res.Replayed)
		}
		cr, _ := s.GetEvent(ctx(t), f.creation)
		if cr.Status != store.EventCalled || cr.CallID != f.c1.ID || cr.ObjectID != "7" {
			t.Errorf("the creation event lost its audit fields: %+v", cr)
		}
		pc, _ := s.GetEvent(ctx(t), f.property)
		if pc.Value != store.Erased || pc.Property != "phone" || pc.Reason != `when rule "[erased]" is false` {
			t.Errorf("property change = %+v", pc)
		}
		pe, _ := s.GetEvent(ctx(t), f.pending)
		if pe.Status != store.EventIgnored || pe.Reason == "" {
			t.Errorf("pending event = %+v, want ignored with a reason", pe)
		}
		if got, _ := s.PendingEvents(ctx(t)); got != pendingBefore-1 {
			t.Errorf("pending = %d, want %d", got, pendingBefore-1)
		}
		if claimed := claim(t, s, t0.Add(72*time.Hour), time.Minute, 10); len(claimed) != 1 || claimed[0].ID != f.kept {
			t.Errorf("claimed %v after erasure, want only the bystander's event", eventIDs(claimed))
		}
		kept, _ := s.GetEvent(ctx(t), f.kept)
		if kept.ErasedAt != nil || !bytes.Contains(kept.Record, []byte("Grace Hopper")) {
			t.Errorf("the bystander's event changed: %+v", kept)
		}
	})
	t.Run("outbox and dead letters", func(t *testing.T) {
		hk, err := s.GetOutbox(ctx(t), f.hook)
		must(t, err)
		var body struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(hk.Body, &body); err != nil {
			t.Fatalf("the erased body is not JSON: %v: %s", err, hk.Body)
		}
		meta, _ := body.Data["call_metadata"].(map[string]any)
		if body.Data["to_number"] != store.Erased || body.Data["call_id"] != f.c1.ID || body.Data["reason"] != "connected to [erased]" || meta["firstname"] != store.Erased {
			t.Errorf("erased body = %s", hk.Body)
		}
		if bytes.Contains(hk.Body, []byte("14155550123")) {
			t.Errorf("the body still holds the number: %s", hk.Body)
		}
		dead, _ := s.GetOutbox(ctx(t), f.dead)
		if !dead.Dead || dead.LastError != "endpoint refused [erased]" {
			t.Errorf("dead letter = %+v", dead)
		}
		if p, d, _ := s.OutboxDepth(ctx(t)); p != 2 || d != 1 {
			t.Errorf("depth = %d, %d; want the erased item and the bystander's pending, one dead", p, d)
		}
		if other, _ := s.GetOutbox(ctx(t), f.other); !bytes.Contains(other.Body, []byte(keptNumber)) {
			t.Errorf("the bystander's notification changed: %s", other.Body)
		}
	})
	t.Run("bystander and DND untouched", func(t *testing.T) {
		c4 := getCall(t, s, f.c4.ID)
		if c4.ToNumber != keptNumber || c4.Variables["firstname"] != "Grace Hopper" || c4.Status != store.CallScheduled || c4.ErasedAt != nil {
			t.Errorf("c4 = %+v", c4)
		}
		if on, _ := s.IsDND(ctx(t), erasedNumber); !on {
			t.Error("erasure removed the DND entry: a do-not-call request must outlive the data")
		}
	})
	t.Run("again is a no-op", func(t *testing.T) {
		rep, err := s.Erase(ctx(t), store.EraseRequest{Contact: &store.SourceFilter{Type: "hubspot", ObjectID: "7"}, Now: t0.Add(2 * time.Hour)})
		if err != nil || rep.SettledEvents != 0 || rep.DedupeKeys != 0 {
			t.Errorf("second erase: %+v %v", rep, err)
		}
	})
	t.Run("the number can be called again", func(t *testing.T) {
		// A new consent later: no stale dedupe entry holds the number back.
		createCall(t, s, newCall("sales", erasedNumber), store.CreateOptions{ContactKey: "api:" + erasedNumber, DedupeWindow: 24 * time.Hour, Now: t0.Add(2 * time.Hour)})
	})
}

// testEraseNumber: found by number, the calls to it, the events that
// became one or carry it, and their notifications; the contact's other
// pending event, which carries neither, stays.
func testEraseNumber(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newEraseFixture(t, s)
	rep, err := s.Erase(ctx(t), store.EraseRequest{Numbers: []string{erasedNumber}, Now: t0.Add(time.Hour)})
	must(t, err)
	want := store.EraseReport{Calls: 3, Events: 4, Outbox: 1, DeadLetters: 1, DedupeKeys: 1}
	if rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	if pe, _ := s.GetEvent(ctx(t), f.pending); pe.Status != store.EventPending || pe.ErasedAt != nil {
		t.Errorf("the contact's pending event = %+v, want untouched", pe)
	}
	for _, id := range []string{f.c1.ID, f.c2.ID, f.c3.ID} {
		if c := getCall(t, s, id); c.ToNumber != store.Erased || c.ErasedAt == nil {
			t.Errorf("call %s to the number: %+v", id, c)
		}
	}
	if lsq, _ := s.GetEvent(ctx(t), f.lsq); lsq.ErasedAt == nil || strings.Contains(lsq.Reason, "4155550123") || strings.Contains(string(lsq.Record), "4155550123") {
		t.Errorf("the event carrying the number: %+v", lsq)
	}
	if fm, _ := s.GetEvent(ctx(t), f.formatted); fm.ErasedAt == nil || fm.Value != store.Erased {
		t.Errorf("the event carrying the formatted number: %+v", fm)
	}
}

func testEraseNeedsAPerson(t *testing.T, h Harness) {
	s := h.Open(t)
	for _, req := range []store.EraseRequest{{}, {Contact: &store.SourceFilter{Type: "hubspot"}}, {Contact: &store.SourceFilter{ObjectID: "7"}}} {
		if _, err := s.Erase(ctx(t), req); err == nil {
			t.Errorf("Erase(%+v) succeeded", req)
		}
	}
}
