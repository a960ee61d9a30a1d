package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

const secret = "notify-secret"

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// receiver is a webhook endpoint on 127.0.0.1 that answers from a script
// (then 200) and keeps every request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, body)
		code := http.StatusOK
		if len(r.script) > 0 {
			code, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() ([]*http.Request, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.got...), append([][]byte(nil), r.bodies...)
}

type env struct {
	db  *bolt.Store
	clk *clock
	n   *notify.Notifier
	reg *prometheus.Registry
}

func setup(t *testing.T, mutate func(*notify.Config)) env {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: t0}
	reg := prometheus.NewRegistry()
	cfg := notify.Config{Store: db, Secret: secret, Clock: clk.Now, Logger: hclog.NewNullLogger(), Registerer: reg,
		BaseBackoff: time.Minute, MaxBackoff: time.Hour, MaxAttempts: 4}
	if mutate != nil {
		mutate(&cfg)
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env{db: db, clk: clk, n: n, reg: reg}
}

func ended(status string) (store.Call, *store.Attempt) {
	start, end := t0.Add(-3*time.Minute), t0.Add(-time.Minute)
	next := t0.Add(2 * time.Hour)
	a := store.Attempt{N: 2, StartedAt: start, EndedAt: &end, Outcome: store.OutcomeNoAnswer, Reason: "rang out",
		ProviderCallID: "pc-7", DurationS: 0}
	c := store.Call{ID: "01JDCALL", AgentID: "sales-intro", Status: status, ToNumber: "+14155550123",
		Variables: map[string]string{"firstname": "Ada"},
		Source:    store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "123", EventID: "ev1"},
		Attempts:  []store.Attempt{{N: 1}, a}}
	if status == store.CallRetryScheduled {
		c.NextAttemptAt = &next
	} else {
		c.Reason = "no answer after 2 attempts"
	}
	return c, &c.Attempts[1]
}

func TestItemsPayload(t *testing.T) {
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{"http://127.0.0.1:1/server", "http://127.0.0.1:1/shared"}
		c.AgentURLs = func(agent string) []string {
			return []string{"http://127.0.0.1:1/shared", "http://127.0.0.1:1/" + agent}
		}
	})
	c, a := ended(store.CallRetryScheduled)
	items := e.n.Items(c, a, false)
	var urls []string
	for _, it := range items {
		urls = append(urls, it.URL)
		if it.Kind != store.OutboxWebhook || it.CallID != c.ID || !it.NextAt.Equal(t0) || it.ID == "" {
			t.Errorf("item = %+v", it)
		}
	}
	if strings.Join(urls, " ") != "http://127.0.0.1:1/server http://127.0.0.1:1/shared http://127.0.0.1:1/sales-intro" {
		t.Fatalf("urls = %v (each once, server first)", urls)
	}
	var got map[string]any
	if err := json.Unmarshal(items[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	data := got["data"].(map[string]any)
	want := map[string]any{
		"callSid": "pc-7", "name": "outbound", "agent": "sales-intro", "to": "14155550123", "call_duration": 0.0,
		"time": "2026-11-27 08:57:00", "hangup_reason": "no_answer", "call_metadata": map[string]any{"firstname": "Ada"},
		"try_count": 1.0, "disposition_reason": "rang out", "next_call_scheduled": true,
		"event_id": "01JDCALL-2-retry_scheduled", "call_id": "01JDCALL", "attempt": 2.0, "outcome": "no_answer",
		"status": "retry_scheduled", "final": false, "to_number": "+14155550123", "next_attempt_at": "2026-11-27T11:00:00Z",
	}
	if got["event"] != "call_ended" {
		t.Errorf("event = %v", got["event"])
	}
	for k, v := range want {
		if g, _ := json.Marshal(data[k]); string(g) != mustJSON(v) {
			t.Errorf("data.%s = %s, want %s", k, g, mustJSON(v))
		}
	}
	if items[0].Headers[notify.EventIDHeader] != "01JDCALL-2-retry_scheduled" {
		t.Errorf("headers = %v", items[0].Headers)
	}
	// The same change reported twice carries the same event id: receivers deduplicate on it.
	again := e.n.Items(c, a, false)
	if again[0].Headers[notify.EventIDHeader] != items[0].Headers[notify.EventIDHeader] {
		t.Error("event id differs for the same change")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestItemsWriteback(t *testing.T) {
	tests := []struct {
		name      string
		status    string
		writeback bool
		source    store.Source
		want      int // writeback items
	}{
		{"final, on", store.CallFailed, true, store.Source{Integration: "hubspot", ObjectID: "123"}, 1},
		{"final, off", store.CallFailed, false, store.Source{Integration: "hubspot", ObjectID: "123"}, 0},
		{"not final: the attempt is logged", store.CallRetryScheduled, true, store.Source{Integration: "hubspot", ObjectID: "123"}, 1},
		{"api call, no record", store.CallCompleted, true, store.Source{Type: "api"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, func(c *notify.Config) {
				c.Writeback = func(agent string) bool { return tt.writeback && agent == "sales-intro" }
			})
			c, a := ended(tt.status)
			c.Source = tt.source
			items := e.n.Items(c, a, store.Final(tt.status))
			n := 0
			for _, it := range items {
				if it.Kind == store.OutboxWriteback {
					n++
					if it.Integration != "hubspot" || it.URL != "" {
						t.Errorf("item = %+v", it)
					}
				}
			}
			if n != tt.want || len(items) != tt.want {
				t.Fatalf("items = %+v, want %d writeback and no webhook (no URLs)", items, tt.want)
			}
		})
	}
}

func TestItemsFinalWithoutAttempt(t *testing.T) {
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{"http://127.0.0.1:1/h"} })
	c := store.Call{ID: "c2", AgentID: "a", Status: store.CallBlocked, Reason: "number is on the DND list", ToNumber: "+919876543210"}
	items := e.n.Items(c, nil, true)
	var got notify.Envelope
	if len(items) != 1 || json.Unmarshal(items[0].Body, &got) != nil {
		t.Fatalf("items = %+v", items)
	}
	if got.Event != "call_status" || !got.Data.Final || got.Data.Reason != c.Reason || got.Data.NextCallScheduled || got.Data.CallSid != "c2" {
		t.Fatalf("envelope = %+v", got)
	}
}

