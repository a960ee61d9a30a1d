package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/store"
)

// EventStatuses are the inbox statuses the events page filters on.
var EventStatuses = []string{store.EventFailed, store.EventIgnored, store.EventSkipped,
	store.EventBlocked, store.EventPending, store.EventCalled}

// eventFilter is the events page's filter form as typed.
type eventFilter struct {
	Status, Agent, From, To, Q string
}

// eventRow is an event with its call's status and the zone its times
// are shown in.
type eventRow struct {
	store.EventView
	Zone string
}

type eventsData struct {
	Events   []eventRow
	Status   string
	Filter   eventFilter
	Statuses []string
	Agents   []string
	Next     string
	First    string
	// Bulk offers "replay every event this filter shows" when the status
	// filter is a replayable one; nil otherwise.
	Bulk *bulkReplay
	// Refused are the latest requests the webhook endpoints refused:
	// they never became events, so this is where a person sees them.
	Refused []refused.Refusal
}

// bulkReplay is the events page's bulk action: how many events it would
// replay, and the question the confirmation asks.
type bulkReplay struct {
	Count     int
	Truncated bool
	Question  string
	Label     string
	Filter    eventFilter
}

// refusalsShown is how many refusals the events page lists.
const refusalsShown = 20

// eventsQuery turns the events page's form into a store filter: dates
// are read in the server's default timezone, end day inclusive, as on the
// calls page.
func (d *Dashboard) eventsQuery(v url.Values) (eventFilter, store.EventFilter, error) {
	f := eventFilter{Status: strings.TrimSpace(v.Get("status")), Agent: strings.TrimSpace(v.Get("agent_id")),
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")), Q: strings.TrimSpace(v.Get("q"))}
	if f.Status != "" && !contains(EventStatuses, f.Status) {
		return f, store.EventFilter{}, fmt.Errorf("status: %q is not an event status; use one of %s", f.Status, strings.Join(EventStatuses, ", "))
	}
	q := url.Values{"status": {f.Status}, "agent_id": {f.Agent}, "q": {f.Q}, "cursor": {v.Get("cursor")}}
	if err := d.dateRange(q, f.From, f.To); err != nil {
		return f, store.EventFilter{}, err
	}
	cfg := d.opts.Config()
	sf, err := api.ParseEventQuery(q, cfg.Server.DefaultRegion)
	sf.Limit = d.opts.PageSize
	return f, sf, err
}

// dateRange sets since and until in q from the form's from and to days.
func (d *Dashboard) dateRange(q url.Values, from, to string) error {
	loc := d.serverZone()
	for _, x := range []struct {
		in, param, field string
		addDay           bool
	}{{from, "since", "from", false}, {to, "until", "to", true}} {
		if x.in == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", x.in, loc)
		if err != nil {
			return fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", x.field, x.in)
		}
		if x.addDay {
			day = day.AddDate(0, 0, 1)
		}
		q.Set(x.param, day.UTC().Format(time.RFC3339))
	}
	return nil
}

func (d *Dashboard) serverZone() *time.Location {
	cfg := d.opts.Config()
	loc, err := time.LoadLocation(cfg.Server.DefaultTimezone)
	if err != nil || cfg.Server.DefaultTimezone == "" {
		return time.UTC
	}
	return loc
}

// agentZone is the zone an agent's times are shown in when no call says:
// its configured IANA timezone, else the server's default.
func (d *Dashboard) agentZone(agent string) string {
	cfg := d.opts.Config()
	if ag := cfg.Agents[agent]; ag != nil {
		if _, err := time.LoadLocation(ag.Timezone); err == nil && ag.Timezone != "" && ag.Timezone != "callee" && ag.Timezone != "contact" {
			return ag.Timezone
		}
	}
	return cfg.Server.DefaultTimezone
}

// eventRows joins the events with their calls and picks each one's zone.
func (d *Dashboard) eventRows(ctx context.Context, evs []store.Event) ([]eventRow, error) {
	views, err := d.opts.Events.ViewEvents(ctx, evs)
	if err != nil {
		return nil, err
	}
	rows := make([]eventRow, len(views))
	for i, v := range views {
		rows[i] = eventRow{EventView: v, Zone: v.CallTimezone}
		if rows[i].Zone == "" {
			rows[i].Zone = d.agentZone(v.AgentID)
		}
	}
	return rows, nil
}

func (d *Dashboard) eventsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	data := eventsData{Statuses: EventStatuses, Refused: d.opts.API.RecentRefusals(refusalsShown).Refusals}
	for _, ag := range d.opts.API.Agents() {
		data.Agents = append(data.Agents, ag.ID)
	}
	f, q, err := d.eventsQuery(r.URL.Query())
	data.Filter, data.Status = f, f.Status
	if err != nil {
		d.render(w, r, sess, "events", http.StatusBadRequest, page{Title: "Events", Error: err.Error(), Data: data})
		return
	}
	evs, next, err := d.opts.Events.ListEvents(r.Context(), q)
	if err == nil {
		data.Events, err = d.eventRows(r.Context(), evs)
	}
	if err != nil {
		d.render(w, r, sess, "events", http.StatusInternalServerError, page{Title: "Events", Error: "could not read events: " + err.Error(), Data: data})
		return
	}
	keep := f.values()
	data.First, data.Next = pager("events", keep, q.Cursor, next)
	if store.Replayable(f.Status) {
		q.Cursor = ""
		res, err := d.opts.Events.ReplayEvents(r.Context(), q, d.opts.Now(), true)
		if err == nil && res.Replayed > 0 {
			data.Bulk = &bulkReplay{Count: res.Replayed, Truncated: res.Truncated, Filter: f}
			data.Bulk.Label, data.Bulk.Question = bulkWords(f, res)
		}
	}
	d.render(w, r, sess, "events", http.StatusOK, page{Title: "Events", Data: data})
}

