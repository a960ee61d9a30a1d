package pluginhost

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-plugin Prometheus metrics.
type metrics struct {
	restarts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	up       *prometheus.GaugeVec
	batch    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_plugin_restarts_total",
			Help: "Plugin process restarts after a crash or failed health check.",
		}, []string{"plugin"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callgate_plugin_rpc_duration_seconds",
			Help:    "Plugin call latency by method, as seen by the gateway.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"plugin", "method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_plugin_errors_total",
			Help: "Plugin call errors by method and class.",
		}, []string{"plugin", "method", "class"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callgate_plugin_webhook_batch_size",
			Help:    "Webhooks per HandleWebhooks call: how many concurrent webhooks shared one round trip.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}, []string{"plugin"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "callgate_plugin_up",
			Help: "1 when the plugin process is running and described, else 0.",
		}, []string{"plugin"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.restarts, err = register(reg, m.restarts)
	if err == nil {
		m.latency, err = register(reg, m.latency)
	}
	if err == nil {
		m.errors, err = register(reg, m.errors)
	}
	if err == nil {
		m.up, err = register(reg, m.up)
	}
	if err == nil {
		m.batch, err = register(reg, m.batch)
	}
	return m, err
}

// register registers c, or returns the collector already registered under
// its name (a Host rebuilt on config reload shares the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("pluginhost: register metrics: %w", err)
	}
	return c, nil
}
