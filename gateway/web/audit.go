package web

import (
	"net/http"
	"slices"

	"github.com/callgate/callgate/gateway/api"
)

// auditPeriods are the periods the audit page offers.
var auditPeriods = []struct{ Value, Label string }{
	{"24h", "last 24 hours"}, {"72h", "last 3 days"}, {"168h", "last 7 days"}, {"720h", "last 30 days"},
}

type auditData struct {
	Report  api.AuditReport
	Since   string // the period's since parameter as asked
	Agent   string
	Agents  []string
	Periods []struct{ Value, Label string }
	// Reconciled says whether any integration is reconciled, so the CRM
	// figures are known.
	Reconciled bool
}

// auditPage shows GET /api/v1/audit for a period and an agent.
func (d *Dashboard) auditPage(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	if q.Get("since") == "" {
		q.Set("since", "24h")
	}
	data := auditData{Since: q.Get("since"), Agent: q.Get("agent_id"), Periods: auditPeriods}
	for name := range d.opts.Config().Agents {
		data.Agents = append(data.Agents, name)
	}
	slices.Sort(data.Agents)
	p := page{Title: "Audit", Nav: "audit"}
	status := http.StatusOK
	aq, err := api.ParseAuditQuery(q, d.opts.Now())
	if err == nil {
		data.Report, err = d.opts.API.Audit(r.Context(), aq)
	}
	if err != nil {
		status = http.StatusInternalServerError
		if api.IsBadRequest(err) {
			status = http.StatusBadRequest
		}
		p.Error = "could not compute the audit: " + err.Error()
	}
	data.Reconciled = slices.ContainsFunc(data.Report.Reconciliation, func(s api.ReconcileState) bool { return s.Enabled })
	p.Data = data
	d.render(w, r, sess, "audit", status, p)
}
