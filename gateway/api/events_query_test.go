package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// TestEventsAPIQueryAndBulkReplay drives the events API's filters (q,
// since, until, agent), its call_status join and POST /events/replay over
// a real inbox and store.
func TestEventsAPIQueryAndBulkReplay(t *testing.T) {
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	inbox := db
	t.Cleanup(func() { db.Close() })
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	call, _, err := db.CreateCall(context.Background(), store.Call{AgentID: "sales", Status: store.CallCompleted, Reason: "call completed",
		ToNumber: "+919812345678", Variables: map[string]string{"firstname": "Asha"}}, store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	failed := func(agent, object string) store.Event {
		ev := event(agent, "created", object)
		ev.Status, ev.Reason = store.EventFailed, "hubspot: fetch contact "+object+": token rejected (401)"
		return ev
	}
	called := event("sales", "created", "5")
	called.Status, called.Reason, called.CallID = store.EventCalled, "call scheduled", call.ID
	for i, ev := range []store.Event{failed("sales", "1"), failed("sales", "2"), failed("support", "3"), called} {
		if _, err := inbox.AppendEvents(context.Background(), []store.Event{ev}, store.AppendOptions{Now: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	woken := 0
	events := &api.EventsAPI{Store: inbox, Now: func() time.Time { return t0.Add(24 * time.Hour) }, Region: func() string { return "IN" },
		Replayed: func() { woken++ }}
	r := mux.NewRouter()
	events.Mount(func(method, path string, h http.Handler) { r.Handle("/api/v1"+path, h).Methods(method) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String() + "/api/v1"

	tests := []struct {
		name, method, path, body string
		code                     int
		want, not                []string
	}{
		{"search by phone finds the called event", "GET", "/events?q=098123%2045678", "", 200,
			[]string{`"call_id":"` + call.ID, `"call_status":"completed"`, `"call_reason":"call completed"`}, []string{`"object_id":"1"`}},
		{"search by name", "GET", "/events?q=asha", "", 200, []string{`"object_id":"5"`}, []string{`"object_id":"2"`}},
		{"search by contact id", "GET", "/events?q=2", "", 200, []string{`"object_id":"2"`}, []string{`"object_id":"1"`, `"object_id":"5"`}},
		{"since and until", "GET", "/events?since=2026-12-01T11:00:00Z&until=2026-12-01T12:00:00Z", "", 200,
			[]string{`"object_id":"2"`}, []string{`"object_id":"1"`, `"object_id":"3"`}},
		{"agent alias", "GET", "/events?agent=support", "", 200, []string{`"object_id":"3"`}, []string{`"object_id":"1"`}},
		{"bad since", "GET", "/events?since=monday", "", 400, []string{`invalid since \"monday\"`}, nil},
		{"until before since", "GET", "/events?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", "", 400, []string{"before since"}, nil},
		{"event shows its call", "GET", "/events?status=called", "", 200, []string{`"status":"called"`, `"call_status":"completed"`}, nil},
		{"bulk without filter", "POST", "/events/replay", `{}`, 400, []string{"give at least one of status"}, nil},
		{"bulk unknown field", "POST", "/events/replay", `{"stauts":"failed"}`, 400, []string{"body:", "stauts"}, nil},
		{"bulk bad status", "POST", "/events/replay", `{"status":"done"}`, 400, []string{"invalid status"}, nil},
		{"bulk dry run", "POST", "/events/replay", `{"status":"failed","agent_id":"sales","dry_run":true}`, 200, []string{`"replayed":2`, `"skipped":0`}, nil},
		{"bulk by agent counts the called event as skipped", "POST", "/events/replay", `{"agent_id":"sales","since":"2026-12-01T00:00:00Z","dry_run":true}`, 200,
			[]string{`"replayed":2`, `"skipped":1`}, nil},
		{"bulk replay", "POST", "/events/replay", `{"status":"failed","agent_id":"sales"}`, 200, []string{`"replayed":2`}, []string{"truncated"}},
		{"replayed are pending", "GET", "/events?status=pending&agent_id=sales", "", 200, []string{`"object_id":"1"`, `"object_id":"2"`, `"history":["`}, nil},
		{"other agent untouched", "GET", "/events?status=failed", "", 200, []string{`"object_id":"3"`}, []string{`"object_id":"1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("= %d %s, want %d", resp.StatusCode, body, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %s: %s", w, body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(body), n) {
					t.Errorf("body has %s: %s", n, body)
				}
			}
		})
	}
	if woken != 1 {
		t.Errorf("pipeline woken %d times, want once for the bulk replay (dry runs wake nothing)", woken)
	}
}
