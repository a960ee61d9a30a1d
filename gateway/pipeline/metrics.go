package pipeline

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	finished     *prometheus.CounterVec
	latency      prometheus.Histogram
	fetchLatency *prometheus.HistogramVec
	fetchErrors  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "callgate", Name: "events_finished_total",
			Help: "Inbox events that reached a terminal status (called, ignored, skipped, blocked, failed), by plugin type."}, []string{"type", "status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "callgate", Name: "pipeline_latency_seconds",
			Help:    "Time from an event's commit to its terminal status.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 15, 60, 300, 3600}}),
		fetchLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "callgate", Name: "crm_fetch_seconds",
			Help: "Duration of one FetchRecords call, by plugin type.", Buckets: prometheus.DefBuckets}, []string{"type"}),
		fetchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "callgate", Name: "crm_fetch_errors_total",
			Help: "Failed FetchRecords calls, by plugin type and error class."}, []string{"type", "class"}),
	}
	for _, c := range []prometheus.Collector{m.finished, m.latency, m.fetchLatency, m.fetchErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
