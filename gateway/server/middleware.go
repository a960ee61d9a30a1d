package server

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/reply"
)

// Route labels of requests no registered route took.
const (
	routeNotFound         = "not_found"
	routeMethodNotAllowed = "method_not_allowed"
)

// RequestIDHeader carries the request id in both directions. An incoming
// id is kept when it looks sane; otherwise one is made (a ULID).
const RequestIDHeader = "X-Request-Id"

// noteRoute tells the access log and the metrics which route took the
// request. The route is kept in the recorder observe wraps the response
// in, found by unwrapping w (http.ResponseController's convention), so no
// per-request context or request copy is needed to carry it.
func noteRoute(w http.ResponseWriter, label string, quiet bool) {
	for w != nil {
		if rec, ok := w.(*recorder); ok {
			rec.route, rec.quiet = label, quiet
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = ulid.Make().String()
			r.Header[RequestIDHeader] = []string{id} // RequestIDHeader is canonical
		}
		// The request's value slice is shared: Header.Add on either side
		// appends past its capacity, so neither ever writes into the other.
		w.Header()[RequestIDHeader] = r.Header[RequestIDHeader][:1:1]
		next.ServeHTTP(w, r)
	})
}

// saneRequestID accepts ids a proxy may have set: short, printable ASCII,
// nothing that could break a log line.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '"' {
			return false
		}
	}
	return true
}

// observe writes the access log line and the request metrics. The log
// line's arguments are built only when its level is logged.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, route: routeNotFound}
		next.ServeHTTP(rec, r)
		elapsed := time.Since(start)
		status := rec.statusCode()
		s.metrics.observe(rec.route, r.Method, status, elapsed)

		level := hclog.Info
		switch {
		case status >= 500:
			level = hclog.Warn
		case rec.quiet:
			level = hclog.Debug
		}
		if s.log.GetLevel() > level {
			return
		}
		target := r.URL.Path
		if r.URL.RawQuery != "" {
			target += "?" + RedactQuery(r.URL.RawQuery)
		}
		s.log.Log(level, "http request",
			"method", r.Method, "route", rec.route, "path", target, "status", status,
			"bytes", rec.bytes, "duration", elapsed.Round(time.Microsecond),
			"request_id", w.Header().Get(RequestIDHeader), "remote", r.RemoteAddr)
	})
}

// recoverPanics turns a handler's panic into a JSON 500 (if nothing was
// written yet) and a logged stack, keeping the process up.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's way to abort a response quietly
				panic(v)
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path,
				"request_id", r.Header.Get(RequestIDHeader), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				return // the response has begun; the client sees it cut short
			}
			reply.Error(w, http.StatusInternalServerError, "internal error (request id "+r.Header.Get(RequestIDHeader)+"); the details are in the server log")
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses a declared body over n with 413 and caps the rest, so a
// handler reading past n gets *http.MaxBytesError.
func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			reply.Error(w, http.StatusRequestEntityTooLarge, "request body is "+strconv.FormatInt(r.ContentLength, 10)+" bytes; the limit is "+strconv.FormatInt(n, 10))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // the route label (noteRoute)
	quiet  bool   // the route logs at debug level
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the recorder.
func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) statusCode() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}
