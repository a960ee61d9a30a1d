package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// inNormalize reads numbers as Indian ones, as callee.Normalize does with
// region IN, for the shapes these tests use.
func inNormalize(s string) (string, error) {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
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

func TestListCallsSearch(t *testing.T) {
	db := openTest(t)
	var ids []string
	for i := range 5 {
		c := newCall("sales", fmt.Sprintf("+91981234560%d", i))
		c.Variables = map[string]string{"firstname": []string{"Asha", "Ravi"}[i%2]}
		c.Source = store.Source{Type: "hubspot", ObjectID: fmt.Sprint(100 + i)}
		got, _, err := db.CreateCall(ctx, c, store.CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	page, next, err := db.ListCalls(ctx, store.CallFilter{Search: store.NewSearch("asha", inNormalize), Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != ids[4] || page[1].ID != ids[2] || next == "" {
		t.Fatalf("first page = %d calls, next %q, err %v", len(page), next, err)
	}
	page, next, err = db.ListCalls(ctx, store.CallFilter{Search: store.NewSearch("asha", inNormalize), Limit: 2, Cursor: next})
	if err != nil || len(page) != 1 || page[0].ID != ids[0] {
		t.Fatalf("second page = %+v, err %v", page, err)
	}
	if next != "" {
		t.Errorf("the last page has a cursor %q", next)
	}
	page, _, _ = db.ListCalls(ctx, store.CallFilter{Search: store.NewSearch("103", inNormalize)})
	if len(page) != 1 || page[0].ID != ids[3] {
		t.Errorf("contact id 103 found %d calls", len(page))
	}
	page, _, _ = db.ListCalls(ctx, store.CallFilter{Search: store.NewSearch("09812345601", inNormalize), AgentID: "sales"})
	if len(page) != 1 || page[0].ID != ids[1] {
		t.Errorf("phone found %d calls", len(page))
	}
}

func newTestInbox(t testing.TB, db *Store) *Store {
	t.Helper()
	in := db
	t.Cleanup(func() { in.Close() })
	return in
}

func appendAt(t testing.TB, in *Store, at time.Time, evs ...store.Event) []store.Event {
	t.Helper()
	res, err := in.AppendEvents(context.Background(), evs, store.AppendOptions{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

func failedEvent(agent, object string) store.Event {
	return store.Event{Key: agent + ":" + object, AgentID: agent, Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		ObjectType: "contact", ObjectID: object, Status: store.EventFailed, Reason: "token rejected (401)"}
}

func TestListEventsFilters(t *testing.T) {
	db := openTest(t)
	in := newTestInbox(t, db)
	a := appendAt(t, in, t0, failedEvent("sales", "1"))[0]
	b := appendAt(t, in, t0.Add(time.Hour), failedEvent("sales", "2"))[0]
	c := appendAt(t, in, t0.Add(2*time.Hour), failedEvent("support", "3"))[0]
	ids := func(evs []store.Event) string {
		var s []string
		for _, e := range evs {
			s = append(s, e.ObjectID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want string
	}{
		{"all", store.EventFilter{}, "3,2,1"},
		{"since", store.EventFilter{Since: t0.Add(time.Hour)}, "3,2"},
		{"until", store.EventFilter{Until: t0.Add(time.Hour)}, "1"},
		{"agent and window", store.EventFilter{AgentID: "sales", Since: t0, Until: t0.Add(3 * time.Hour)}, "2,1"},
		{"search", store.EventFilter{Search: store.NewSearch("3", inNormalize)}, "3"},
		{"search none", store.EventFilter{Search: store.NewSearch("nobody", inNormalize)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, err := in.ListEvents(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(evs); got != tt.want {
				t.Errorf("= %s, want %s", got, tt.want)
			}
		})
	}
	// A page that is exactly full has no cursor when nothing follows.
	evs, next, _ := in.ListEvents(ctx, store.EventFilter{AgentID: "sales", Limit: 2})
	if len(evs) != 2 || next != "" {
		t.Errorf("full last page: %d events, next %q", len(evs), next)
	}
	evs, next, _ = in.ListEvents(ctx, store.EventFilter{Limit: 1})
	if len(evs) != 1 || evs[0].ID != c.ID || next != c.ID {
		t.Errorf("first page of one: %v next %q", ids(evs), next)
	}
	_, _ = a, b
}

func TestViewEventsFollowsTheCall(t *testing.T) {
	db := openTest(t)
	in := newTestInbox(t, db)
	call, _, err := db.CreateCall(ctx, newCall("sales", "+919812345678"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	called := store.Event{Key: "k", AgentID: "sales", Status: store.EventCalled, Reason: "call created", CallID: call.ID}
	evs := appendAt(t, in, t0, called, failedEvent("sales", "9"), store.Event{Key: "gone", AgentID: "sales", Status: store.EventCalled, CallID: "no-such-call"})
	call.Status, call.Reason = store.CallDropped, "no attempt left in the window"
	if err := db.UpdateCall(ctx, call, nil); err != nil {
		t.Fatal(err)
	}
	views, err := in.ViewEvents(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if v := views[0]; v.ShownStatus() != store.CallDropped || v.ShownReason() != "no attempt left in the window" || v.Status != store.EventCalled {
		t.Errorf("called event shows %s (%s), own status %s", v.ShownStatus(), v.ShownReason(), v.Status)
	}
	if v := views[1]; v.ShownStatus() != store.EventFailed || v.CallStatus != "" {
		t.Errorf("failed event shows %s", v.ShownStatus())
	}
	if v := views[2]; v.ShownStatus() != store.EventCalled {
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
	appendAt(t, in, t0, store.Event{Key: "p", AgentID: "sales"}) // pending: matched by agent, never replayed
	now := t0.Add(72 * time.Hour)

	dry, err := in.ReplayEvents(ctx, store.EventFilter{AgentID: "sales"}, now, true)
	if err != nil || dry.Replayed != 3 || dry.Skipped != 1 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if n := pending(t, in); n != 1 {
		t.Fatalf("a dry run changed the queue: %d pending", n)
	}
	res, err := in.ReplayEvents(ctx, store.EventFilter{Status: store.EventFailed, AgentID: "sales", Until: t0.Add(time.Hour)}, now, false)
	if err != nil || res.Replayed != 2 || res.Skipped != 0 || res.Truncated {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	if n := pending(t, in); n != 3 {
		t.Errorf("%d events pending, want 3", n)
	}
	got, _ := in.GetEvent(ctx, late.ID)
	if got.Status != store.EventFailed {
		t.Errorf("an event outside the window was replayed: %s", got.Status)
	}
	evs, _, _ := in.ListEvents(ctx, store.EventFilter{Status: store.EventPending, AgentID: "sales"})
	for _, ev := range evs {
		if ev.Key != "p" && (len(ev.History) != 1 || !strings.Contains(ev.History[0], "failed: token rejected (401)")) {
			t.Errorf("replayed event %s history %q", ev.ID, ev.History)
		}
	}
	// Replaying again finds nothing left to replay.
	res, _ = in.ReplayEvents(ctx, store.EventFilter{Status: store.EventFailed, AgentID: "sales", Until: t0.Add(time.Hour)}, now, false)
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
		f    store.CallFilter
	}{
		{"baseline-newest-page", store.CallFilter{}},
		{"q=name-no-match", store.CallFilter{Search: store.NewSearch("nobody", inNormalize)}},
		{"q=phone", store.CallFilter{Search: store.NewSearch("+919800005000", inNormalize)}},
		{"q=contact-id", store.CallFilter{Search: store.NewSearch("5000", inNormalize)}},
	} {
		b.Run("calls=10000/"+tt.name, func(b *testing.B) {
			f := tt.f
			f.Limit = 50
			for b.Loop() {
				if _, _, err := db.ListCalls(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
