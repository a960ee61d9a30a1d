package scheduler

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	dials    *prometheus.CounterVec   // dialer, result
	outcomes *prometheus.CounterVec   // dialer, outcome
	finals   *prometheus.CounterVec   // status
	lag      *prometheus.HistogramVec // dialer
	inFlight *prometheus.GaugeVec     // dialer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		dials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_scheduler_dials_total",
			Help: "Dial requests sent to voice platforms, by result (placed, transport_error, rejected, error).",
		}, []string{"dialer", "result"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_scheduler_outcomes_total",
			Help: "Attempt outcomes recorded, by outcome.",
		}, []string{"dialer", "outcome"}),
		finals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_scheduler_calls_final_total",
			Help: "Calls that reached a final status, by status.",
		}, []string{"status"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callgate_scheduler_dispatch_lag_seconds",
			Help:    "Time from an attempt's due time to its dial.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"dialer"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "callgate_scheduler_in_flight",
			Help: "Attempts in dialing (placed or being placed), by dialer.",
		}, []string{"dialer"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.dials, m.outcomes, m.finals, m.lag, m.inFlight} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
