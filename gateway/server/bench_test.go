package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callgate/callgate/gateway/reply"
)

// BenchmarkMiddleware measures what the router and middleware (request
// id, access log, metrics, recovery, body limit) add to a handler: "bare"
// is the handler alone, the baseline; "server" is the same handler
// through Server. Compare the two lines' ns/op.
func BenchmarkMiddleware(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply.JSON(w, http.StatusOK, reply.Envelope{Status: "done", Message: "ok"})
	})
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	s.Handle("POST", "/call/crm-webhook", h)
	for _, bc := range []struct {
		name    string
		handler http.Handler
	}{
		{"bare", h},
		{"server", s.Handler()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/call/crm-webhook?agent_id=a&type=hubspot&x_api_key=k", http.NoBody)
				bc.handler.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
