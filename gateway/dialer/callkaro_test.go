package dialer_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
)

const apiKey = "ck-live-key"

func newCallkaro(t *testing.T, url, key string, timeout time.Duration) dialer.Dialer {
	t.Helper()
	d, err := dialer.New(&config.Dialer{Name: "ck", Type: "callkaro", URL: url, APIKey: key, Secret: secret, Timeout: timeout}, dialer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCallkaroDialSendsTheHostedBody(t *testing.T) {
	p := dialertest.New(t, dialertest.Callkaro, apiKey)
	d := newCallkaro(t, p.URL, apiKey, time.Second)
	placed, err := d.Dial(context.Background(), request(3))
	if err != nil {
		t.Fatal(err)
	}
	dials := p.Dials()
	if len(dials) != 1 || placed.ProviderCallID != dials[0].ProviderCallID || placed.Outcome != nil {
		t.Fatalf("placed = %+v, dials = %+v", placed, dials)
	}
	var body struct {
		ToNumber string            `json:"to_number"`
		AgentID  string            `json:"agent_id"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(dials[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ToNumber != "+14155550123" || body.AgentID != "sales-intro" {
		t.Errorf("body = %s", dials[0].Body)
	}
	want := map[string]string{"firstname": "Ada", dialer.MetaCallID: "01JDCALL", dialer.MetaAttempt: "3"}
	if mustJSON(body.Metadata) != mustJSON(want) {
		t.Errorf("metadata = %v, want %v", body.Metadata, want)
	}
	if d.Idempotent() {
		t.Error("callkaro has no idempotency key; Idempotent must be false")
	}
}

func TestCallkaroDialErrors(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		setup     func(p *dialertest.Platform)
		want      error
		uncertain bool
		placed    int
		message   string
		timeout   time.Duration // default 5s
	}{
		{name: "bad api key", key: "wrong", want: dialer.ErrRejected, message: "403: Missing X-API-KEY in headers"},
		// The hosted API takes no idempotency key and documents no dedupe:
		// after a 5xx the call may be queued, so it is never re-sent.
		{name: "500 is uncertain", key: apiKey, setup: func(p *dialertest.Platform) {
			p.FailNext(1, 500, `{"status":"error","message":"Internal server error"}`)
		}, want: dialer.ErrRejected, uncertain: true, message: "500 after the call was sent, not re-sent"},
		{name: "gateway timeout is uncertain", key: apiKey, setup: func(p *dialertest.Platform) {
			p.FailNext(1, 504, `upstream timed out`)
		}, want: dialer.ErrRejected, uncertain: true, message: "504"},
		{name: "503 is uncertain", key: apiKey, setup: func(p *dialertest.Platform) {
			p.FailNext(1, 503, ``)
		}, want: dialer.ErrRejected, uncertain: true, message: "503"},
		{name: "429 was not taken: retried", key: apiKey, setup: func(p *dialertest.Platform) {
			p.FailNext(1, 429, `{"status":"error","message":"slow down"}`)
		}, want: dialer.ErrTransport, message: "429"},
		{name: "dropped after taking the call", key: apiKey, setup: func(p *dialertest.Platform) { p.FailNext(1, 0, "") },
			want: dialer.ErrRejected, uncertain: true, placed: 1, message: "not re-sent"},
		{name: "too slow to answer", key: apiKey, setup: func(p *dialertest.Platform) { p.SetDelay(10 * time.Second) },
			want: dialer.ErrRejected, uncertain: true, message: "not re-sent", timeout: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialertest.New(t, dialertest.Callkaro, apiKey)
			if tt.setup != nil {
				tt.setup(p)
			}
			timeout := cmp.Or(tt.timeout, 5*time.Second)
			_, err := newCallkaro(t, p.URL, tt.key, timeout).Dial(context.Background(), request(1))
			if !errors.Is(err, tt.want) || errors.Is(err, dialer.ErrUncertain) != tt.uncertain {
				t.Fatalf("err = %v, want %v (uncertain %v)", err, tt.want, tt.uncertain)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to mention %q", err, tt.message)
			}
			if strings.Contains(err.Error(), tt.key) {
				t.Errorf("error leaks the api key: %v", err)
			}
			if n := p.Placed()["+14155550123"]; n != tt.placed {
				t.Errorf("placed %d calls, want %d", n, tt.placed)
			}
		})
	}
}

func TestCallkaroDialUnreachableIsTransport(t *testing.T) {
	// Nothing was written: safe to retry even without an idempotency key.
	_, err := newCallkaro(t, "http://127.0.0.1:1", apiKey, time.Second).Dial(context.Background(), request(1))
	if !errors.Is(err, dialer.ErrTransport) || errors.Is(err, dialer.ErrUncertain) {
		t.Fatalf("err = %v, want ErrTransport only", err)
	}
}

func TestCallkaroWebhooks(t *testing.T) {
	d := newCallkaro(t, "http://127.0.0.1:1", apiKey, time.Second)
	srv, got := receiver(t, d)
	ended := dialertest.CallEnded("01JDCALL", 2, "sid-7", "CLIENT_INITIATED", "Customer requested callback", 120)
	tests := []struct {
		name  string
		query string
		body  []byte
		times int
		code  int
	}{
		{name: "right token", query: "?token=" + secret, body: ended, times: 1, code: 200},
		{name: "duplicate deliveries", query: "?token=" + secret, body: ended, times: 2, code: 200},
		{name: "wrong token", query: "?token=nope", body: ended, times: 1, code: 401},
		{name: "no token", body: ended, times: 1, code: 401},
		{name: "another event", query: "?token=" + secret, body: []byte(`{"event":"message_received","data":{}}`), times: 1, code: 200},
		{name: "a call callgate did not place", query: "?token=" + secret, body: []byte(`{"event":"call_ended","data":{"callSid":"x","call_metadata":{"name":"Jatin"}}}`), times: 1, code: 200},
		{name: "not json", query: "?token=" + secret, body: []byte(`<html>`), times: 1, code: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, err := dialertest.PostCallEnded(context.Background(), srv.Client(), srv.URL+"/call/status/ck"+tt.query, tt.body, tt.times)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range codes {
				if c != tt.code {
					t.Fatalf("codes = %v, want all %d", codes, tt.code)
				}
			}
			if string(tt.body) != string(ended) || tt.code != 200 {
				select {
				case o := <-got:
					t.Fatalf("unexpected outcome %+v", o)
				default:
				}
				return
			}
			for range tt.times {
				o := <-got
				if o.CallID != "01JDCALL" || o.Attempt != 2 || o.Status != "completed" || o.ProviderCallID != "sid-7" || o.DurationS != 120 {
					t.Fatalf("outcome = %+v", o)
				}
				if !strings.Contains(o.Reason, "CLIENT_INITIATED") || !strings.Contains(o.Reason, "Customer requested callback") {
					t.Errorf("reason = %q, want hangup and disposition in it", o.Reason)
				}
			}
		})
	}
}

func TestCallkaroAttemptAsNumber(t *testing.T) {
	body := []byte(`{"event":"call_ended","data":{"callSid":"s","call_duration":0,"hangup_reason":"NO_ANSWER",
		"call_metadata":{"callgate_call_id":"c1","callgate_attempt":4}}}`)
	o, err := dialer.ParseCallkaroWebhook(body)
	if err != nil || o.Attempt != 4 || o.Status != "no_answer" {
		t.Fatalf("o = %+v, err = %v", o, err)
	}
}

func TestMapCallkaro(t *testing.T) {
	tests := []struct {
		hangup, disposition string
		duration            float64
		want                string
	}{
		{"CLIENT_INITIATED", "Customer requested callback", 120, "completed"},
		{"AGENT_INITIATED", "", 35, "completed"},
		{"CLIENT_INITIATED", "", 0, "no_answer"},
		{"", "", 0, "no_answer"},
		{"", "", 12, "completed"},
		{"NO_ANSWER", "", 0, "no_answer"},
		{"no-answer", "", 0, "no_answer"},
		{"RING_TIMEOUT", "", 0, "no_answer"},
		{"Not Answered", "", 0, "no_answer"},
		{"USER_BUSY", "", 0, "busy"},
		{"busy", "", 0, "busy"},
		{"CALL_REJECTED", "", 0, "busy"},
		{"VOICEMAIL_DETECTED", "", 20, "voicemail"},
		{"MACHINE_DETECTED", "", 5, "voicemail"},
		{"CLIENT_INITIATED", "Reached voicemail", 18, "voicemail"},
		{"CALL_FAILED", "", 0, "failed"},
		{"NETWORK_ERROR", "", 3, "failed"},
		{"INVALID_NUMBER", "", 0, "failed"},
		{"DND_NUMBER", "", 0, "failed"},
		{"VERIFICATION_REQUIRED", "", 0, "failed"},
		{"CANCELLED", "", 0, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.hangup+"/"+tt.disposition, func(t *testing.T) {
			got, reason := dialer.MapCallkaro(tt.hangup, tt.disposition, tt.duration)
			if got != tt.want {
				t.Errorf("MapCallkaro(%q, %q, %v) = %s, want %s", tt.hangup, tt.disposition, tt.duration, got, tt.want)
			}
			if reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

func TestCallkaroTokenNotInErrors(t *testing.T) {
	d := newCallkaro(t, "http://127.0.0.1:1", apiKey, time.Second)
	r := httptest.NewRequest(http.MethodPost, "/call/status/ck?token=almost-"+secret, nil)
	_, err := d.ParseOutcome(r, dialertest.CallEnded("c", 1, "s", "BUSY", "", 0))
	if !errors.Is(err, dialer.ErrBadSignature) || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
}

func TestCallkaroRoundTrip(t *testing.T) {
	p := dialertest.New(t, dialertest.Callkaro, apiKey)
	d := newCallkaro(t, p.URL, apiKey, 5*time.Second)
	srv, got := receiver(t, d)
	placed, err := d.Dial(context.Background(), request(2))
	if err != nil {
		t.Fatal(err)
	}
	codes, err := p.EndCall(context.Background(), srv.Client(), 0, srv.URL+"/call/status/ck?token="+secret, "NO_ANSWER", "", 0, 2)
	if err != nil || len(codes) != 2 || codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("codes = %v, %v", codes, err)
	}
	for range 2 {
		o := <-got
		if o.CallID != "01JDCALL" || o.Attempt != 2 || o.Status != "no_answer" || o.ProviderCallID != placed.ProviderCallID {
			t.Fatalf("outcome = %+v (placed %+v)", o, placed)
		}
	}
}

// TestCallkaroDialPassesOutboundFields: batch_id, priority and language
// from /call/outbound reach the hosted API as its own fields, and are
// left out when the call has none.
func TestCallkaroDialPassesOutboundFields(t *testing.T) {
	tests := []struct {
		name string
		set  func(*dialer.Request)
		want map[string]any // the body's fields beside to_number, agent_id, metadata
	}{
		{name: "none", set: func(*dialer.Request) {}, want: map[string]any{}},
		{name: "all", set: func(r *dialer.Request) { r.BatchID, r.Priority, r.Language = "0303fa770b666a64ab1694c1e", -20, "hi" },
			want: map[string]any{"batch_id": "0303fa770b666a64ab1694c1e", "priority": -20.0, "language": "hi"}},
		{name: "language only", set: func(r *dialer.Request) { r.Language = "ta" }, want: map[string]any{"language": "ta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialertest.New(t, dialertest.Callkaro, apiKey)
			d := newCallkaro(t, p.URL, apiKey, time.Second)
			req := request(1)
			tt.set(&req)
			if _, err := d.Dial(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			if err := json.Unmarshal(p.Dials()[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			delete(body, "to_number")
			delete(body, "agent_id")
			delete(body, "metadata")
			if mustJSON(body) != mustJSON(tt.want) {
				t.Errorf("extra fields = %s, want %s", mustJSON(body), mustJSON(tt.want))
			}
		})
	}
}
