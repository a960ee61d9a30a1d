package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// EventStore is the inbox as the events API reads it (store.Store).
type EventStore interface {
	GetEvent(ctx context.Context, id string) (store.Event, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, string, error)
	ViewEvents(ctx context.Context, evs []store.Event) ([]store.EventView, error)
	ReplayEvent(ctx context.Context, id string, now time.Time) (store.Event, error)
	ReplayEvents(ctx context.Context, f store.EventFilter, now time.Time, dryRun bool) (store.BulkReplay, error)
}

// EventStatuses are the statuses an event can have, for filters.
var EventStatuses = []string{store.EventPending, store.EventCalled, store.EventIgnored, store.EventSkipped, store.EventBlocked, store.EventFailed}

// EventsAPI serves GET /api/v1/events, GET /api/v1/events/{id},
// POST /api/v1/events/{id}/replay and POST /api/v1/events/replay.
type EventsAPI struct {
	Store EventStore
	Now   func() time.Time
	// Region is the server's default region, for reading a phone number
	// in q (default "": numbers must then carry +country).
	Region func() string
	// Replayed is called after a replay (wakes the pipeline); may be nil.
	Replayed func()
}

// Mount registers the routes with handleAdmin (server.Server.HandleAdmin,
// paths relative to /api/v1).
func (a *EventsAPI) Mount(handleAdmin func(method, path string, h http.Handler)) {
	handleAdmin(http.MethodGet, "/events", http.HandlerFunc(a.List))
	handleAdmin(http.MethodPost, "/events/replay", http.HandlerFunc(a.ReplayMany))
	handleAdmin(http.MethodGet, "/events/{id}", http.HandlerFunc(a.Get))
	handleAdmin(http.MethodPost, "/events/{id}/replay", http.HandlerFunc(a.Replay))
}

// ParseEventQuery reads the event filters from query parameters (status,
// agent_id or agent, type, since, until, q, limit, cursor); region reads a
// phone number in q. An error names the bad parameter.
func ParseEventQuery(q url.Values, region string) (store.EventFilter, error) {
	f := store.EventFilter{Status: strings.TrimSpace(q.Get("status")), AgentID: strings.TrimSpace(q.Get("agent_id")),
		Type: strings.TrimSpace(q.Get("type")), Cursor: q.Get("cursor")}
	if f.AgentID == "" {
		f.AgentID = strings.TrimSpace(q.Get("agent"))
	}
	if f.Status != "" && !slices.Contains(EventStatuses, f.Status) {
		return f, fmt.Errorf("invalid status %q: use one of %v", f.Status, EventStatuses)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		s := strings.TrimSpace(q.Get(p.name))
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, fmt.Errorf("invalid %s %q: give an RFC 3339 time such as 2026-12-01T00:00:00Z", p.name, s)
		}
		*p.dst = t.UTC()
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, errors.New("invalid until: it is before since")
	}
	f.Search = store.NewSearch(q.Get("q"), func(s string) (string, error) { return callee.Normalize(s, region) })
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Errorf("invalid limit %q: use a number from 1 to 1000", s)
		}
		f.Limit = n
	}
	return f, nil
}

func (a *EventsAPI) region() string {
	if a.Region == nil {
		return ""
	}
	return a.Region()
}

func (a *EventsAPI) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// List is GET /api/v1/events?status=&agent_id=&type=&since=&until=&q=&limit=&cursor=.
func (a *EventsAPI) List(w http.ResponseWriter, r *http.Request) {
	f, err := ParseEventQuery(r.URL.Query(), a.region())
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	evs, next, err := a.Store.ListEvents(r.Context(), f)
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read events: %v", err)
		return
	}
	views, err := a.Store.ViewEvents(r.Context(), evs)
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read events: %v", err)
		return
	}
	reply.JSON(w, http.StatusOK, EventList{Events: convertAll(views, NewEventView), NextCursor: next})
}

// Get is GET /api/v1/events/{id}: the event as stored (history, inline
// record, overrides), with its call's current status and reason.
func (a *EventsAPI) Get(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	ev, err := a.Store.GetEvent(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		reply.Errorf(w, http.StatusNotFound, "no event %q", id)
		return
	}
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read event %s: %v", id, err)
		return
	}
	views, err := a.Store.ViewEvents(r.Context(), []store.Event{ev})
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not read event %s: %v", id, err)
		return
	}
	reply.JSON(w, http.StatusOK, NewEventView(views[0]))
}

// Replay is POST /api/v1/events/{id}/replay: a failed, skipped, ignored or
// blocked event goes back to pending (409 for others).
func (a *EventsAPI) Replay(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	ev, err := a.Store.ReplayEvent(r.Context(), id, a.now())
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
	reply.JSON(w, http.StatusOK, NewEvent(ev))
}

// BulkReplayRequest is the body of POST /api/v1/events/replay: the
// filter of GET /api/v1/events (at least one of status, agent_id, since,
// until, q), and dry_run to count without replaying.
type BulkReplayRequest struct {
	Status  string `json:"status"`
	AgentID string `json:"agent_id"`
	Type    string `json:"type"`
	Since   string `json:"since"`
	Until   string `json:"until"`
	Q       string `json:"q"`
	DryRun  bool   `json:"dry_run"`
}

// Filter is the request's filter, checked as GET /api/v1/events checks
// its parameters.
func (b BulkReplayRequest) Filter(region string) (store.EventFilter, error) {
	v := url.Values{}
	for k, s := range map[string]string{"status": b.Status, "agent_id": b.AgentID, "type": b.Type, "since": b.Since, "until": b.Until, "q": b.Q} {
		if s = strings.TrimSpace(s); s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 || (len(v) == 1 && v.Has("type")) {
		return store.EventFilter{}, errors.New("give at least one of status, agent_id, since, until or q: replaying every event at once is refused")
	}
	return ParseEventQuery(v, region)
}

// ReplayMany is POST /api/v1/events/replay: every replayable event
// matching the filter goes back to pending (at most store.MaxBulkReplay
// per request), and the pipeline is woken once. The answer is
// {"replayed":N,"skipped":M} (skipped: matched but pending, called or
// erased), with "truncated":true when more matched than one request takes.
func (a *EventsAPI) ReplayMany(w http.ResponseWriter, r *http.Request) {
	var req BulkReplayRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		reply.Errorf(w, http.StatusBadRequest, "body: %v; send JSON such as {\"status\":\"failed\",\"agent_id\":\"sales-intro\"}", err)
		return
	}
	f, err := req.Filter(a.region())
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.Store.ReplayEvents(r.Context(), f, a.now(), req.DryRun)
	if err != nil {
		reply.Errorf(w, http.StatusServiceUnavailable, "could not replay events: %v", err)
		return
	}
	if res.Replayed > 0 && !req.DryRun && a.Replayed != nil {
		a.Replayed()
	}
	reply.JSON(w, http.StatusOK, NewBulkReplay(res))
}
