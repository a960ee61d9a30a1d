package api_test

import (
	"context"
	"encoding/json"
	"fmt"
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

func TestEventsAPI(t *testing.T) {
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	inbox := db
	t.Cleanup(func() { db.Close() })
	skipped := event("sales", "created", "1")
	skipped.Status, skipped.Reason = store.EventIgnored, "contact 1 was deleted in the CRM: nothing to call"
	res, err := inbox.AppendEvents(context.Background(), []store.Event{event("sales", "created", "2"), skipped, event("support", "created", "3")}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pendingID, ignoredID := res.Events[0].ID, res.Events[1].ID

	woken := 0
	events := &api.EventsAPI{Store: inbox, Now: time.Now, Replayed: func() { woken++ }}
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
		method, path string
		code         int
		want         string
	}{
		{"GET", "/events", 200, `"key":"hubspot:62515:1:created:3:support"`},
		{"GET", "/events?status=ignored", 200, `"status":"ignored"`},
		{"GET", "/events?agent_id=support&limit=1", 200, `"agent_id":"support"`},
		{"GET", "/events?status=gone", 400, `invalid status \"gone\"`},
		{"GET", "/events?limit=0", 400, "invalid limit"},
		{"GET", "/events/" + pendingID, 200, `"status":"pending"`},
		{"GET", "/events/nope", 404, `no event \"nope\"`},
		{"POST", "/events/" + pendingID + "/replay", 409, "not replayable"},
		{"POST", "/events/nope/replay", 404, "no event"},
		{"POST", "/events/" + ignoredID + "/replay", 200, `"history":["`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.want) {
				t.Fatalf("= %d %s, want %d with %s", resp.StatusCode, body, tc.code, tc.want)
			}
		})
	}
	if woken != 1 {
		t.Fatalf("pipeline woken %d times, want once after the replay", woken)
	}
	resp, err := http.Get(base + "/events?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page api.EventList
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.NextCursor == "" {
		t.Fatalf("first page of 2: %d events, cursor %q", len(page.Events), page.NextCursor)
	}
}

// event is a HubSpot contact event for agent as ingest stores it.
func event(agent, kind, objectID string) store.Event {
	typ := map[string]string{"created": "contact.creation", "updated": "contact.propertyChange"}[kind]
	return store.Event{Key: fmt.Sprintf("hubspot:62515:1:%s:%s:%s", kind, objectID, agent), AgentID: agent, Type: "hubspot",
		Integration: "hubspot", EventType: typ, Kind: kind, ObjectType: "contact", ObjectID: objectID, Account: "62515",
		OccurredAt: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)}
}
