// Package hubspottest is a fake HubSpot API for tests and demos: an
// httptest server on 127.0.0.1 that speaks the CRM v3 contacts and
// properties APIs (and the contacts search endpoint), the calls and tasks
// engagements callgate logs (created with associations, searched by
// property), and the private-app token-info endpoint, with HubSpot's JSON shapes, status codes, rate-limit
// headers and quirks (207 partial batches, 404 for contacts not yet
// visible, 403 MISSING_SCOPES, 429 with policyName), and records when it
// admitted each request so tests can count them per rate-limit interval.
// It also builds webhook bodies as HubSpot posts them: subscription
// batches and workflow "Send a webhook" bodies, and their signatures.
package hubspottest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the access token the server accepts when Options.Token is empty.
const DefaultToken = "pat-na1-00000000-0000-0000-0000-000000000000"

// Options configure a Server. The zero value is usable.
type Options struct {
	// Token is the bearer token accepted; default DefaultToken.
	Token string
	// ObjectsPath and PropertiesPath are where the contacts and properties
	// APIs are served; defaults /crm/v3/objects/contacts and
	// /crm/v3/properties/contacts.
	ObjectsPath    string
	PropertiesPath string
	// RateMax requests are allowed per RateInterval per token (HubSpot's
	// rolling window); defaults 190 per 10 s. DailyMax 0 means no daily limit.
	RateMax      int
	RateInterval time.Duration
	DailyMax     int
	// Latency delays every response.
	Latency time.Duration
	// Clock is the time source for the rate-limit windows; default time.Now.
	Clock func() time.Time
	// Listener, when set, is where the server listens instead of a new
	// one on 127.0.0.1:0 (`callgate fake hubspot --listen`).
	Listener net.Listener
	// SearchCap is how many results one search query pages through
	// before `after` is refused with 400 (HubSpot: 10,000); tests set a
	// small one. SearchRatePerSec is the search API's own limit per
	// token (default DefaultSearchRatePerSec); over it, search answers 429.
	SearchCap        int
	SearchRatePerSec int
}

// Stats counts the requests the server answered, by operation.
type Stats struct {
	Total, Unauthorized, RateLimited   int
	GetContact, BatchRead, Patch, List int
	Create, Search                     int
	ListProperties, CreateProperty     int
	BatchReadIDs                       int // ids asked for across all batch reads
	MaxBatchInputs                     int // largest batch read seen
}

// Request is one request the server received, for assertions.
type Request struct {
	Method, Path, RawQuery string
	Body                   []byte
}

// Server is a running fake HubSpot.
type Server struct {
	// URL is the base URL to use as the integration's base_url.
	URL string

	srv  *httptest.Server
	opts Options

	mu           sync.Mutex
	contacts     map[string]*contact
	order        []string
	props        []property
	hidden       map[string]int // id → reads left that answer 404
	failures     []failure
	scopes       []string // when set, every CRM call answers 403 MISSING_SCOPES
	latency      time.Duration
	window       []time.Time
	searchWindow []time.Time
	admitted     []time.Time // every request the rate limit let through, in order
	daily        int
	stats        Stats
	requests     []Request
	nextContact  int64
	engagements  []*Activity // calls and tasks, in creation order
	owners       []string
	granted      []string // token-info scopes; nil: DefaultScopes
}

type failure struct {
	status int
	header map[string]string
	body   string
}

// New starts a fake HubSpot on 127.0.0.1; Close stops it.
func New(o Options) *Server {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.ObjectsPath == "" {
		o.ObjectsPath = "/crm/v3/objects/contacts"
	}
	if o.PropertiesPath == "" {
		o.PropertiesPath = "/crm/v3/properties/contacts"
	}
	if o.RateMax <= 0 {
		o.RateMax = 190
	}
	if o.RateInterval <= 0 {
		o.RateInterval = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.SearchCap <= 0 {
		o.SearchCap = DefaultSearchCap
	}
	if o.SearchRatePerSec <= 0 {
		o.SearchRatePerSec = DefaultSearchRatePerSec
	}
	s := &Server{
		opts:        o,
		contacts:    map[string]*contact{},
		props:       defaultProperties(),
		hidden:      map[string]int{},
		latency:     o.Latency,
		nextContact: 1000,
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if o.Listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = o.Listener
	}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Token returns the accepted access token.
func (s *Server) Token() string { return s.opts.Token }

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset clears the counters and the request log (not the data).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats, s.requests, s.admitted = Stats{}, nil, nil
}

// Admitted returns when each request the rate limit let through arrived,
// in order (since New or the last Reset): what tests count per interval.
func (s *Server) Admitted() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.admitted...)
}

