package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/reply"
)

// syncBuffer is a log sink the test can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls the log until it holds want: the access log line is
// written after the response reaches the client.
func (b *syncBuffer) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s := b.String(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("log never contained %q; log:\n%s", want, b.String())
	return ""
}

type testServer struct {
	*Server
	url string
	log *syncBuffer
}

// startServer runs a Server on a real 127.0.0.1 listener; setup registers
// routes before serving starts.
func startServer(t *testing.T, cfg Config, setup func(*Server)) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{Server: s, url: "http://" + ln.Addr().String(), log: logs}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) envelope(t *testing.T) reply.Envelope {
	t.Helper()
	var env reply.Envelope
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("body is not a JSON envelope: %v: %s", err, r.body)
	}
	return env
}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestHealthz(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	r := do(t, "GET", ts.url+"/healthz", nil, nil)
	if r.status != 200 || r.envelope(t).Status != "ok" {
		t.Fatalf("healthz = %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestReadyz(t *testing.T) {
	var mu sync.Mutex
	storeErr := errors.New("store closed")
	ts := startServer(t, Config{}, func(s *Server) {
		s.AddReadyCheck("plugins", func() error { return nil })
		s.AddReadyCheck("store", func() error {
			mu.Lock()
			defer mu.Unlock()
			return storeErr
		})
	})

	r := do(t, "GET", ts.url+"/readyz", nil, nil)
	var body readiness
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if r.status != 503 || body.Status != "error" || !strings.Contains(body.Message, "store: store closed") {
		t.Fatalf("failing readyz = %d %s", r.status, r.body)
	}
	if body.Checks["plugins"] != "ok" || body.Checks["store"] != "store closed" {
		t.Errorf("checks = %v", body.Checks)
	}

	mu.Lock()
	storeErr = nil
	mu.Unlock()
	r = do(t, "GET", ts.url+"/readyz", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"ready"`) {
		t.Fatalf("passing readyz = %d %s", r.status, r.body)
	}
}

func TestEnvelopes(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST", "/call/status/{dialer}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, reply.Envelope{Status: "done", Message: "ok"})
		}))
		s.Handle("GET", "/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("handler bug")
		}))
	})
	tests := []struct {
		name, method, path string
		status             int
		message            string
	}{
		{"not found", "GET", "/nope", 404, "no such endpoint: GET /nope"},
		{"method not allowed", "GET", "/call/status/voice", 405, "method GET is not allowed on /call/status/voice"},
		{"panic", "GET", "/boom", 500, "internal error"},
		{"found", "POST", "/call/status/voice", 200, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, ts.url+tt.path, nil, nil)
			env := r.envelope(t)
			if r.status != tt.status || !strings.Contains(env.Message, tt.message) {
				t.Fatalf("%s %s = %d %+v, want %d %q", tt.method, tt.path, r.status, env, tt.status, tt.message)
			}
			if tt.status >= 400 && env.Status != "error" {
				t.Errorf("status field = %q, want error", env.Status)
			}
		})
	}
	logs := ts.log.waitFor(t, "handler panicked")
	if !strings.Contains(logs, "handler bug") {
		t.Errorf("panic value not logged:\n%s", logs)
	}
	// The process survived the panic.
	if r := do(t, "GET", ts.url+"/healthz", nil, nil); r.status != 200 {
		t.Fatalf("healthz after panic = %d", r.status)
	}
}

func TestMetrics(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("GET", "/calls/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.Error(w, 404, "no such call")
		}))
	})
	do(t, "GET", ts.url+"/calls/1", nil, nil)
	do(t, "GET", ts.url+"/calls/2", nil, nil)
	do(t, "GET", ts.url+"/missing", nil, nil)
	r := do(t, "GET", ts.url+"/metrics", nil, nil)
	if r.status != 200 {
		t.Fatalf("metrics = %d", r.status)
	}
	for _, want := range []string{
		`callgate_http_requests_total{code="404",method="GET",route="/calls/{id}"} 2`,
		`callgate_http_requests_total{code="404",method="GET",route="not_found"} 1`,
		`callgate_http_request_duration_seconds_bucket{method="GET",route="/calls/{id}",le="+Inf"} 2`,
		"go_goroutines",
		"process_cpu_seconds_total",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAccessLogRedactsSecrets(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST", "/call/crm-webhook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, reply.Envelope{Status: "done", Message: "accepted"})
		}))
	})
	secrets := []string{"sk-live-123", "tok-456", "shh-789", "sig-abc"}
	do(t, "POST", ts.url+"/call/crm-webhook?agent_id=sales-intro&type=hubspot&x_api_key=sk-live-123&token=tok-456&client_secret=shh-789&X-HubSpot-Signature=sig-abc&carry_over=true",
		strings.NewReader("[]"), http.Header{RequestIDHeader: {"req-42"}})
	logs := ts.log.waitFor(t, "request_id=req-42")
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("secret %q in the access log:\n%s", s, logs)
		}
	}
	for _, want := range []string{"agent_id=sales-intro", "x_api_key=REDACTED", "token=REDACTED", "route=/call/crm-webhook", "status=200", "method=POST"} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %q:\n%s", want, logs)
		}
	}
}

func TestRequestID(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("GET", "/echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, map[string]string{"seen": r.Header.Get(RequestIDHeader)})
		}))
	})
	t.Run("kept", func(t *testing.T) {
		r := do(t, "GET", ts.url+"/echo", nil, http.Header{RequestIDHeader: {"abc-123"}})
		if got := r.header.Get(RequestIDHeader); got != "abc-123" || !strings.Contains(string(r.body), "abc-123") {
			t.Fatalf("id = %q body %s", got, r.body)
		}
	})
	t.Run("made", func(t *testing.T) {
		r := do(t, "GET", ts.url+"/echo", nil, http.Header{RequestIDHeader: {"bad id with spaces"}})
		got := r.header.Get(RequestIDHeader)
		if len(got) != 26 || !strings.Contains(string(r.body), got) {
			t.Fatalf("generated id = %q body %s", got, r.body)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	readAll := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reply.Errorf(w, http.StatusRequestEntityTooLarge, "body over %d bytes", tooBig.Limit)
			return
		}
		reply.JSON(w, 200, reply.Envelope{Status: "done", Message: "read"})
	})
	ts := startServer(t, Config{MaxBodyBytes: 64}, func(s *Server) {
		s.Handle("POST", "/small", readAll, WithBodyLimit(10))
		s.Handle("POST", "/default", readAll)
	})
	tests := []struct {
		name, path string
		body       io.Reader
		status     int
	}{
		{"under the route limit", "/small", strings.NewReader("0123456789"), 200},
		{"declared length over the limit", "/small", strings.NewReader("01234567890"), 413},
		{"chunked body over the limit", "/small", io.MultiReader(strings.NewReader("0123456789"), strings.NewReader("more")), 413},
		{"server default applies", "/default", strings.NewReader(strings.Repeat("x", 65)), 413},
		{"server default allows", "/default", strings.NewReader(strings.Repeat("x", 64)), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "POST", ts.url+tt.path, tt.body, nil)
			if r.status != tt.status {
				t.Fatalf("status = %d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.status == 413 && r.envelope(t).Status != "error" {
				t.Errorf("413 without an error envelope: %s", r.body)
			}
		})
	}
}

func TestAdminAuth(t *testing.T) {
	const tokenA = "admin-token-a"
	ts := startServer(t, Config{AdminTokenSHA256: []string{sha256Hex(tokenA)}}, func(s *Server) {
		s.HandleAdmin("GET", "/calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, map[string]any{"calls": []any{}})
		}))
	})
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no header", nil, 401},
		{"wrong scheme", http.Header{"Authorization": {"Basic " + tokenA}}, 401},
		{"wrong token", bearer("admin-token-b"), 401},
		{"right token", bearer(tokenA), 200},
		{"scheme is case-insensitive", http.Header{"Authorization": {"bearer " + tokenA}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "GET", ts.url+"/api/v1/calls", nil, tt.header)
			if r.status != tt.status {
				t.Fatalf("status = %d %s, want %d", r.status, r.body, tt.status)
			}
			if r.status == 401 {
				if r.envelope(t).Status != "error" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without envelope or WWW-Authenticate: %v %s", r.header, r.body)
				}
			}
		})
	}

	t.Run("reload swaps the tokens", func(t *testing.T) {
		if err := ts.SetAdminTokens([]string{sha256Hex("admin-token-b")}); err != nil {
			t.Fatal(err)
		}
		if r := do(t, "GET", ts.url+"/api/v1/calls", nil, bearer(tokenA)); r.status != 401 {
			t.Errorf("old token after reload = %d", r.status)
		}
		if r := do(t, "GET", ts.url+"/api/v1/calls", nil, bearer("admin-token-b")); r.status != 200 {
			t.Errorf("new token after reload = %d", r.status)
		}
		if err := ts.SetAdminTokens([]string{"not-hex"}); err == nil {
			t.Error("a malformed digest was accepted")
		}
		if r := do(t, "GET", ts.url+"/api/v1/calls", nil, bearer("admin-token-b")); r.status != 200 {
			t.Errorf("a refused reload changed the tokens: %d", r.status)
		}
	})

	t.Run("no tokens configured", func(t *testing.T) {
		if err := ts.SetAdminTokens(nil); err != nil {
			t.Fatal(err)
		}
		r := do(t, "GET", ts.url+"/api/v1/calls", nil, bearer(tokenA))
		if r.status != 401 || !strings.Contains(r.envelope(t).Message, "admin_token_sha256") {
			t.Fatalf("disabled admin API = %d %s", r.status, r.body)
		}
	})

	if logs := ts.log.String(); strings.Contains(logs, tokenA) {
		t.Errorf("admin token in the log:\n%s", logs)
	}
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	s.Handle("GET", "/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		reply.JSON(w, 200, reply.Envelope{Status: "done", Message: "finished"})
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan response, 1)
	go func() { got <- do(t, "GET", "http://"+ln.Addr().String()+"/slow", nil, nil) }()
	<-entered
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if r := <-got; r.status != 200 {
		t.Fatalf("in-flight request = %d %s", r.status, r.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
