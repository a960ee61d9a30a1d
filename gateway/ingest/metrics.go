package ingest

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received, accepted, duplicate, ignored, rejected *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, inbox Inbox) (*metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "callgate", Name: name, Help: help}, []string{"type"})
	}
	m := &metrics{
		received:  counter("events_received_total", "CRM events parsed from webhooks, by plugin type."),
		accepted:  counter("events_accepted_total", "CRM events committed to the inbox as pending, by plugin type."),
		duplicate: counter("events_duplicate_total", "CRM events dropped as redeliveries of a remembered event, by plugin type."),
		ignored:   counter("events_ignored_total", "CRM events stored ignored at ingest (deleted records, no record), by plugin type."),
		rejected:  counter("webhooks_rejected_total", "Webhook requests answered with an error, by plugin type."),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "callgate", Name: "inbox_pending_events",
		Help: "Events in the inbox waiting for the pipeline."}, func() float64 {
		n, _ := inbox.PendingEvents(context.Background()) // a failed read shows as 0 until the next scrape
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.received, m.accepted, m.duplicate, m.ignored, m.rejected, depth} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
