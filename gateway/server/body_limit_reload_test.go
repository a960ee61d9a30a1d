package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSetMaxBodyBytes: a reload's max_body_bytes applies to routes that
// use the server's limit from the next request on; a route's own limit
// stays.
func TestSetMaxBodyBytes(t *testing.T) {
	readAll := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	})
	var srv *Server
	ts := startServer(t, Config{MaxBodyBytes: 64}, func(s *Server) {
		srv = s
		s.Handle("POST", "/default", readAll)
		s.Handle("POST", "/own", readAll, WithBodyLimit(10))
	})
	post := func(path string, n int) int {
		return do(t, "POST", ts.url+path, strings.NewReader(strings.Repeat("x", n)), nil).status
	}
	if got := post("/default", 100); got != 413 {
		t.Fatalf("100 bytes under 64 = %d", got)
	}
	srv.SetMaxBodyBytes(128)
	if got := post("/default", 100); got != 200 {
		t.Errorf("100 bytes after raising the limit to 128 = %d, want 200", got)
	}
	if got := post("/default", 129); got != 413 {
		t.Errorf("129 bytes under 128 = %d, want 413", got)
	}
	if got := post("/own", 11); got != 413 {
		t.Errorf("a route's own limit after the reload: 11 bytes = %d, want 413", got)
	}
	srv.SetMaxBodyBytes(0) // ignored
	if got := post("/default", 100); got != 200 {
		t.Errorf("after SetMaxBodyBytes(0): %d, want the 128 limit kept", got)
	}
}
