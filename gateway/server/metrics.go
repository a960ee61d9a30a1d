package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// series caches each (route, method, code)'s counter and histogram:
	// the set is small and fixed (routes are templates, methods and codes
	// folded), and a lookup here costs no label hashing or allocation.
	mu     sync.RWMutex
	series map[seriesKey]seriesPair
}

type seriesKey struct {
	route, method string
	code          int
}

type seriesPair struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callgate_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callgate_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		series: map[seriesKey]seriesPair{},
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe counts one request. route is a registered template (or
// not_found/method_not_allowed); method and code are folded into fixed
// sets, so no request can add series of its own.
func (m *httpMetrics) observe(route, method string, code int, d time.Duration) {
	if code < 100 || code > 599 {
		code = 0 // one "other" series, as codeLabel folds them
	}
	k := seriesKey{route, methodLabel(method), code}
	m.mu.RLock()
	p, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		p = seriesPair{m.requests.WithLabelValues(k.route, k.method, codeLabel(code)), m.latency.WithLabelValues(k.route, k.method)}
		m.mu.Lock()
		m.series[k] = p
		m.mu.Unlock()
	}
	p.requests.Inc()
	p.latency.Observe(d.Seconds())
}

// methodLabel is the method if it is one of RFC 9110's (and PATCH),
// else "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

// codeLabel is the status code, or "other" outside 100–599.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		Registry:          s.registry,
		ErrorLog:          s.log.StandardLogger(nil),
		EnableOpenMetrics: false,
	})
}
