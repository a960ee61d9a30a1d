package scheduler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

func TestStatusHandler(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour))
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	e.eventually("placed", func() bool { a := e.call(c.ID).Attempts; return len(a) == 1 && a[0].PlacedAt != nil })

	mux := http.NewServeMux()
	mux.Handle("/call/status/{dialer}", e.s.StatusHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, token string, body any) (int, map[string]string) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(raw))
		req.Header.Set(schedtest.TokenHeader, token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env map[string]string
		json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env
	}
	done := schedtest.Callback{CallID: c.ID, Attempt: 1, Status: store.OutcomeCompleted}
	tests := []struct {
		name, path, token string
		body              any
		want              int
	}{
		{"bad token", "/call/status/voice", "wrong", done, http.StatusUnauthorized},
		{"unknown dialer", "/call/status/nope", "secret", done, http.StatusNotFound},
		{"malformed", "/call/status/voice", "secret", "not an object", http.StatusBadRequest},
		{"not about a callgate call", "/call/status/voice", "secret", map[string]string{"event": "call_started"}, http.StatusOK},
		{"unknown call", "/call/status/voice", "secret", schedtest.Callback{CallID: "01NOPE", Attempt: 1, Status: "completed"}, http.StatusNotFound},
		{"unknown attempt", "/call/status/voice", "secret", schedtest.Callback{CallID: c.ID, Attempt: 7, Status: "completed"}, http.StatusNotFound},
		{"outcome", "/call/status/voice", "secret", done, http.StatusOK},
		{"redelivered", "/call/status/voice", "secret", done, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, env := post(tt.path, tt.token, tt.body)
			if code != tt.want {
				t.Fatalf("%d %v, want %d", code, env, tt.want)
			}
			if code == http.StatusOK && env["status"] != "done" {
				t.Fatalf("body %v, want status done", env)
			}
			if code != http.StatusOK && (env["status"] != "error" || env["message"] == "") {
				t.Fatalf("body %v, want the error envelope", env)
			}
		})
	}
	if got := e.call(c.ID); got.Status != store.CallCompleted {
		t.Fatalf("call = %s", got.Status)
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + "/call/status/voice")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
	})
}

// TestWithHTTPDialer drives the real http dialer against the fake platform
// of gateway/dialer/dialertest, with outcomes posted back to the status
// handler, signed, and redelivered.
func TestWithHTTPDialer(t *testing.T) {
	platform := dialertest.New(t, dialertest.HTTP, "")
	d, err := dialer.New(&config.Dialer{Name: "voice", Type: "http", URL: platform.URL, Secret: "cb-secret", Timeout: 2 * time.Second},
		dialer.Options{HTTPClient: platform.Client()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := scheduler.New(scheduler.Config{
		Store: db, Dialers: map[string]scheduler.Dialer{"voice": d}, Logger: hclog.NewNullLogger(),
		Registerer: prometheus.NewRegistry(), StatusCallbackURL: func(n string) string { return srv.URL + "/call/status/" + n },
		DialerLimits: map[string]scheduler.Limits{"voice": {Concurrency: 4, Rate: 50, Backoff: 10 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/call/status/{dialer}", s.StatusHandler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; db.Close() }()

	platform.FailNext(1, http.StatusServiceUnavailable, `{"error":"overloaded"}`)
	res, err := s.Submit(ctx, scheduler.Submission{Call: store.Call{AgentID: "sales", ToNumber: "+919876543210", Dialer: "voice",
		Policy: store.Policy{Timezone: "UTC", Retry: store.RetryPolicy{Max: 1, Gaps: gaps(time.Millisecond)}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Call.ID
	deadline := time.Now().Add(15 * time.Second)
	var c store.Call
	for {
		c, _ = db.GetCall(ctx, id)
		if len(c.Attempts) == 1 && c.Attempts[0].PlacedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not placed after the 503 backoff: %s %q", c.Status, c.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	codes, err := dialertest.PostOutcome(ctx, srv.Client(), srv.URL+"/call/status/voice", "cb-secret",
		dialer.HTTPCallback{CallID: id, Attempt: 1, Status: store.OutcomeNoAnswer}, 2)
	if err != nil || codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("callbacks = %v, %v", codes, err)
	}
	codes, _ = dialertest.PostOutcome(ctx, srv.Client(), srv.URL+"/call/status/voice", "wrong",
		dialer.HTTPCallback{CallID: id, Attempt: 2, Status: store.OutcomeCompleted}, 1)
	if codes[0] != http.StatusUnauthorized {
		t.Fatalf("forged callback = %v, want 401", codes)
	}
	for {
		c, _ = db.GetCall(ctx, id)
		if len(c.Attempts) == 2 && c.Attempts[1].PlacedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retry not placed: %s %q", c.Status, c.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	codes, _ = dialertest.PostOutcome(ctx, srv.Client(), srv.URL+"/call/status/voice", "cb-secret",
		dialer.HTTPCallback{CallID: id, Attempt: 2, Status: store.OutcomeCompleted, DurationS: 42}, 1)
	if codes[0] != 200 {
		t.Fatalf("callback = %v", codes)
	}
	c, _ = db.GetCall(ctx, id)
	if c.Status != store.CallCompleted || c.Reason != "connected (42s)" {
		t.Fatalf("call = %s %q", c.Status, c.Reason)
	}
	keys := map[string]int{}
	for _, dl := range platform.Dials() {
		keys[dl.Key]++
	}
	if keys[id+"-1"] != 2 || keys[id+"-2"] != 1 || platform.Placed()["+919876543210"] != 2 {
		t.Fatalf("platform saw keys %v, placed %v; want attempt 1 sent twice (503, then placed), attempt 2 once", keys, platform.Placed())
	}
}
