package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	deliveries *prometheus.CounterVec
}

// newMetrics builds the notifier's metrics and registers them on reg (if
// any): deliveries by kind and result, and the outbox depth.
func newMetrics(reg prometheus.Registerer, db Store) (*metrics, error) {
	m := &metrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "callgate_notify_deliveries_total",
		Help: "Notification delivery tries by kind (webhook, writeback) and result (delivered, retry, dead).",
	}, []string{"kind", "result"})}
	if reg == nil {
		return m, nil
	}
	depth := func(dead bool) func() float64 {
		return func() float64 {
			p, d, err := db.OutboxDepth(context.Background())
			if err != nil {
				return -1
			}
			if dead {
				return float64(d)
			}
			return float64(p)
		}
	}
	cs := []prometheus.Collector{
		m.deliveries,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "callgate_outbox_pending",
			Help: "Notifications waiting to be delivered."}, depth(false)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "callgate_outbox_dead",
			Help: "Notifications that exhausted their tries, kept as dead letters."}, depth(true)),
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			// A second Notifier on one registry (tests, reloads) shares the
			// counters already there.
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return nil, fmt.Errorf("notify: register metrics: %w", err)
			}
			if i == 0 {
				m.deliveries = dup.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	}
	return m, nil
}