// PerInterval counts the admitted requests in consecutive windows of the
// server's RateInterval, the first starting at the first request.
func (s *Server) PerInterval() []int {
	at := s.Admitted()
	if len(at) == 0 {
		return nil
	}
	var counts []int
	for _, t := range at {
		k := int(t.Sub(at[0]) / s.opts.RateInterval)
		for len(counts) <= k {
			counts = append(counts, 0)
		}
		counts[k]++
	}
	return counts
}

// MaxInWindow is the most admitted requests any rolling RateInterval held
// (what HubSpot's TEN_SECONDLY_ROLLING limit bounds).
func (s *Server) MaxInWindow() int {
	at := s.Admitted()
	best, j := 0, 0
	for i := range at {
		for !at[i].Before(at[j].Add(s.opts.RateInterval)) {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// FailNext makes the next n API requests answer status with HubSpot's error
// body for it (e.g. 500, 502, 503, 429).
func (s *Server) FailNext(n, status int) {
	for range n {
		s.FailNextWith(status, nil, "")
	}
}

// FailNextWith queues one reply: status, extra headers (an empty value
// removes a header, e.g. the X-HubSpot-RateLimit-* ones), and body
// (HubSpot's error body for status when empty).
func (s *Server) FailNextWith(status int, header map[string]string, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status: status, header: header, body: body})
}

// SetLatency delays every later response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetMissingScopes makes every CRM call answer 403 MISSING_SCOPES naming
// scopes; no scopes turns the mode off.
func (s *Server) SetMissingScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = scopes
}

// ExhaustDaily makes the daily limit spent: later calls answer 429 DAILY.
func (s *Server) ExhaustDaily() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.DailyMax = max(1, s.opts.DailyMax)
	s.daily = s.opts.DailyMax
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	s.mu.Lock()
	s.stats.Total++
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body})
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		s.count(func(st *Stats) { st.Unauthorized++ })
		writeError(w, http.StatusUnauthorized, apiError{
			Message:  "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
			Category: "INVALID_AUTHENTICATION",
		})
		return
	}
	if !s.admit(w) {
		return
	}
	if f, ok := s.nextFailure(); ok {
		for k, v := range f.header {
			if v == "" {
				w.Header().Del(k)
			} else {
				w.Header().Set(k, v)
			}
		}
		if f.body != "" {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.WriteHeader(f.status)
			_, _ = w.Write([]byte(f.body))
			return
		}
		writeError(w, f.status, defaultErrorFor(f.status))
		return
	}
	s.mu.Lock()
	scopes := s.scopes
	s.mu.Unlock()
	if len(scopes) > 0 {
		writeError(w, http.StatusForbidden, apiError{
			Message:  "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
			Category: "MISSING_SCOPES",
			Errors:   []errorEntry{{Message: "One or more of the following scopes are required.", Context: map[string][]string{"requiredGranularScopes": scopes}}},
			Links:    map[string]string{"scopes": "https://developers.hubspot.com/scopes"},
		})
		return
	}
	s.route(w, r, body)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	objects, props := s.opts.ObjectsPath, s.opts.PropertiesPath
	if s.routeActivity(w, r, strings.TrimSuffix(r.URL.Path, "/"), body) {
		return
	}
	switch p := strings.TrimSuffix(r.URL.Path, "/"); {
	case p == objects+"/batch/read" && r.Method == http.MethodPost:
		s.batchRead(w, body)
	case p == objects+"/search" && r.Method == http.MethodPost:
		s.search(w, body)
	case p == objects && r.Method == http.MethodGet:
		s.list(w, r)
	case p == objects && r.Method == http.MethodPost:
		s.createContact(w, body)
	case strings.HasPrefix(p, objects+"/") && !strings.Contains(p[len(objects)+1:], "/"):
		id := p[len(objects)+1:]
		switch r.Method {
		case http.MethodGet:
			s.getContact(w, r, id)
		case http.MethodPatch:
			s.patchContact(w, id, body)
		default:
			writeError(w, http.StatusMethodNotAllowed, apiError{Message: "HTTP 405 Method Not Allowed", Category: "VALIDATION_ERROR"})
		}
	case p == props && r.Method == http.MethodGet:
		s.listProperties(w)
	case p == props && r.Method == http.MethodPost:
		s.createProperty(w, body)
	default:
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html><body><h1>404 Not Found</h1></body></html>"))
	}
}

