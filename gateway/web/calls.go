package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

type callFilter struct {
	Agent, Status, Phone, From, To, Q string
}

type callsData struct {
	Calls    []store.Call
	Filter   callFilter
	Agents   []string
	Statuses []string
	Next     string // URL of the next page, "" on the last
	First    string // URL of the first page, "" on it
}

// callsQuery turns the page's filter form into a store query. The date
// range is read in the server's default timezone, end day inclusive.
func (d *Dashboard) callsQuery(v url.Values) (callFilter, store.CallFilter, error) {
	f := callFilter{
		Agent: strings.TrimSpace(v.Get("agent_id")), Status: strings.TrimSpace(v.Get("status")),
		Phone: strings.TrimSpace(v.Get("phone")), From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
		Q: strings.TrimSpace(v.Get("q")),
	}
	cfg := d.opts.Config()
	aq := url.Values{"agent_id": {f.Agent}, "status": {f.Status}, "phone": {f.Phone}, "q": {f.Q}, "cursor": {v.Get("cursor")}}
	aq.Set("limit", fmt.Sprint(d.opts.PageSize))
	if err := d.dateRange(aq, f.From, f.To); err != nil {
		return f, store.CallFilter{}, err
	}
	q, err := api.ParseCallQuery(aq, cfg.Server.DefaultRegion)
	return f, q, err
}

func (d *Dashboard) callsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	data := callsData{Statuses: api.CallStatuses}
	for _, ag := range d.opts.API.Agents() {
		data.Agents = append(data.Agents, ag.ID)
	}
	f, q, err := d.callsQuery(r.URL.Query())
	data.Filter = f
	if err != nil {
		d.render(w, r, sess, "calls", http.StatusBadRequest, page{Title: "Calls", Error: err.Error(), Data: data})
		return
	}
	calls, next, err := d.opts.Calls.ListCalls(r.Context(), q)
	if err != nil {
		d.render(w, r, sess, "calls", http.StatusInternalServerError, page{Title: "Calls", Error: "could not read calls: " + err.Error(), Data: data})
		return
	}
	data.Calls = calls
	keep := url.Values{}
	for k, v := range map[string]string{"agent_id": f.Agent, "status": f.Status, "phone": f.Phone, "from": f.From, "to": f.To, "q": f.Q} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	data.First, data.Next = pager("calls", keep, q.Cursor, next)
	p := page{Title: "Calls", Data: data, Refresh: d.dialingRefresh(r.Context())}
	if len(calls) == 0 && len(keep) == 0 && q.Cursor == "" {
		p.Start = d.start()
	}
	d.render(w, r, sess, "calls", http.StatusOK, p)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

type callData struct {
	Call   store.Call
	Event  *store.Event
	Fields []string
}

func (d *Dashboard) callPage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := mux.Vars(r)["id"]
	c, err := d.opts.Calls.GetCall(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, sess, http.StatusNotFound, fmt.Errorf("call %s not found", id))
		return
	}
	if err != nil {
		d.fail(w, r, sess, http.StatusInternalServerError, fmt.Errorf("call %s: %w", id, err))
		return
	}
	data := callData{Call: c, Fields: sortedKeys(c.Fields)}
	if c.Source.EventID != "" {
		if ev, err := d.opts.Events.GetEvent(r.Context(), c.Source.EventID); err == nil {
			data.Event = &ev
		}
	}
	d.render(w, r, sess, "call", http.StatusOK, page{Title: "Call " + id, Nav: "calls", Data: data})
}

func (d *Dashboard) cancelCall(w http.ResponseWriter, r *http.Request, sess *session) {
	id := mux.Vars(r)["id"]
	to := Prefix + "calls/" + url.PathEscape(id)
	_, err := d.opts.API.CancelCall(r.Context(), id)
	d.back(w, r, sess, to, "Call canceled.", err)
}

// pager links a list page's "Newest" (when this is not the first page)
// and "Older" (when the store gave a next cursor), keeping the filter.
func pager(page string, keep url.Values, cursor, next string) (first, older string) {
	if cursor != "" {
		first = Prefix + page + "?" + keep.Encode()
	}
	if next != "" {
		nv := cloneValues(keep)
		nv.Set("cursor", next)
		older = Prefix + page + "?" + nv.Encode()
	}
	return first, older
}
