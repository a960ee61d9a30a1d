package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// Outbox is the notification outbox: webhooks and CRM write-backs waiting
// to leave, and the dead letters that gave up (store.Store implements it).
type Outbox interface {
	ListOutbox(ctx context.Context, f store.OutboxFilter) (items []store.OutboxItem, next string, err error)
	GetOutbox(ctx context.Context, id string) (store.OutboxItem, error)
	// RetryOutbox makes an item due at now with its tries reset; the
	// commit wakes the deliverer.
	RetryOutbox(ctx context.Context, id string, now time.Time) error
}

// OutboxEntry is an outbox item as the admin API shows it: never its body
// or headers (they hold the signature), and its URL without user info,
// query or fragment (a query may carry a token).
type OutboxEntry struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"` // webhook | writeback
	URL         string    `json:"url,omitempty"`
	Integration string    `json:"integration,omitempty"`
	CallID      string    `json:"call_id,omitempty"`
	AgentID     string    `json:"agent_id,omitempty"`
	Event       string    `json:"event,omitempty"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	LastError   string    `json:"last_error,omitempty"`
	Dead        bool      `json:"dead"`
}

// OutboxList is the body of GET /api/v1/outbox.
type OutboxList struct {
	Items      []OutboxEntry `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// NewOutboxEntry keeps the safe fields of it.
func NewOutboxEntry(it store.OutboxItem) OutboxEntry {
	return OutboxEntry{ID: it.ID, Kind: it.Kind, URL: safeURL(it.URL), Integration: it.Integration,
		CallID: it.CallID, AgentID: it.AgentID, Event: it.Event, Attempts: it.Attempts, NextAt: it.NextAt,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, LastError: it.LastError, Dead: it.Dead}
}

// safeURL drops user info, query and fragment: any of them may carry a
// secret, and this package may not use the server's query redactor
// (only main and cli import gateway/server). A URL that does not parse
// is not shown at all.
func safeURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL hidden)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// ParseOutboxQuery reads the outbox filters from query parameters (dead,
// kind, call_id, limit, cursor); an error names the bad parameter.
func ParseOutboxQuery(v url.Values) (store.OutboxFilter, error) {
	f := store.OutboxFilter{
		Kind:   strings.TrimSpace(v.Get("kind")),
		CallID: strings.TrimSpace(v.Get("call_id")),
		Cursor: v.Get("cursor"),
	}
	if f.Kind != "" && f.Kind != store.OutboxWebhook && f.Kind != store.OutboxWriteback {
		return f, fieldError("kind", "%s is not an outbox kind; use %s or %s", reply.Quote(f.Kind), store.OutboxWebhook, store.OutboxWriteback)
	}
	if s := strings.TrimSpace(v.Get("dead")); s != "" {
		dead, err := strconv.ParseBool(s)
		if err != nil {
			return f, fieldError("dead", "%s must be true (dead letters only) or false (pending only)", reply.Quote(s))
		}
		f.Dead = &dead
	}
	n, err := parseLimit(v)
	if err != nil {
		return f, err
	}
	f.Limit = n
	return f, nil
}

func (a *API) listOutbox(w http.ResponseWriter, r *http.Request) {
	f, err := ParseOutboxQuery(r.URL.Query())
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	items, next, err := a.opts.Outbox.ListOutbox(r.Context(), f)
	if err != nil {
		a.storeError(w, "list outbox", err)
		return
	}
	list := OutboxList{Items: make([]OutboxEntry, 0, len(items)), NextCursor: next}
	for _, it := range items {
		list.Items = append(list.Items, NewOutboxEntry(it))
	}
	reply.JSON(w, http.StatusOK, list)
}

// retryOutbox is POST /api/v1/outbox/{id}/retry: a dead letter is due
// again now, its tries reset (409 for an item still pending).
func (a *API) retryOutbox(w http.ResponseWriter, r *http.Request) {
	id := pathVar(r, "id")
	if id == "" {
		reply.Error(w, http.StatusBadRequest, "id: the path names no outbox item")
		return
	}
	what := fmt.Sprintf("outbox item %s", id)
	it, err := a.opts.Outbox.GetOutbox(r.Context(), id)
	if err != nil {
		a.storeError(w, what, err)
		return
	}
	if !it.Dead {
		reply.Errorf(w, http.StatusConflict, "%s is not a dead letter: it is pending, due at %s after %d tries",
			what, it.NextAt.UTC().Format(time.RFC3339), it.Attempts)
		return
	}
	now := a.opts.Now().UTC()
	if err := a.opts.Outbox.RetryOutbox(r.Context(), id, now); err != nil {
		a.storeError(w, what, err)
		return
	}
	// What RetryOutbox wrote; reading it back could race the deliverer.
	it.Dead, it.Attempts, it.NextAt, it.UpdatedAt = false, 0, now, now
	a.opts.Logger.Info("outbox: dead letter retried", "item", id, "kind", it.Kind, "call", it.CallID)
	reply.JSON(w, http.StatusOK, NewOutboxEntry(it))
}
