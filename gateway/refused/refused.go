// Package refused keeps the requests the gateway refused at its public
// endpoints (a wrong key, an unknown agent, a bad signature, a body too
// large, backpressure), so an operator can see why a CRM's webhooks are
// not arriving: each refusal is logged once at WARN with its request id,
// counted by class, and the most recent ones are kept for the admin API,
// the dashboard and `callgate events refused`. No secrets and no bodies
// are kept: the reason is the gateway's own answer, and callers' values
// are clipped. The list is a bounded ring in memory, per process.
package refused

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/throttle"
)

// Refusal is one refused request.
type Refusal struct {
	At        time.Time `json:"at"`
	Route     string    `json:"route"` // the route template, e.g. /call/crm-webhook
	Agent     string    `json:"agent,omitempty"`
	Type      string    `json:"type,omitempty"`
	Status    int       `json:"status"`
	Class     string    `json:"class"`
	Reason    string    `json:"reason"`
	Remote    string    `json:"remote"`
	RequestID string    `json:"request_id,omitempty"`
}

// Classes a refusal is counted under, by its status code.
var classes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "signature",
	http.StatusForbidden:             "api_key",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "media_type",
	http.StatusTooManyRequests:       "throttled",
	http.StatusServiceUnavailable:    "unavailable",
}

// Class names a status code's refusal class: a fixed set, so the metric's
// labels stay bounded ("other" for the rest).
func Class(status int) string {
	if c, ok := classes[status]; ok {
		return c
	}
	return "other"
}

// Config configures New.
type Config struct {
	Size            int // refusals kept (default 200)
	Logger          hclog.Logger
	Registerer      prometheus.Registerer // nil: counted but not registered
	RequestIDHeader string                // the response header carrying the request id
	TrustedProxies  []netip.Prefix        // whose X-Forwarded-For names the client
	Now             func() time.Time
}

// Log records refusals; see the package doc. Its methods are safe for
// concurrent use.
type Log struct {
	cfg   Config
	count *prometheus.CounterVec

	mu   sync.Mutex
	ring []Refusal
	next int
	full bool
}

// New returns an empty Log.
func New(cfg Config) (*Log, error) {
	if cfg.Size <= 0 {
		cfg.Size = 200
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Log{cfg: cfg, ring: make([]Refusal, cfg.Size), count: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "callgate_http_refused_total",
		Help: "Requests refused at the public endpoints (webhooks, outbound, status callbacks), by route and class.",
	}, []string{"route", "class"})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(l.count); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Add records r: logged at WARN, counted, and kept among the recent ones.
func (l *Log) Add(r Refusal) {
	r.Agent, r.Type, r.Reason = reply.Clip(r.Agent), reply.Clip(r.Type), clipReason(maskNumbers(r.Reason))
	r.Class = Class(r.Status)
	l.count.WithLabelValues(r.Route, r.Class).Inc()
	l.cfg.Logger.Warn("request refused", "route", r.Route, "status", r.Status, "class", r.Class, "reason", r.Reason,
		"agent", r.Agent, "type", r.Type, "remote", r.Remote, "request_id", r.RequestID)
	l.mu.Lock()
	l.ring[l.next] = r
	l.next = (l.next + 1) % len(l.ring)
	l.full = l.full || l.next == 0
	l.mu.Unlock()
}

// Recent returns up to limit refusals (0: all kept), newest first.
func (l *Log) Recent(limit int) []Refusal {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]Refusal, 0, limit)
	for i := 1; i <= limit; i++ {
		out = append(out, l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}

// Middleware records every answer of 400 or more that next gives on
// route, with the message of its JSON envelope as the reason.
func (l *Log) Middleware(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &capture{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status < 400 {
			return
		}
		q := r.URL.Query()
		l.Add(Refusal{
			At: l.cfg.Now().UTC(), Route: route, Agent: q.Get("agent_id"), Type: q.Get("type"),
			Status: rec.status, Reason: reason(rec.body.Bytes(), rec.status),
			Remote: remote(r, l.cfg.TrustedProxies), RequestID: w.Header().Get(l.cfg.RequestIDHeader),
		})
	})
}

// maxKept bounds how much of an error answer is kept to read its message.
const maxKept = 2048

// capture notes the status and the start of an error answer's body.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status >= 400 && c.body.Len() < maxKept {
		c.body.Write(b[:min(len(b), maxKept-c.body.Len())])
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushes).
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// reason is the envelope's message, or the status text.
func reason(body []byte, status int) string {
	var env reply.Envelope
	if json.Unmarshal(body, &env) == nil && env.Message != "" {
		return env.Message
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// phoneLike is a run that may be a phone number: a digit, then at least
// six more digits or separators, ending in a digit.
var phoneLike = regexp.MustCompile(`\+?\d[\d \-().]{6,}\d`)

// maskNumbers keeps a reason's phone numbers out of the log and the list
// (some answers quote the number, as the hosted API's DND_NUMBER does):
// each keeps its first three and last two characters.
func maskNumbers(s string) string {
	return phoneLike.ReplaceAllStringFunc(s, func(n string) string {
		b := []byte(n)
		for i := 3; i < len(b)-2; i++ {
			if b[i] >= '0' && b[i] <= '9' {
				b[i] = '*'
			}
		}
		return string(b)
	})
}

// clipReason bounds a reason: the gateway's messages are short, but they
// may quote (clipped) values a caller sent.
func clipReason(s string) string {
	const max = 300
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

func remote(r *http.Request, trusted []netip.Prefix) string {
	if ip := throttle.ClientIP(r, trusted); ip.IsValid() {
		return ip.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
