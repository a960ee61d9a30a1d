package scheduler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

func report() dialer.Report {
	at := time.Date(2026, 11, 30, 3, 31, 2, 0, time.UTC)
	return dialer.Report{
		RecordingURL: "https://rec.example.com/01JDCALL-1.mp3",
		Transcript:   []store.Turn{{Speaker: "agent", Text: "Namaste Ada", At: &at}, {Speaker: "user", Text: "Call me Monday"}},
		Summary:      "Asked for a callback on Monday", Disposition: "callback", FromNumber: "+918035551234",
		Data: map[string]any{"lead_status": "interested", "budget": 250000.0},
	}
}

// TestOutcomeKeepsTheReport: what the platform said about the
// conversation lands on the attempt with its duration, and the
// /call/outbound fields reach the dialer.
func TestOutcomeKeepsTheReport(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(schedLimits(1)))
	e.run()
	res, err := e.s.Submit(context.Background(), scheduler.Submission{Call: store.Call{
		AgentID: "sales", ToNumber: "+919876543210", Dialer: "voice", Policy: policy(nil, 0),
		BatchID: "0303fa770b666a64ab1694c1e", Priority: 40, Language: "hi",
	}})
	if err != nil {
		t.Fatal(err)
	}
	req := e.dialed()
	if req.BatchID != "0303fa770b666a64ab1694c1e" || req.Priority != 40 || req.Language != "hi" {
		t.Fatalf("dial request = %+v, want the call's batch, priority and language", req)
	}
	id := res.Call.ID
	e.eventually("attempt placed", func() bool { c := e.call(id); return len(c.Attempts) == 1 && c.Attempts[0].PlacedAt != nil })
	rep := report()
	if err := e.s.HandleOutcome(context.Background(), "voice", scheduler.Outcome{CallID: id, Attempt: 1,
		Status: store.OutcomeCompleted, DurationS: 94, Report: rep}); err != nil {
		t.Fatal(err)
	}
	// A redelivery saying something else changes nothing: the first wins.
	other := dialer.Report{Summary: "forged", RecordingURL: "https://evil.example/x.mp3"}
	if err := e.s.HandleOutcome(context.Background(), "voice", scheduler.Outcome{CallID: id, Attempt: 1,
		Status: store.OutcomeCompleted, Report: other}); err != nil {
		t.Fatal(err)
	}
	c := e.call(id)
	a := c.Attempts[0]
	got := dialer.Report{RecordingURL: a.RecordingURL, Transcript: a.Transcript, Summary: a.Summary,
		Disposition: a.Disposition, FromNumber: a.FromNumber, Data: a.Data}
	if !reflect.DeepEqual(got, rep) || a.DurationS != 94 || c.Status != store.CallCompleted {
		t.Fatalf("attempt = %+v\nwant the report %+v", a, rep)
	}
	if c.BatchID != "0303fa770b666a64ab1694c1e" || c.Priority != 40 || c.Language != "hi" {
		t.Errorf("call lost its outbound fields: %q %d %q", c.BatchID, c.Priority, c.Language)
	}
}

// TestReportThroughTheHTTPDialer posts signed callbacks to the real
// status handler: the outcome fields are stored, and a bad one is a 400
// that names the field.
func TestReportThroughTheHTTPDialer(t *testing.T) {
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
		DialerLimits: map[string]scheduler.Limits{"voice": {Concurrency: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/call/status/{dialer}", s.StatusHandler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; db.Close() }()

	res, err := s.Submit(ctx, scheduler.Submission{Call: store.Call{AgentID: "sales", ToNumber: "+919876543210", Dialer: "voice",
		Policy: store.Policy{Timezone: "UTC"}, Language: "ta", BatchID: "b-7"}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Call.ID
	deadline := time.Now().Add(10 * time.Second)
	for c, _ := db.GetCall(ctx, id); len(c.Attempts) != 1 || c.Attempts[0].PlacedAt == nil; c, _ = db.GetCall(ctx, id) {
		if time.Now().After(deadline) {
			t.Fatalf("not placed: %s %q", c.Status, c.Reason)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var sent map[string]any
	if err := json.Unmarshal(platform.Dials()[0].Body, &sent); err != nil || sent["language"] != "ta" || sent["batch_id"] != "b-7" {
		t.Fatalf("dial body = %s, want language and batch_id", platform.Dials()[0].Body)
	}
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/call/status/voice", strings.NewReader(body))
		req.Header.Set(dialer.SignatureHeader, dialer.Sign("cb-secret", []byte(body)))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, msg := post(`{"call_id":"` + id + `","attempt":1,"status":"completed","duration_s":94,"recording_url":"data:audio/mp3;base64,AAAA"}`)
	if code != http.StatusBadRequest || !strings.Contains(msg, "recording_url") {
		t.Fatalf("bad recording_url: %d %s, want 400 naming the field", code, msg)
	}
	body := `{"call_id":"` + id + `","attempt":1,"status":"completed","duration_s":94,
		"recording_url":"https://rec.example.com/1.mp3","transcript":[{"speaker":"agent","text":"Namaste"},{"speaker":"user","text":"Haan"}],
		"summary":"Interested","disposition":"interested","from_number":"+918035551234","data":{"lead_status":"hot"}}`
	if code, msg := post(body); code != http.StatusOK {
		t.Fatalf("callback: %d %s", code, msg)
	}
	c, err := db.GetCall(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Attempts[0]
	if a.RecordingURL != "https://rec.example.com/1.mp3" || len(a.Transcript) != 2 || a.Transcript[1].Text != "Haan" ||
		a.Summary != "Interested" || a.Disposition != "interested" || a.FromNumber != "+918035551234" ||
		a.Data["lead_status"] != "hot" || a.DurationS != 94 {
		t.Fatalf("attempt = %+v", a)
	}
	// What the API, dashboard and write-back read back is the same record.
	raw, _ := json.Marshal(c)
	if !bytes.Contains(raw, []byte(`"recording_url":"https://rec.example.com/1.mp3"`)) || !bytes.Contains(raw, []byte(`"transcript":[{"speaker":"agent","text":"Namaste"}`)) {
		t.Errorf("stored call JSON = %s", raw)
	}
}