// values is the filter as query parameters, empty ones left out.
func (f eventFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "agent_id": f.Agent, "from": f.From, "to": f.To, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// bulkWords names what a bulk replay would do: "Replay 37 failed events
// of sales-intro" and the confirmation's question.
func bulkWords(f eventFilter, res store.BulkReplay) (label, question string) {
	n := fmt.Sprint(res.Replayed)
	if res.Truncated {
		n = fmt.Sprintf("the first %d", res.Replayed)
	}
	noun := "events"
	if res.Replayed == 1 {
		noun = "event"
	}
	label = fmt.Sprintf("Replay %s %s %s", n, f.Status, noun)
	if f.Agent != "" {
		label += " of " + f.Agent
	}
	if f.Q != "" {
		label += fmt.Sprintf(" matching %q", f.Q)
	}
	if f.From != "" || f.To != "" {
		label += fmt.Sprintf(" received %s to %s", orAny(f.From), orAny(f.To))
	}
	return label, label + "?"
}

func orAny(s string) string {
	if s == "" {
		return "any day"
	}
	return s
}

// replayEvents replays every event the posted filter matches (the events
// page's bulk action) and says how many went back to pending.
func (d *Dashboard) replayEvents(w http.ResponseWriter, r *http.Request, sess *session) {
	v := url.Values{}
	for _, k := range []string{"status", "agent_id", "from", "to", "q"} {
		if s := strings.TrimSpace(r.PostFormValue(k)); s != "" {
			v.Set(k, s)
		}
	}
	to := Prefix + "events?" + v.Encode()
	f, q, err := d.eventsQuery(v)
	if err == nil && !store.Replayable(f.Status) {
		err = errors.New("status: choose failed, skipped, ignored or blocked to replay events in bulk")
	}
	if err != nil {
		d.back(w, r, sess, to, "", fmt.Errorf("events not replayed: %w", err))
		return
	}
	q.Cursor = ""
	res, err := d.opts.Events.ReplayEvents(r.Context(), q, d.opts.Now(), false)
	if err != nil {
		d.back(w, r, sess, to, "", fmt.Errorf("events not replayed: %w", err))
		return
	}
	msg := fmt.Sprintf("%d events queued again; they are pending until a worker takes them.", res.Replayed)
	if res.Replayed == 1 {
		msg = "1 event queued again; it is pending until a worker takes it."
	}
	if res.Skipped > 0 {
		msg += fmt.Sprintf(" %d could not be replayed (taken meanwhile, or erased).", res.Skipped)
	}
	if res.Truncated {
		msg += fmt.Sprintf(" More matched than one replay takes (%d): replay again for the rest.", store.MaxBulkReplay)
	}
	// The replayed events are pending now: show them there.
	v.Set("status", store.EventPending)
	d.back(w, r, sess, Prefix+"events?"+v.Encode(), msg, nil)
}

func (d *Dashboard) replayEvent(w http.ResponseWriter, r *http.Request, sess *session) {
	id := mux.Vars(r)["id"]
	to := Prefix + "events"
	if s := r.PostFormValue("status"); contains(EventStatuses, s) {
		to += "?status=" + url.QueryEscape(s)
	}
	if r.PostFormValue("back") == "event" {
		to = Prefix + "events/" + url.PathEscape(id)
	}
	_, err := d.opts.Events.ReplayEvent(r.Context(), id, d.opts.Now())
	if err != nil {
		err = fmt.Errorf("event %s not replayed: %w", id, err)
	}
	d.back(w, r, sess, to, "Event "+id+" queued again; it is pending until a worker takes it.", err)
}

type eventData struct {
	Row       eventRow
	Call      *store.Call
	Record    string // the inline record, pretty-printed; "" when none
	Overrides string // the request's policy parameters, pretty-printed
	Stored    string // the whole event as the inbox keeps it
}

// eventPage shows one event: what the webhook said, what the pipeline did
// (with earlier outcomes of replays), and the call it became.
func (d *Dashboard) eventPage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := mux.Vars(r)["id"]
	ev, err := d.opts.Events.GetEvent(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, sess, http.StatusNotFound, fmt.Errorf("event %s not found", id))
		return
	}
	var rows []eventRow
	if err == nil {
		rows, err = d.eventRows(r.Context(), []store.Event{ev})
	}
	if err != nil {
		d.fail(w, r, sess, http.StatusInternalServerError, fmt.Errorf("event %s: %w", id, err))
		return
	}
	data := eventData{Row: rows[0], Stored: prettyJSON(ev)}
	if len(ev.Record) > 0 {
		data.Record = prettyRaw(ev.Record)
	}
	if len(ev.Overrides) > 0 {
		data.Overrides = prettyRaw(ev.Overrides)
	}
	if ev.CallID != "" {
		if c, err := d.opts.Calls.GetCall(r.Context(), ev.CallID); err == nil {
			data.Call = &c
		}
	}
	d.render(w, r, sess, "event", http.StatusOK, page{Title: "Event " + id, Nav: "events", Data: data})
}
