// Package leadsquaredtest is a fake LeadSquared API for tests and demos: an
// httptest server on 127.0.0.1 that speaks the v2 Lead Management calls
// the plugin uses (Leads/Retrieve/ByIds, LeadsMetaData.Get, Leads.GetById, Leads.Get,
// Lead.Update) and the activity calls (ProspectActivity.svc/Create, /Retrieve)
// with LeadSquared's JSON shapes: every value a string or null, date-times
// as "2006-01-02 15:04:05.000", errors as {"Status":"Error",
// "ExceptionType","ExceptionMessage"}, 401 for wrong keys, 429 past the
// per-5-seconds limit. Keys are accepted in headers or the query string,
// as LeadSquared accepts them. It also builds webhook bodies as
// LeadSquared posts them.
package leadsquaredtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Default keys the server accepts when Options leaves them empty.
const (
	DefaultAccessKey = "u$r0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
	DefaultSecretKey = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	AccessKey, SecretKey string
	// RateMax calls are allowed per 5 seconds (LeadSquared's window);
	// 0 means 25, the Enterprise plan's limit.
	RateMax int
	// Clock is the time source for the rate window; default time.Now.
	Clock func() time.Time
	// Listener, when set, is where the server listens instead of a new
	// one on 127.0.0.1:0 (`callgate fake leadsquared --listen`).
	Listener net.Listener
}

// Request is one request the server received, for assertions. Keys are
// not recorded; KeysInQuery says whether they came in the URL.
type Request struct {
	Method, Path string
	Query        string // the query without the keys
	Body         []byte
	KeysInQuery  bool
}

// Server is a running fake LeadSquared.
type Server struct {
	// URL is the base URL to use as the integration's host_url.
	URL string

	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	leads    map[string]Lead // by lower-case ProspectID
	fields   []Field
	failures []failure
	window   []time.Time
	requests []Request

	activities []Activity // posted on leads, oldest first
	events     []int      // activity types beside DefaultActivityEvent
}

type failure struct {
	status     int
	retryAfter string
	body       string
}

// New starts a fake LeadSquared on 127.0.0.1; Close stops it.
func New(o Options) *Server {
	if o.AccessKey == "" {
		o.AccessKey = DefaultAccessKey
	}
	if o.SecretKey == "" {
		o.SecretKey = DefaultSecretKey
	}
	if o.RateMax <= 0 {
		o.RateMax = 25
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	s := &Server{opts: o, leads: map[string]Lead{}, fields: DefaultFields()}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if o.Listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = o.Listener
	}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AccessKey and SecretKey are the keys the server accepts.
func (s *Server) AccessKey() string { return s.opts.AccessKey }
func (s *Server) SecretKey() string { return s.opts.SecretKey }

// Fail makes the next API call answer status with LeadSquared's error
// body (exceptionType, message); retryAfter, if not empty, is sent as the
// Retry-After header. Failures queue up, one per call.
func (s *Server) Fail(status int, exceptionType, message, retryAfter string) {
	body, _ := json.Marshal(map[string]string{"Status": "Error", "ExceptionType": exceptionType, "ExceptionMessage": message})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status: status, retryAfter: retryAfter, body: string(body)})
}

// FailRaw makes the next API call answer status with body as is (an HTML
// gateway page, say).
func (s *Server) FailRaw(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status: status, body: body})
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	q := r.URL.Query()
	access, secret := r.Header.Get("x-LSQ-AccessKey"), r.Header.Get("x-LSQ-SecretKey")
	inQuery := false
	if access == "" && secret == "" {
		access, secret, inQuery = q.Get("accessKey"), q.Get("secretKey"), q.Has("accessKey")
	}
	q.Del("accessKey")
	q.Del("secretKey")

	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: q.Encode(), Body: body, KeysInQuery: inQuery})
	var f *failure
	if len(s.failures) > 0 {
		f = &s.failures[0]
		s.failures = s.failures[1:]
	}
	authorized := access == s.opts.AccessKey && secret == s.opts.SecretKey
	limited := f == nil && authorized && s.overLimit() // rejected calls do not count
	s.mu.Unlock()

	switch {
	case f != nil:
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	case !authorized:
		writeError(w, http.StatusUnauthorized, "MXUnAuthorizedAccessException", "Invalid Access Key or Secret Key")
		return
	case limited:
		writeError(w, http.StatusTooManyRequests, "MXAPIRateLimitExceededException", fmt.Sprintf("API calls exceeded the limit of %d in 5 second(s)", s.opts.RateMax))
		return
	}
	if s.routeActivity(w, r, body) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/LeadManagement.svc/Leads/Retrieve/ByIds":
		s.byIDs(w, body)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/LeadManagement.svc/LeadsMetaData.Get":
		s.metadata(w, q.Get("schemaName"))
	case r.Method == http.MethodPost && r.URL.Path == "/v2/LeadManagement.svc/Leads.Get":
		s.leadsGet(w, body)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/LeadManagement.svc/Leads.GetById":
		s.getByID(w, q.Get("id"))
	default:
		// IIS's plain 404 for an unknown service path.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html><body><h1>Endpoint not found.</h1></body></html>")
	}
}

// overLimit counts the call in the 5-second window; callers hold mu.
func (s *Server) overLimit() bool {
	now := s.opts.Clock()
	keep := s.window[:0]
	for _, t := range s.window {
		if now.Sub(t) < 5*time.Second {
			keep = append(keep, t)
		}
	}
	s.window = keep
	if len(s.window) >= s.opts.RateMax {
		return true
	}
	s.window = append(s.window, now)
	return false
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]string{"Status": "Error", "ExceptionType": typ, "ExceptionMessage": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// byIDs serves Leads/Retrieve/ByIds: the asked columns of the leads found,
// in the order asked; unknown ids are left out.
func (s *Server) byIDs(w http.ResponseWriter, body []byte) {
	var req struct {
		SearchParameters struct{ LeadIds []string }
		Columns          struct{ Include_CSV string }
		Paging           struct{ PageIndex, PageSize int }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "MXInvalidInputException", "Invalid JSON: "+err.Error())
		return
	}
	if len(req.SearchParameters.LeadIds) == 0 {
		writeError(w, http.StatusInternalServerError, "MXMandatoryAttributeMissingException", "'LeadIds' is mandatory")
		return
	}
	if strings.TrimSpace(req.Columns.Include_CSV) == "" {
		writeError(w, http.StatusInternalServerError, "MXMandatoryAttributeMissingException", "'Include_CSV' is mandatory")
		return
	}
	var cols []string
	for _, c := range strings.Split(req.Columns.Include_CSV, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	out := []map[string]any{}
	s.mu.Lock()
	for _, id := range req.SearchParameters.LeadIds {
		if l, ok := s.leads[strings.ToLower(id)]; ok {
			out = append(out, l.columns(cols))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"RecordCount": len(out), "Leads": out})
}

// getByID serves Leads.GetById: an array with the lead, or an empty array.
func (s *Server) getByID(w http.ResponseWriter, id string) {
	s.mu.Lock()
	l, ok := s.leads[strings.ToLower(id)]
	s.mu.Unlock()
	out := []map[string]any{}
	if ok {
		out = append(out, l.apiShape())
	}
	writeJSON(w, http.StatusOK, out)
}
