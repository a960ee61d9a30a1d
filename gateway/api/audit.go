package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// Auditor computes the figures of a period (store.Store).
type Auditor interface {
	Audit(ctx context.Context, f store.AuditFilter) (store.Audit, error)
}

// Reconciliations are the last passes of reconciliation
// (*reconcile.Reconciler).
type Reconciliations interface {
	Last() []reconcile.Status
}

// DefaultAuditPeriod is the audit's period when since is not given.
const DefaultAuditPeriod = 24 * time.Hour

// ReconcileState is one integration's reconciliation.
type ReconcileState struct {
	Integration string     `json:"integration"`
	Enabled     bool       `json:"enabled"` // it has a reconcile block
	Every       string     `json:"every,omitempty"`
	LastPass    *time.Time `json:"last_pass,omitempty"`
	Listed      int        `json:"last_listed"`
	Recovered   int        `json:"last_recovered"`
	Error       string     `json:"error,omitempty"`
}

// AuditQuery is a parsed audit request.
type AuditQuery struct {
	Since, Until time.Time
	AgentID      string
}

// ParseAuditQuery reads since, until (RFC 3339 times, or durations back
// from now such as 24h) and agent_id. Until defaults to now, since to
// DefaultAuditPeriod before until.
func ParseAuditQuery(v url.Values, now time.Time) (AuditQuery, error) {
	var q AuditQuery
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := strings.TrimSpace(v.Get(f.name))
		if s == "" {
			continue
		}
		t, err := parseWhen(s, now)
		if err != nil {
			return q, fieldError(f.name, "%s is not an RFC 3339 time (2026-11-27T09:00:00Z) or a duration back from now (24h)", reply.Quote(s))
		}
		*f.dst = t
	}
	if q.Until.IsZero() {
		q.Until = now.UTC()
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-DefaultAuditPeriod)
	}
	if !q.Until.After(q.Since) {
		return q, fieldError("until", "must be after since")
	}
	q.AgentID = strings.TrimSpace(v.Get("agent_id"))
	return q, nil
}

func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, errors.New("not a time")
	}
	return now.Add(-d).UTC(), nil
}

// Audit accounts for q's period.
func (a *API) Audit(ctx context.Context, q AuditQuery) (AuditReport, error) {
	if a.opts.Auditor == nil {
		return AuditReport{}, errors.New("the audit is not wired")
	}
	cfg := a.opts.Config()
	f := store.AuditFilter{Since: q.Since, Until: q.Until, AgentID: q.AgentID}
	if q.AgentID != "" {
		ag, ok := cfg.Agents[q.AgentID]
		if !ok {
			return AuditReport{}, fieldError("agent_id", "%s is not an agent (agents: %s)", reply.Quote(q.AgentID), strings.Join(sortedNames(cfg.Agents), ", "))
		}
		f.Integrations = []string{}
		for _, in := range cfg.IntegrationsOf(ag) {
			f.Integrations = append(f.Integrations, in.Name)
		}
	}
	au, err := a.opts.Auditor.Audit(ctx, f)
	if err != nil {
		return AuditReport{}, err
	}
	rep := AuditReport{Audit: NewAudit(au), Reconciliation: []ReconcileState{}}
	last := map[string]reconcile.Status{}
	if a.opts.Reconciliations != nil {
		for _, s := range a.opts.Reconciliations.Last() {
			last[s.Integration] = s
		}
	}
	for _, name := range sortedNames(cfg.Integrations) {
		if f.Integrations != nil && !slices.Contains(f.Integrations, name) {
			continue
		}
		st := ReconcileState{Integration: name}
		if rc := cfg.Integrations[name].Reconcile; rc != nil {
			st.Enabled, st.Every = true, rc.Every.String()
		}
		if s, ok := last[name]; ok {
			at := s.At
			st.LastPass, st.Listed, st.Recovered, st.Error = &at, s.Listed, s.Recovered, s.Error
		}
		rep.Reconciliation = append(rep.Reconciliation, st)
	}
	return rep, nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (a *API) showAudit(w http.ResponseWriter, r *http.Request) {
	q, err := ParseAuditQuery(r.URL.Query(), a.opts.Now())
	if err == nil {
		var rep AuditReport
		if rep, err = a.Audit(r.Context(), q); err == nil {
			reply.JSON(w, http.StatusOK, rep)
			return
		}
	}
	var bad *badRequest
	if errors.As(err, &bad) {
		reply.Errorf(w, http.StatusBadRequest, "%s", bad.Error())
		return
	}
	reply.Errorf(w, http.StatusInternalServerError, "%s", fmt.Sprintf("audit: %v", err))
}

// IsBadRequest reports whether err is a request's fault (a bad parameter),
// not the gateway's.
func IsBadRequest(err error) bool {
	var bad *badRequest
	return errors.As(err, &bad)
}