func TestNewChecks(t *testing.T) {
	if _, err := notify.New(notify.Config{}); err == nil {
		t.Error("no store accepted")
	}
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = notify.New(notify.Config{Store: db, ServerURLs: []string{"ftp://x?token=abc"}})
	if err == nil || strings.Contains(err.Error(), "abc") {
		t.Errorf("err = %v, want a refusal without the token", err)
	}
}

func verify(body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return header == "sha256="+hex.EncodeToString(m.Sum(nil))
}

func TestDeliverSignedWebhook(t *testing.T) {
	rcv := newReceiver(t)
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{rcv.URL + "/hook"} })
	c, a := ended(store.CallRetryScheduled)
	items := e.n.Items(c, a, false)
	if err := e.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	if n, err := e.n.DeliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	reqs, bodies := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	r := reqs[0]
	if !verify(bodies[0], r.Header.Get(notify.SignatureHeader)) {
		t.Errorf("signature %q does not verify", r.Header.Get(notify.SignatureHeader))
	}
	if r.Header.Get(notify.SignatureHeader) != notify.Sign(secret, bodies[0]) {
		t.Error("Sign disagrees with an independent HMAC")
	}
	if r.Header.Get(notify.DeliveryHeader) != items[0].ID || r.Header.Get(notify.EventIDHeader) != "01JDCALL-2-retry_scheduled" ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", r.Header)
	}
	if string(bodies[0]) != string(items[0].Body) {
		t.Error("body changed on the way")
	}
	if p, d, _ := e.db.OutboxDepth(context.Background()); p != 0 || d != 0 {
		t.Errorf("delivered item not removed: %d pending, %d dead", p, d)
	}
	if v := counter(t, e.reg, "webhook", "delivered"); v != 1 {
		t.Errorf("delivered metric = %v", v)
	}
}

// counter reads callgate_notify_deliveries_total{kind,result}.
func counter(t *testing.T, reg *prometheus.Registry, kind, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != "callgate_notify_deliveries_total" {
			continue
		}
		for _, m := range mf.Metric {
			l := map[string]string{}
			for _, lp := range m.Label {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["kind"] == kind && l["result"] == result {
				v += m.Counter.GetValue()
			}
		}
	}
	return v
}
