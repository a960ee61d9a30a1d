package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
)

// seed appends n events, one a second from t0, alternating agents, and
// returns them oldest first.
func seed(t *testing.T, s *postgres.Store, n int) []store.Event {
	t.Helper()
	var out []store.Event
	for i := range n {
		ev := event(fmt.Sprint("k", i))
		ev.ObjectID = fmt.Sprint(1000 + i)
		if i%2 == 1 {
			ev.AgentID = "support"
		}
		res, err := s.AppendEvents(context.Background(), []store.Event{ev}, store.AppendOptions{Now: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Events[0])
	}
	return out
}

func TestListEventsPagesAndFilters(t *testing.T) {
	s := replicas(t, 1)[0]
	all := seed(t, s, 25)
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []int // indexes into all, in page order
	}{
		{"everything, newest first", store.EventFilter{Limit: 100}, span(24, 0)},
		{"one agent", store.EventFilter{AgentID: "support", Limit: 100}, []int{23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1}},
		{"a time range", store.EventFilter{Since: all[5].ReceivedAt, Until: all[9].ReceivedAt, Limit: 100}, span(8, 5)},
		{"by search", store.EventFilter{Search: store.Search{Text: "1007"}, Limit: 100}, []int{7}},
		{"no match", store.EventFilter{Status: store.EventFailed, Limit: 100}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pages(t, s, tc.f, 4)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events, want %d", len(got), len(tc.want))
			}
			for i, ev := range got {
				if ev.ID != all[tc.want[i]].ID {
					t.Fatalf("event %d is %s, want %s", i, ev.Key, all[tc.want[i]].Key)
				}
			}
		})
	}
}

// pages reads f page by page, size at a time, and returns every event.
func pages(t *testing.T, s *postgres.Store, f store.EventFilter, size int) []store.Event {
	t.Helper()
	f.Limit = size
	var out []store.Event
	for range 100 {
		evs, next, err := s.ListEvents(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > size || (next != "" && len(evs) != size) {
			t.Fatalf("page of %d events with next %q", len(evs), next)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
	t.Fatal("pages never end")
	return nil
}

func span(from, to int) []int {
	var out []int
	for i := from; i >= to; i-- {
		out = append(out, i)
	}
	return out
}

// ViewEvents and the search read the calls the events became, from the
// calls table (calls.go's).
func TestViewEventsAndSearchReadCalls(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	evs := seed(t, s, 3)
	call := store.Call{AgentID: "sales", Status: store.CallRetryScheduled, Reason: "no answer",
		ToNumber: "+14155550100", Policy: store.Policy{Timezone: "America/New_York"}, CreatedAt: t0}
	call, _, err := s.CreateCall(ctx, call, store.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs[1].Status, evs[1].CallID = store.EventCalled, call.ID
	evs[2].Status, evs[2].CallID = store.EventCalled, "01GONE"
	if err := s.SaveEvents(ctx, evs[1:]); err != nil {
		t.Fatal(err)
	}
	views, err := s.ViewEvents(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if v := views[1]; v.ShownStatus() != store.CallRetryScheduled || v.ShownReason() != "no answer" || v.CallTimezone != "America/New_York" {
		t.Errorf("view of the called event: %+v", v)
	}
	if views[0].ShownStatus() != store.EventPending || views[2].ShownStatus() != store.EventCalled {
		t.Errorf("views without a call: %q, %q", views[0].ShownStatus(), views[2].ShownStatus())
	}
	got, _, err := s.ListEvents(ctx, store.EventFilter{Search: store.Search{Text: "+14155550100", Phone: "+14155550100"}})
	if err != nil || len(got) != 1 || got[0].ID != evs[1].ID {
		t.Fatalf("search by the call's number: %v, %v", got, err)
	}
}

func TestReplayEventsInBulk(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	evs := seed(t, s, 6)
	for i := range evs {
		evs[i].Status, evs[i].Reason = store.EventFailed, "token rejected (401)"
	}
	evs[0].Status = store.EventCalled
	if err := s.SaveEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	f := store.EventFilter{AgentID: "sales"} // 0, 2, 4
	dry, err := s.ReplayEvents(ctx, f, t0.Add(time.Hour), true)
	if err != nil || dry.Replayed != 2 || dry.Skipped != 1 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if n, _ := s.PendingEvents(ctx); n != 0 {
		t.Fatalf("a dry run changed %d events", n)
	}
	res, err := s.ReplayEvents(ctx, f, t0.Add(time.Hour), false)
	if err != nil || res != dry {
		t.Fatalf("replay: %+v, %v; want %+v", res, err, dry)
	}
	if got := claimKeys(t, s, t0.Add(time.Hour)); len(got) != 2 {
		t.Fatalf("replayed events due: %v", got)
	}
}

func TestPendingByAgentAndWakeOrphans(t *testing.T) {
	s := replicas(t, 1)[0]
	ctx := context.Background()
	evs := seed(t, s, 5)
	byAgent, err := s.PendingByAgent(ctx)
	if err != nil || byAgent["sales"]["hubspot"] != 3 || byAgent["support"]["hubspot"] != 2 {
		t.Fatalf("PendingByAgent = %v, %v", byAgent, err)
	}
	// Every support event waits for its agent, gone from the config.
	now := t0.Add(time.Minute)
	var waiting []store.Event
	for _, ev := range evs {
		if ev.AgentID == "support" {
			ev.OrphanedAt, ev.NotBefore = now, now.Add(time.Hour)
			waiting = append(waiting, ev)
		}
	}
	if err := s.SaveEvents(ctx, waiting); err != nil {
		t.Fatal(err)
	}
	n, err := s.WakeOrphans(ctx, now, func(agent, _ string) bool { return agent == "sales" })
	if err != nil || n != 0 {
		t.Fatalf("waking agents that never left: %d, %v", n, err)
	}
	n, err = s.WakeOrphans(ctx, now, func(agent, _ string) bool { return agent == "support" })
	if err != nil || n != 2 {
		t.Fatalf("waking support: %d, %v", n, err)
	}
	if got := claimKeys(t, s, now); len(got) != 5 {
		t.Fatalf("due after the wake-up: %v, want all 5", got)
	}
}
