package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

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

type ctxKey struct{}

// requestInfo is filled in as the request goes down the chain and read
// by the access log on the way back up.
type requestInfo struct {
	route string
	quiet bool
}

func noteRoute(r *http.Request, label string, quiet bool) {
	if info, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		info.route, info.quiet = label, quiet
	}
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = ulid.Make().String()
			r.Header.Set(RequestIDHeader, id)
		}
		w.Header().Set(RequestIDHeader, id)
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

// observe writes the access log line and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{route: routeNotFound}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, info)))
		elapsed := time.Since(start)
		status := rec.statusCode()
		s.metrics.observe(info.route, r.Method, status, elapsed)

		target := r.URL.Path
		if r.URL.RawQuery != "" {
			target += "?" + RedactQuery(r.URL.RawQuery)
		}
		args := []any{
			"method", r.Method, "route", info.route, "path", target, "status", status,
			"bytes", rec.bytes, "duration", elapsed.Round(time.Microsecond),
			"request_id", w.Header().Get(RequestIDHeader), "remote", r.RemoteAddr,
		}
		switch {
		case status >= 500:
			s.log.Warn("http request", args...)
		case info.quiet:
			s.log.Debug("http request", args...)
		default:
			s.log.Info("http request", args...)
		}
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
