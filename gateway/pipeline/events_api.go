package pipeline

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// EventStore is the inbox as the events API reads it (*store.Inbox).
type EventStore interface {
	GetEvent(id string) (store.Event, error)
	ListEvents(f store.EventFilter) ([]store.Event, string, error)
	ReplayEvent(id string, now time.Time) (store.Event, error)
}

// EventStatuses are the statuses an event can have, for filters.
var EventStatuses = []string{store.EventPending, store.EventCalled, store.EventIgnored, store.EventSkipped, store.EventBlocked, store.EventFailed}

// EventsAPI serves GET /api/v1/events, GET /api/v1/events/{id} and
// POST /api/v1/events/{id}/replay.
type EventsAPI struct {
	Store EventStore
	Now   func() time.Time
	// Replayed is called after a replay (wakes the pipeline); may be nil.
	Replayed func()
}

// EventList is the body of GET /api/v1/events.
type EventList struct {
	Events     []store.Event `json:"events"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// Mount registers the routes with handleAdmin (server.Server.HandleAdmin,
// paths relative to /api/v1).
func (a *EventsAPI) Mount(handleAdmin func(method, path string, h http.Handler)) {
	handleAdmin(http.MethodGet, "/events", http.HandlerFunc(a.List))
	handleAdmin(http.MethodGet, "/events/{id}", http.HandlerFunc(a.Get))
	handleAdmin(http.MethodPost, "/events/{id}/replay", http.HandlerFunc(a.Replay))
}

// List is GET /api/v1/events?status=&agent_id=&type=&limit=&cursor=.
func (a *EventsAPI) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.EventFilter{Status: q.Get("status"), AgentID: q.Get("agent_id"), Type: q.Get("type"), Cursor: q.Get("cursor")}
	if f.AgentID == "" {
		f.AgentID = q.Get("agent")
	}
	if f.Status != "" && !slices.Contains(EventStatuses, f.Status) {
		reply.Errorf(w, http.StatusBadRequest, "invalid status %q: use one of %v", f.Status, EventStatuses)
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			reply.Errorf(w, http.StatusBadRequest, "invalid limit %q: use a number from 1 to 1000", s)
			return
		}
		f.Limit = n
	}
	evs, next, err := a.Store.ListEvents(f)
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read events: %v", err)
		return
	}
	if evs == nil {
		evs = []store.Event{}
	}
	reply.JSON(w, http.StatusOK, EventList{Events: evs, NextCursor: next})
}

// Get is GET /api/v1/events/{id}: the event, its status, reason and call id.
func (a *EventsAPI) Get(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	ev, err := a.Store.GetEvent(id)
	if errors.Is(err, store.ErrNotFound) {
		reply.Errorf(w, http.StatusNotFound, "no event %q", id)
		return
	}
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read event %s: %v", id, err)
		return
	}
	reply.JSON(w, http.StatusOK, ev)
}

// Replay is POST /api/v1/events/{id}/replay: a failed, skipped, ignored or
// blocked event goes back to pending (409 for others).
func (a *EventsAPI) Replay(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	ev, err := a.Store.ReplayEvent(id, now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		reply.Errorf(w, http.StatusNotFound, "no event %q", id)
		return
	case errors.Is(err, store.ErrNotReplayable):
		reply.Error(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		reply.Errorf(w, http.StatusServiceUnavailable, "could not replay event %s: %v", id, err)
		return
	}
	if a.Replayed != nil {
		a.Replayed()
	}
	reply.JSON(w, http.StatusOK, ev)
}
