package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// inNormalize reads numbers as Indian ones, as callee.Normalize does with
// region IN, for the shapes these tests use.
func inNormalize(s string) (string, error) {
	d := digitsOf(s)
	switch {
	case strings.HasPrefix(strings.TrimSpace(s), "+"):
		return "+" + d, nil
	case len(d) == 11 && d[0] == '0':
		return "+91" + d[1:], nil
	case len(d) == 10:
		return "+91" + d, nil
	}
	return "", fmt.Errorf("%q is not a number", s)
}

func TestSearchMatchCall(t *testing.T) {
	c := Call{ID: "01JCALL", AgentID: "sales", ToNumber: "+919812345678",
		Variables: map[string]string{"firstname": "Asha", "lastname": "Rao"},
		Fields:    map[string]any{"email": "asha.rao@example.com", "amount": 12.5},
		Source:    Source{Type: "hubspot", ObjectID: "123"}}
	tests := []struct {
		q    string
		want bool
	}{
		{"123", true},                  // contact id
		{"12", false},                  // part of a contact id is not it
		{"+91 98123 45678", true},      // the number, international
		{"098123 45678", true},         // the number, national
		{"98123-45679", false},         // another number
		{"asha", true},                 // a name, any case
		{"RAO", true},                  // the last name
		{"asha.rao@example.com", true}, // the email
		{"example.org", false},         // another domain
		{"01jcall", true},              // the call's id
		{"12.5", false},                // numbers in fields are not text
		{"", true},                     // no search
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			s := NewSearch(tt.q, inNormalize)
			if got := s.MatchCall(&c); got != tt.want {
				t.Errorf("MatchCall(%q) = %v, want %v (search %+v)", tt.q, got, tt.want, s)
			}
		})
	}
	erased := c
	erased.ToNumber, erased.Variables = Erased, map[string]string{"firstname": Erased}
	erased.Fields = map[string]any{"email": Erased}
	for _, q := range []string{"+919812345678", "asha", "erased"} {
		if NewSearch(q, inNormalize).MatchCall(&erased) {
			t.Errorf("an erased call matched %q", q)
		}
	}
}

