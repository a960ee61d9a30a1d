package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// Page sizes for call listings.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// CallStatuses lists every call status in lifecycle order (docs/scheduling.md, "Statuses and reasons").
var CallStatuses = []string{
	store.CallScheduled, store.CallDialing, store.CallRetryScheduled, store.CallCompleted,
	store.CallFailed, store.CallSkipped, store.CallBlocked, store.CallDropped, store.CallCanceled,
}

// ParseCallQuery reads the call filters from query parameters (agent_id,
// status, phone, since, until, q, limit, cursor). Phone numbers, in phone
// and in q, are normalised to E.164 with region; an error names the bad
// parameter. q searches (store.Search): contact id, number, email or name.
func ParseCallQuery(v url.Values, region string) (store.CallFilter, error) {
	q := store.CallFilter{
		AgentID: strings.TrimSpace(v.Get("agent_id")),
		Status:  strings.TrimSpace(v.Get("status")),
		Cursor:  v.Get("cursor"),
		Search:  store.NewSearch(v.Get("q"), func(s string) (string, error) { return NormalizeNumber(s, region) }),
	}
	if len(q.Search.Text) > 200 {
		return q, fieldError("q", "is %d characters long; search for a contact id, number, email or name", len(q.Search.Text))
	}
	if q.Status != "" && !validStatus(q.Status) {
		return q, fieldError("status", "%s is not a call status; use one of %s", reply.Quote(q.Status), strings.Join(CallStatuses, ", "))
	}
	if p := strings.TrimSpace(v.Get("phone")); p != "" {
		n, err := NormalizeNumber(p, region)
		if err != nil {
			return q, fieldError("phone", "%v", err)
		}
		q.Phone = n
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := strings.TrimSpace(v.Get(f.name))
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fieldError(f.name, "%s is not an RFC 3339 time (e.g. 2026-11-27T09:00:00Z)", reply.Quote(s))
		}
		*f.dst = t.UTC()
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, fieldError("until", "is before since")
	}
	n, err := parseLimit(v)
	if err != nil {
		return q, err
	}
	q.Limit = n
	return q, nil
}

// parseLimit reads the limit parameter of a listing: DefaultLimit when
// absent, else 1 to MaxLimit.
func parseLimit(v url.Values) (int, error) {
	s := strings.TrimSpace(v.Get("limit"))
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, fieldError("limit", "%s must be a whole number from 1 to %d", reply.Quote(s), MaxLimit)
	}
	return n, nil
}

func validStatus(s string) bool {
	for _, st := range CallStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// NormalizeNumber parses a phone number written by a person or a CRM and
// returns it in E.164. Numbers without +country are read in region. It is
// callee.Normalize, the gateway's one reading of a number.
func NormalizeNumber(s, region string) (string, error) { return callee.Normalize(s, region) }

// region is the server's default region, which the config loader always sets.
func (a *API) region() string { return a.opts.Config().Server.DefaultRegion }

func (a *API) listCalls(w http.ResponseWriter, r *http.Request) {
	q, err := ParseCallQuery(r.URL.Query(), a.region())
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	calls, next, err := a.opts.Calls.ListCalls(r.Context(), q)
	if err != nil {
		a.storeError(w, "list calls", err)
		return
	}
	if calls == nil {
		calls = []store.Call{}
	}
	for i := range calls {
		calls[i] = CallRecord(calls[i])
	}
	reply.JSON(w, http.StatusOK, CallList{Calls: NewCalls(calls), NextCursor: next})
}

func (a *API) showCall(w http.ResponseWriter, r *http.Request) {
	id := pathVar(r, "id")
	c, err := a.opts.Calls.GetCall(r.Context(), id)
	if err != nil {
		a.storeError(w, "call "+id, err)
		return
	}
	reply.JSON(w, http.StatusOK, NewCall(CallRecord(c)))
}

// CallRecord is c as the API shows it (docs/architecture.md, "The call record"): variables an object and
// attempts a list even when empty, policy gaps and on lists, never null.
func CallRecord(c store.Call) store.Call {
	if c.Variables == nil {
		c.Variables = map[string]string{}
	}
	if c.Attempts == nil {
		c.Attempts = []store.Attempt{}
	}
	if c.Policy.Retry.Gaps == nil {
		c.Policy.Retry.Gaps = []store.Duration{}
	}
	if c.Policy.Retry.On == nil {
		c.Policy.Retry.On = []string{}
	}
	return c
}

// CancelReason is recorded on calls canceled by an operator.
const CancelReason = "canceled by an operator"

func (a *API) cancelCall(w http.ResponseWriter, r *http.Request) {
	c, err := a.CancelCall(r.Context(), pathVar(r, "id"))
	if err != nil {
		a.WriteError(w, err)
		return
	}
	reply.JSON(w, http.StatusOK, NewCall(CallRecord(c)))
}

// ErrNotPending is returned by CancelCall for a call already final.
var ErrNotPending = errors.New("only pending calls can be canceled")

// CancelCall cancels a pending call on an operator's behalf; the
// dashboard shares it with the API.
func (a *API) CancelCall(ctx context.Context, id string) (store.Call, error) {
	c, err := a.opts.Calls.GetCall(ctx, id)
	if err != nil {
		return c, err // the store's error names the call
	}
	if store.Final(c.Status) {
		return c, fmt.Errorf("call %s is already %s: %w", id, c.Status, ErrNotPending)
	}
	c, err = a.opts.Canceler.Cancel(ctx, id, CancelReason)
	if errors.Is(err, scheduler.ErrFinal) {
		return c, fmt.Errorf("call %s ended meanwhile: %w", id, ErrNotPending)
	}
	if err != nil {
		return c, fmt.Errorf("cancel call %s: %w", id, err)
	}
	a.opts.Logger.Info("call canceled by operator", "call", id, "agent", c.AgentID)
	return c, nil
}

// WriteError answers err as the envelope with the status it deserves:
// 400 for bad input, 404 for a missing item, 409 for a call no longer
// pending, 500 otherwise.
func (a *API) WriteError(w http.ResponseWriter, err error) {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		reply.Error(w, http.StatusBadRequest, br.Error())
	case errors.Is(err, store.ErrNotFound):
		reply.Error(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrBadCursor):
		reply.Errorf(w, http.StatusBadRequest, "cursor: %v", err)
	case errors.Is(err, ErrNotPending):
		reply.Error(w, http.StatusConflict, err.Error())
	default:
		a.opts.Logger.Error("admin api failed", "error", err)
		reply.Errorf(w, http.StatusInternalServerError, "%v (see the server log)", err)
	}
}

// storeError answers a failed store or scheduler call: 404 for a missing
// item, 500 otherwise (logged; the message keeps internals out).
func (a *API) storeError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		reply.Errorf(w, http.StatusNotFound, "%s not found", what)
		return
	}
	var br *badRequest
	if errors.As(err, &br) {
		reply.Error(w, http.StatusBadRequest, br.Error())
		return
	}
	if errors.Is(err, store.ErrBadCursor) {
		reply.Errorf(w, http.StatusBadRequest, "cursor: %v", err)
		return
	}
	a.opts.Logger.Error("admin api: store failed", "op", what, "error", err)
	reply.Errorf(w, http.StatusInternalServerError, "%s: the store failed (%v); see the server log", what, err)
}