// admit applies the rolling ten-second window and the daily limit, and sets
// HubSpot's X-HubSpot-RateLimit-* headers.
func (s *Server) admit(w http.ResponseWriter) bool {
	now := s.opts.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := now.Add(-s.opts.RateInterval)
	i := 0
	for i < len(s.window) && !s.window[i].After(cut) {
		i++
	}
	s.window = s.window[i:]
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.opts.RateInterval.Milliseconds(), 10))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.opts.RateMax))
	h.Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(s.opts.RateMax/10))
	if s.opts.DailyMax > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.opts.DailyMax))
	}
	switch {
	case s.opts.DailyMax > 0 && s.daily >= s.opts.DailyMax:
		s.stats.RateLimited++
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, rateLimitError("DAILY", "You have reached your daily limit."))
		return false
	case len(s.window) >= s.opts.RateMax:
		s.stats.RateLimited++
		h.Set("X-HubSpot-RateLimit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, rateLimitError("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."))
		return false
	}
	s.window = append(s.window, now)
	s.admitted = append(s.admitted, now)
	s.daily++
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(s.opts.RateMax-len(s.window)))
	h.Set("X-HubSpot-RateLimit-Secondly-Remaining", strconv.Itoa(max(0, s.opts.RateMax/10-1)))
	if s.opts.DailyMax > 0 {
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(s.opts.DailyMax-s.daily))
	}
	return true
}

func (s *Server) nextFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return failure{}, false
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return f, true
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// apiError is HubSpot's error body.
type apiError struct {
	Status        string            `json:"status"`
	Message       string            `json:"message"`
	CorrelationID string            `json:"correlationId"`
	Context       map[string][]any  `json:"context,omitempty"`
	Errors        []errorEntry      `json:"errors,omitempty"`
	Links         map[string]string `json:"links,omitempty"`
	Category      string            `json:"category,omitempty"`
	ErrorType     string            `json:"errorType,omitempty"`
	PolicyName    string            `json:"policyName,omitempty"`
	RequestID     string            `json:"requestId,omitempty"`
}

type errorEntry struct {
	Status   string              `json:"status,omitempty"`
	Category string              `json:"category,omitempty"`
	Message  string              `json:"message"`
	Code     string              `json:"code,omitempty"`
	Context  map[string][]string `json:"context,omitempty"`
}

func rateLimitError(policy, msg string) apiError {
	return apiError{Message: msg, ErrorType: "RATE_LIMIT", PolicyName: policy, RequestID: uuid()}
}

func defaultErrorFor(status int) apiError {
	switch status {
	case http.StatusTooManyRequests:
		return rateLimitError("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
	case http.StatusUnauthorized:
		return apiError{Message: "Authentication credentials not found.", Category: "INVALID_AUTHENTICATION"}
	case http.StatusNotFound:
		return apiError{Message: "Object not found.", Category: "OBJECT_NOT_FOUND"}
	}
	if status >= 500 {
		return apiError{Message: "internal error", Category: "INTERNAL_ERROR"}
	}
	return apiError{Message: http.StatusText(status), Category: "VALIDATION_ERROR"}
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	e.Status = "error"
	if e.CorrelationID == "" {
		e.CorrelationID = uuid()
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