func TestSearchMatchEvent(t *testing.T) {
	rec, _ := json.Marshal(map[string]any{"ObjectID": "77", "Fields": map[string]any{"email": map[string]any{"String": "ravi@example.com"}},
		"Phones": []string{"098765 43210"}})
	ev := Event{ID: "01JEV", ObjectID: "77", RelatedObjectID: "900", Record: rec, Property: "firstname", Value: "Ravi"}
	call := Call{ToNumber: "+919811111111", Variables: map[string]string{"firstname": "Meera"}}
	tests := []struct {
		q    string
		call *Call
		want bool
	}{
		{"77", nil, true},
		{"900", nil, true},             // the association's other side
		{"ravi@example", nil, true},    // in the inline record
		{"+919876543210", nil, true},   // the record's phone, national form stored
		{"ravi", nil, true},            // the property value
		{"+919811111111", nil, false},  // no call: not this event
		{"+919811111111", &call, true}, // the call it became has the number
		{"meera", &call, true},         // and the name
		{"someone else", &call, false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := NewSearch(tt.q, inNormalize).MatchEvent(&ev, tt.call); got != tt.want {
				t.Errorf("MatchEvent(%q) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	now := t0
	erased := ev
	erased.Record, erased.Value, erased.ErasedAt = json.RawMessage(`"`+Erased+`"`), Erased, &now
	if NewSearch("ravi", inNormalize).MatchEvent(&erased, nil) {
		t.Error("an erased event matched by name")
	}
	if !NewSearch("77", inNormalize).MatchEvent(&erased, nil) {
		t.Error("an erased event is still found by its object id")
	}
}

func TestWho(t *testing.T) {
	tests := []struct {
		name string
		c    Call
		want string
	}{
		{"first and last", Call{Variables: map[string]string{"firstname": "Asha", "LastName": "Rao"}}, "Asha Rao"},
		{"from fields", Call{Fields: map[string]any{"first_name": "Ravi"}}, "Ravi"},
		{"whole name", Call{Variables: map[string]string{"name": "Meera K"}}, "Meera K"},
		{"email", Call{Fields: map[string]any{"email": "a@example.com"}}, "a@example.com"},
		{"crm object", Call{Source: Source{Type: "hubspot", ObjectID: "123"}}, "hubspot contact 123"},
		{"lead", Call{Source: Source{Type: "leadsquared", ObjectType: "lead", ObjectID: "L1"}}, "leadsquared lead L1"},
		{"erased", Call{Variables: map[string]string{"firstname": Erased}}, ""},
		{"nothing", Call{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Who(); got != tt.want {
				t.Errorf("Who() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListCallsSearch(t *testing.T) {
	db := openTest(t)
	var ids []string
	for i := range 5 {
		c := newCall("sales", fmt.Sprintf("+91981234560%d", i))
		c.Variables = map[string]string{"firstname": []string{"Asha", "Ravi"}[i%2]}
		c.Source = Source{Type: "hubspot", ObjectID: fmt.Sprint(100 + i)}
		got, _, err := db.CreateCall(c, CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	page, next, err := db.ListCalls(CallFilter{Search: NewSearch("asha", inNormalize), Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != ids[4] || page[1].ID != ids[2] || next == "" {
		t.Fatalf("first page = %d calls, next %q, err %v", len(page), next, err)
	}
	page, next, err = db.ListCalls(CallFilter{Search: NewSearch("asha", inNormalize), Limit: 2, Cursor: next})
	if err != nil || len(page) != 1 || page[0].ID != ids[0] {
		t.Fatalf("second page = %+v, err %v", page, err)
	}
	if next != "" {
		t.Errorf("the last page has a cursor %q", next)
	}
	page, _, _ = db.ListCalls(CallFilter{Search: NewSearch("103", inNormalize)})
	if len(page) != 1 || page[0].ID != ids[3] {
		t.Errorf("contact id 103 found %d calls", len(page))
	}
	page, _, _ = db.ListCalls(CallFilter{Search: NewSearch("09812345601", inNormalize), AgentID: "sales"})
	if len(page) != 1 || page[0].ID != ids[1] {
		t.Errorf("phone found %d calls", len(page))
	}
}

func newTestInbox(t testing.TB, db *DB) *Inbox {
	t.Helper()
	in, err := NewInbox(db, InboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func appendAt(t testing.TB, in *Inbox, at time.Time, evs ...Event) []Event {
	t.Helper()
	res, err := in.AppendEvents(context.Background(), evs, AppendOptions{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

func failedEvent(agent, object string) Event {
	return Event{Key: agent + ":" + object, AgentID: agent, Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		ObjectType: "contact", ObjectID: object, Status: EventFailed, Reason: "token rejected (401)"}
}

func TestListEventsFilters(t *testing.T) {
	db := openTest(t)
	in := newTestInbox(t, db)
	a := appendAt(t, in, t0, failedEvent("sales", "1"))[0]
	b := appendAt(t, in, t0.Add(time.Hour), failedEvent("sales", "2"))[0]
	c := appendAt(t, in, t0.Add(2*time.Hour), failedEvent("support", "3"))[0]
	ids := func(evs []Event) string {
		var s []string
		for _, e := range evs {
			s = append(s, e.ObjectID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    EventFilter
		want string
	}{
		{"all", EventFilter{}, "3,2,1"},
		{"since", EventFilter{Since: t0.Add(time.Hour)}, "3,2"},
		{"until", EventFilter{Until: t0.Add(time.Hour)}, "1"},
		{"agent and window", EventFilter{AgentID: "sales", Since: t0, Until: t0.Add(3 * time.Hour)}, "2,1"},
		{"search", EventFilter{Search: NewSearch("3", inNormalize)}, "3"},
		{"search none", EventFilter{Search: NewSearch("nobody", inNormalize)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, err := in.ListEvents(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(evs); got != tt.want {
				t.Errorf("= %s, want %s", got, tt.want)
			}
		})
	}
	// A page that is exactly full has no cursor when nothing follows.
	evs, next, _ := in.ListEvents(EventFilter{AgentID: "sales", Limit: 2})
	if len(evs) != 2 || next != "" {
		t.Errorf("full last page: %d events, next %q", len(evs), next)
	}
	evs, next, _ = in.ListEvents(EventFilter{Limit: 1})
	if len(evs) != 1 || evs[0].ID != c.ID || next != c.ID {
		t.Errorf("first page of one: %v next %q", ids(evs), next)
	}
	_, _ = a, b
}

func TestViewEventsFollowsTheCall(t *testing.T) {
	db := openTest(t)
	in := newTestInbox(t, db)
	call, _, err := db.CreateCall(newCall("sales", "+919812345678"), CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	called := Event{Key: "k", AgentID: "sales", Status: EventCalled, Reason: "call created", CallID: call.ID}
	evs := appendAt(t, in, t0, called, failedEvent("sales", "9"), Event{Key: "gone", AgentID: "sales", Status: EventCalled, CallID: "no-such-call"})
	call.Status, call.Reason = CallDropped, "no attempt left in the window"
	if err := db.UpdateCall(call, nil); err != nil {
		t.Fatal(err)
	}
	views, err := in.ViewEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if v := views[0]; v.ShownStatus() != CallDropped || v.ShownReason() != "no attempt left in the window" || v.Status != EventCalled {
		t.Errorf("called event shows %s (%s), own status %s", v.ShownStatus(), v.ShownReason(), v.Status)
	}
	if v := views[1]; v.ShownStatus() != EventFailed || v.CallStatus != "" {
		t.Errorf("failed event shows %s", v.ShownStatus())
	}
	if v := views[2]; v.ShownStatus() != EventCalled {
		t.Errorf("event of a missing call shows %s", v.ShownStatus())
	}
	raw, _ := json.Marshal(views[0])
	if !strings.Contains(string(raw), `"call_status":"dropped"`) || !strings.Contains(string(raw), `"status":"called"`) {
		t.Errorf("view JSON = %s", raw)
	}
}

func TestReplayEvents(t *testing.T) {
	db := openTest(t)
	in := newTestInbox(t, db)
	appendAt(t, in, t0, failedEvent("sales", "1"), failedEvent("sales", "2"), failedEvent("support", "3"))
	late := appendAt(t, in, t0.Add(48*time.Hour), failedEvent("sales", "4"))[0]
	appendAt(t, in, t0, Event{Key: "p", AgentID: "sales"}) // pending: matched by agent, never replayed
	now := t0.Add(72 * time.Hour)

	dry, err := in.ReplayEvents(EventFilter{AgentID: "sales"}, now, true)
	if err != nil || dry.Replayed != 3 || dry.Skipped != 1 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if n := in.PendingEvents(); n != 1 {
		t.Fatalf("a dry run changed the queue: %d pending", n)
	}
	res, err := in.ReplayEvents(EventFilter{Status: EventFailed, AgentID: "sales", Until: t0.Add(time.Hour)}, now, false)
	if err != nil || res.Replayed != 2 || res.Skipped != 0 || res.Truncated {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	if n := in.PendingEvents(); n != 3 {
		t.Errorf("%d events pending, want 3", n)
	}
	got, _ := in.GetEvent(late.ID)
	if got.Status != EventFailed {
		t.Errorf("an event outside the window was replayed: %s", got.Status)
	}
	evs, _, _ := in.ListEvents(EventFilter{Status: EventPending, AgentID: "sales"})
	for _, ev := range evs {
		if ev.Key != "p" && (len(ev.History) != 1 || !strings.Contains(ev.History[0], "failed: token rejected (401)")) {
			t.Errorf("replayed event %s history %q", ev.ID, ev.History)
		}
	}
	// Replaying again finds nothing left to replay.
	res, _ = in.ReplayEvents(EventFilter{Status: EventFailed, AgentID: "sales", Until: t0.Add(time.Hour)}, now, false)
	if res.Replayed != 0 {
		t.Errorf("second replay = %+v", res)
	}
}

// BenchmarkSearchCalls is a search (q) over a store of 10,000 calls: a
// name matching none reads every call (the worst case: one whole scan);
// the baseline in the same run is the newest page with no search.
func BenchmarkSearchCalls(b *testing.B) {
	db := openTest(b)
	seedBench(b, db, 10_000)
	for _, tt := range []struct {
		name string
		f    CallFilter
	}{
		{"baseline-newest-page", CallFilter{}},
		{"q=name-no-match", CallFilter{Search: NewSearch("nobody", inNormalize)}},
		{"q=phone", CallFilter{Search: NewSearch("+919800005000", inNormalize)}},
		{"q=contact-id", CallFilter{Search: NewSearch("5000", inNormalize)}},
	} {
		b.Run("calls=10000/"+tt.name, func(b *testing.B) {
			f := tt.f
			f.Limit = 50
			for b.Loop() {
				if _, _, err := db.ListCalls(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
