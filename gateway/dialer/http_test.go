package dialer_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
)

const secret = "s3cret-callback-key"

func request(n int) dialer.Request {
	return dialer.Request{CallID: "01JDCALL", Attempt: n, AgentID: "sales-intro", ToNumber: "+14155550123",
		Variables: map[string]string{"firstname": "Ada"}, ContactType: "contact", ObjectID: "123",
		StatusCallbackURL: "https://calls.example.com/call/status/voice"}
}

func newHTTP(t *testing.T, url string, timeout time.Duration) dialer.Dialer {
	t.Helper()
	d, err := dialer.New(&config.Dialer{Name: "voice", Type: "http", URL: url, Secret: secret, Timeout: timeout,
		Headers: map[string]string{"Authorization": "Bearer platform-token"}}, dialer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHTTPDialSendsTheContract(t *testing.T) {
	p := dialertest.New(t, dialertest.HTTP, "")
	d := newHTTP(t, p.URL, time.Second)
	placed, err := d.Dial(context.Background(), request(2))
	if err != nil {
		t.Fatal(err)
	}
	if placed.ProviderCallID == "" || placed.Outcome != nil {
		t.Fatalf("placed = %+v, want a provider id and no synchronous outcome", placed)
	}
	dials := p.Dials()
	if len(dials) != 1 {
		t.Fatalf("platform got %d requests, want 1", len(dials))
	}
	got := dials[0]
	if got.Key != "01JDCALL-2" {
		t.Errorf("Idempotency-Key = %q, want 01JDCALL-2", got.Key)
	}
	if h := got.Headers.Get("Authorization"); h != "Bearer platform-token" {
		t.Errorf("configured header not sent: Authorization = %q", h)
	}
	if ct := got.Headers.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"call_id": "01JDCALL", "attempt": 2.0, "agent_id": "sales-intro", "to_number": "+14155550123",
		"variables": map[string]any{"firstname": "Ada"}, "contact": map[string]any{"type": "contact", "object_id": "123"},
		"status_callback_url": "https://calls.example.com/call/status/voice"}
	for k, v := range want {
		if gb, _ := json.Marshal(body[k]); string(gb) != mustJSON(v) {
			t.Errorf("body.%s = %s, want %s", k, gb, mustJSON(v))
		}
	}
	if len(body) != len(want) {
		t.Errorf("body has %d fields, want exactly %d: %s", len(body), len(want), got.Body)
	}
	if !d.Idempotent() || d.Name() != "voice" {
		t.Errorf("Idempotent=%v Name=%q", d.Idempotent(), d.Name())
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestHTTPDialResendIsDeduplicated(t *testing.T) {
	p := dialertest.New(t, dialertest.HTTP, "")
	d := newHTTP(t, p.URL, time.Second)
	// A crash between send and commit: the scheduler sends the same attempt again.
	a, err1 := d.Dial(context.Background(), request(1))
	b, err2 := d.Dial(context.Background(), request(1))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.ProviderCallID != b.ProviderCallID {
		t.Errorf("provider ids differ on a re-send: %s vs %s", a.ProviderCallID, b.ProviderCallID)
	}
	if n := p.Placed()["+14155550123"]; n != 1 {
		t.Errorf("person called %d times for one attempt, want 1", n)
	}
	if _, err := d.Dial(context.Background(), request(2)); err != nil {
		t.Fatal(err)
	}
	if n := p.Placed()["+14155550123"]; n != 2 {
		t.Errorf("attempt 2 placed %d calls in all, want 2", n)
	}
}

func TestHTTPDialSynchronousOutcome(t *testing.T) {
	p := dialertest.New(t, dialertest.HTTP, "")
	p.AnswerSync("no_answer")
	placed, err := newHTTP(t, p.URL, time.Second).Dial(context.Background(), request(1))
	if err != nil {
		t.Fatal(err)
	}
	o := placed.Outcome
	if o == nil || o.Status != "no_answer" || o.CallID != "01JDCALL" || o.Attempt != 1 || o.DurationS != 42.5 || o.ProviderCallID != placed.ProviderCallID {
		t.Fatalf("outcome = %+v", o)
	}
}

func TestHTTPDialErrors(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/calls"
	}()
	tests := []struct {
		name    string
		setup   func(p *dialertest.Platform)
		url     string
		want    error
		message string
		timeout time.Duration // default 5s
	}{
		{name: "5xx", setup: func(p *dialertest.Platform) { p.FailNext(1, 503, `{"message":"overloaded"}`) }, want: dialer.ErrTransport, message: "503"},
		{name: "429", setup: func(p *dialertest.Platform) { p.FailNext(1, 429, `{"message":"slow down"}`) }, want: dialer.ErrTransport, message: "429"},
		{name: "4xx with message", setup: func(p *dialertest.Platform) {
			p.FailNext(1, 422, `{"message":"number is not dialable"}`)
		}, want: dialer.ErrRejected, message: "422: number is not dialable"},
		{name: "4xx plain text", setup: func(p *dialertest.Platform) { p.FailNext(1, 400, "bad number") }, want: dialer.ErrRejected, message: "bad number"},
		{name: "slow", setup: func(p *dialertest.Platform) { p.SetDelay(10 * time.Second) }, want: dialer.ErrTransport, timeout: 300 * time.Millisecond},
		{name: "connection dropped", setup: func(p *dialertest.Platform) { p.FailNext(1, 0, "") }, want: dialer.ErrTransport},
		{name: "nobody listening", url: closed, want: dialer.ErrTransport},
		{name: "token in the url stays out of errors", url: closed + "?token=platform-token", want: dialer.ErrTransport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialertest.New(t, dialertest.HTTP, "")
			if tt.setup != nil {
				tt.setup(p)
			}
			url := p.URL
			if tt.url != "" {
				url = tt.url
			}
			_, err := newHTTP(t, url, cmp.Or(tt.timeout, 5*time.Second)).Dial(context.Background(), request(1))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			other := dialer.ErrRejected
			if tt.want == dialer.ErrRejected {
				other = dialer.ErrTransport
			}
			if errors.Is(err, other) {
				t.Errorf("err is both classes: %v", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to mention %q", err, tt.message)
			}
			if strings.Contains(err.Error(), "platform-token") {
				t.Errorf("error leaks a header secret: %v", err)
			}
		})
	}
}

func TestHTTPDialHonoursContext(t *testing.T) {
	p := dialertest.New(t, dialertest.HTTP, "")
	p.SetDelay(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newHTTP(t, p.URL, 10*time.Second).Dial(ctx, request(1))
	if !errors.Is(err, dialer.ErrTransport) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %s, want a prompt transport error", err, time.Since(start))
	}
}

// receiver stands in for the gateway's /call/status/{dialer} handler: it
// hands the raw body to ParseOutcome and answers as the server does.
func receiver(t *testing.T, d dialer.Dialer) (*httptest.Server, <-chan dialer.Outcome) {
	got := make(chan dialer.Outcome, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o, err := d.ParseOutcome(r, body)
		switch {
		case errors.Is(err, dialer.ErrBadSignature):
			w.WriteHeader(http.StatusUnauthorized)
		case errors.Is(err, dialer.ErrIgnored):
			w.WriteHeader(http.StatusOK)
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
		default:
			got <- o
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestHTTPCallbacks(t *testing.T) {
	d := newHTTP(t, "http://127.0.0.1:1/unused", time.Second)
	srv, got := receiver(t, d)
	cb := dialer.HTTPCallback{CallID: "01JDCALL", Attempt: 1, Status: "busy", ProviderCallID: "pc-9", DurationS: 0, Reason: "line busy"}
	tests := []struct {
		name   string
		secret string
		cb     dialer.HTTPCallback
		times  int
		code   int
	}{
		{name: "signed", secret: secret, cb: cb, times: 1, code: 200},
		{name: "duplicate deliveries", secret: secret, cb: cb, times: 3, code: 200},
		{name: "wrong secret", secret: "guess", cb: cb, times: 1, code: 401},
		{name: "unknown status", secret: secret, cb: dialer.HTTPCallback{CallID: "01JDCALL", Attempt: 1, Status: "ringing"}, times: 1, code: 400},
		{name: "no call id", secret: secret, cb: dialer.HTTPCallback{Attempt: 1, Status: "completed"}, times: 1, code: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, err := dialertest.PostOutcome(context.Background(), srv.Client(), srv.URL, tt.secret, tt.cb, tt.times)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range codes {
				if c != tt.code {
					t.Fatalf("codes = %v, want all %d", codes, tt.code)
				}
			}
			if tt.code != 200 {
				return
			}
			for range tt.times {
				o := <-got
				want := dialer.Outcome{CallID: "01JDCALL", Attempt: 1, Status: "busy", ProviderCallID: "pc-9", Reason: "line busy"}
				if !reflect.DeepEqual(o, want) {
					t.Fatalf("outcome = %+v, want %+v", o, want)
				}
			}
		})
	}
}

func TestHTTPCallbackSignatureHeader(t *testing.T) {
	d := newHTTP(t, "http://127.0.0.1:1/unused", time.Second)
	body := []byte(`{"call_id":"c","attempt":1,"status":"completed"}`)
	good := dialer.Sign(secret, body)
	tests := []struct{ name, header string }{
		{"missing", ""},
		{"no prefix", strings.TrimPrefix(good, "sha256=")},
		{"not hex", "sha256=zz"},
		{"truncated", good[:len(good)-2]},
		{"other body's", dialer.Sign(secret, []byte(`{}`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/call/status/voice", nil)
			if tt.header != "" {
				r.Header.Set(dialer.SignatureHeader, tt.header)
			}
			if _, err := d.ParseOutcome(r, body); !errors.Is(err, dialer.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		})
	}
	r := httptest.NewRequest(http.MethodPost, "/call/status/voice", nil)
	r.Header.Set(dialer.SignatureHeader, good)
	if o, err := d.ParseOutcome(r, body); err != nil || o.Status != "completed" {
		t.Fatalf("good signature: %+v, %v", o, err)
	}
}

func TestHTTPRoundTrip(t *testing.T) {
	p := dialertest.New(t, dialertest.HTTP, "")
	d := newHTTP(t, p.URL, 5*time.Second)
	srv, got := receiver(t, d)
	r := request(1)
	r.StatusCallbackURL = srv.URL + "/call/status/voice"
	placed, err := d.Dial(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	// The platform redelivers the callback; a forged one is refused.
	codes, err := p.Finish(context.Background(), srv.Client(), 0, "completed", secret, 2)
	if err != nil || len(codes) != 2 || codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("codes = %v, %v", codes, err)
	}
	if codes, _ := p.Finish(context.Background(), srv.Client(), 0, "failed", "forged", 1); codes[0] != 401 {
		t.Fatalf("forged callback answered %v", codes)
	}
	for range 2 {
		o := <-got
		want := dialer.Outcome{CallID: r.CallID, Attempt: 1, Status: "completed", ProviderCallID: placed.ProviderCallID, DurationS: 42.5}
		if !reflect.DeepEqual(o, want) {
			t.Fatalf("outcome = %+v, want %+v", o, want)
		}
	}
	select {
	case o := <-got:
		t.Fatalf("forged callback produced %+v", o)
	default:
	}
}
