package reconcile

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	listed, recovered, passes, errors *prometheus.CounterVec
	unaccounted                       *prometheus.GaugeVec
}

// The label is the integration's name: one per integration block.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "callgate", Subsystem: "reconcile", Name: name, Help: help}, []string{"integration"})
	}
	m := &metrics{
		listed:    counter("records_listed_total", "Records the CRM listed to reconciliation passes, by integration."),
		recovered: counter("events_recovered_total", "Events reconciliation appended for records no webhook brought (one per agent), by integration."),
		passes:    counter("passes_total", "Reconciliation passes run, by integration."),
		errors:    counter("errors_total", "Reconciliation passes that stopped on an error (the next pass goes on from the checkpoint), by integration."),
	}
	m.unaccounted = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "callgate", Name: "leads_unaccounted",
		Help: "Records created in the CRM within the reconcile lookback (up to the last pass) that have no event at all, by integration: 0 when every lead was accounted for."}, []string{"integration"})
	for _, c := range []prometheus.Collector{m.listed, m.recovered, m.passes, m.errors, m.unaccounted} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
