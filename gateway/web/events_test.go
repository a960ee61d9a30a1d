package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// addCalledEvent appends the event a call came from, linked both ways.
func (f *fixture) addCalledEvent(tb testing.TB, c store.Call, record json.RawMessage) store.Event {
	tb.Helper()
	res, err := f.inbox.AppendEvents(context.Background(), []store.Event{{
		Key: "hubspot:called:" + c.ID, AgentID: c.AgentID, Type: "hubspot", Integration: "hubspot",
		EventType: "contact.propertyChange", Kind: "property_changed", ObjectType: "contact", ObjectID: c.Source.ObjectID,
		Property: "lifecyclestage", Value: "lead", Record: record,
		OccurredAt: f.now, Status: store.EventCalled, Reason: "call " + c.ID + " scheduled", CallID: c.ID,
	}}, store.AppendOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	ev := res.Events[0]
	c.Source.EventID = ev.ID
	if err := f.db.UpdateCall(context.Background(), c, nil); err != nil {
		tb.Fatal(err)
	}
	return ev
}

func TestEventDetailAndSearch(t *testing.T) {
	f := newFixture(t, "")
	call := f.addCall(t, "+919812345678", store.CallRetryScheduled, f.now.Add(-time.Hour))
	other := f.addCall(t, "+919812345670", store.CallScheduled, f.now.Add(-2*time.Hour))
	ev := f.addCalledEvent(t, call, json.RawMessage(`{"ObjectID":"123","Fields":{"email":{"String":"ada@example.com"}}}`))
	failed := f.addFailedEvent(t, "555")
	// The call has ended since its event was taken: the event shows that.
	call, _ = f.db.GetCall(context.Background(), call.ID)
	call.Status, call.Reason, call.NextAttemptAt = store.CallDropped, "no attempt left in the window", nil
	if err := f.db.UpdateCall(context.Background(), call, nil); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, f.srv.URL)
	csrf := c.signIn()

	pages := []struct {
		name, path string
		want, not  []string
	}{
		{"event detail", "/ui/events/" + ev.ID, []string{
			`<span class="badge muted" id="event-status">dropped</span>`, "no attempt left in the window", // the call's status, not "called"
			`href="/ui/calls/` + call.ID + `"`, "to Ada", "lifecyclestage = lead",
			"&#34;email&#34;", "ada@example.com", // the inline record, pretty-printed
			"Stored event", `&#34;call_id&#34;: &#34;` + call.ID,
			`title="` + f.now.UTC().Format("2006-01-02 15:04:05") + ` UTC"`, " IST</time>", // the agent's zone, UTC on hover
		}, []string{`id="replay-event"`}},
		{"failed event detail", "/ui/events/" + failed.ID, []string{"token rejected (401)", `id="replay-event"`, "None: the pipeline read the record"}, nil},
		{"events list links and follows the call", "/ui/events", []string{`href="/ui/events/` + ev.ID + `"`, `<span class="badge muted">dropped</span> <span class="small">event called</span>`}, nil},
		{"events search by phone", "/ui/events?q=098123+45678", []string{ev.ID}, []string{failed.ID}},
		{"events search by contact id", "/ui/events?q=555", []string{failed.ID}, []string{ev.ID}},
		{"events by agent and day", "/ui/events?agent_id=sales-intro&from=" + f.now.Format("2006-01-02"), []string{ev.ID, failed.ID}, nil},
		{"events of another agent", "/ui/events?agent_id=lsq-intro", []string{"No events"}, []string{ev.ID}},
		{"calls show who", "/ui/calls", []string{`class="who">Ada</a>`, `href="/ui/calls/` + other.ID + `"`, " IST</time>"}, nil},
		{"calls search by name", "/ui/calls?q=ada", []string{call.ID, other.ID}, nil},
		{"calls search by phone", "/ui/calls?q=%2B91+98123+45670", []string{other.ID}, []string{call.ID}},
		{"call links its event", "/ui/calls/" + call.ID, []string{`<a href="/ui/events/` + ev.ID + `" id="call-event">`, `<span class="who">Ada</span>`}, nil},
		{"bulk replay offered with the count", "/ui/events?status=failed&agent_id=sales-intro", []string{`data-confirm="Replay 1 failed event of sales-intro?"`}, nil},
		{"no bulk replay for called events", "/ui/events?status=called", nil, []string{`id="bulk-replay"`}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			resp, body := c.get(p.path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range p.not {
				if strings.Contains(body, n) {
					t.Errorf("page has %q", n)
				}
			}
		})
	}
	if resp, body := c.get("/ui/events/nope"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "event nope not found") {
		t.Errorf("unknown event: %d", resp.StatusCode)
	}
	if resp, body := c.get("/ui/events?from=monday"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "from:") {
		t.Errorf("bad date: %d", resp.StatusCode)
	}

	t.Run("bulk replay", func(t *testing.T) {
		resp, _ := c.post("/ui/events/replay", url.Values{"csrf": {csrf}, "status": {"failed"}, "agent_id": {"sales-intro"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "status=pending") {
			t.Fatalf("bulk replay: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got, _ := f.inbox.GetEvent(context.Background(), failed.ID); got.Status != store.EventPending {
			t.Fatalf("failed event is %s after bulk replay", got.Status)
		}
		if got, _ := f.inbox.GetEvent(context.Background(), ev.ID); got.Status != store.EventCalled {
			t.Fatalf("the called event was touched: %s", got.Status)
		}
		if _, body := c.get(resp.Header.Get("Location")); !strings.Contains(body, "1 event queued again") {
			t.Error("the bulk replay's result is not shown")
		}
		resp, _ = c.post("/ui/events/replay", url.Values{"csrf": {csrf}, "status": {"called"}})
		if _, body := c.get(resp.Header.Get("Location")); !strings.Contains(body, "choose failed, skipped, ignored or blocked") {
			t.Error("a bulk replay of called events was not refused")
		}
		if resp, _ := c.post("/ui/events/replay", url.Values{"status": {"failed"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("bulk replay without CSRF: %d", resp.StatusCode)
		}
	})
}
