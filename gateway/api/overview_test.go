package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// pendingEvents is an inbox with n events waiting.
type pendingEvents int

func (n pendingEvents) PendingEvents(context.Context) (int, error) { return int(n), nil }

func TestOverview(t *testing.T) {
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadBytes("test.hcl", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.PublicURL = "https://calls.example.com"
	ist, _ := time.LoadLocation("Asia/Kolkata")
	// 10:30 in Kolkata on 1 Dec: today began at 18:30 UTC on 30 Nov.
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, ist)
	clock := now
	a, err := api.New(api.Options{Config: func() *config.Config { return cfg }, Calls: db, Canceler: sched, DND: db,
		Stats: db, Pending: pendingEvents(3), Now: func() time.Time { return clock }, OverviewTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	add := func(at time.Time, status string, dur float64) {
		t.Helper()
		c := store.Call{AgentID: "sales-intro", Status: status, Dialer: "log", ToNumber: "+9198" + at.Format("150405") + "00"}
		if dur >= 0 {
			end := at.Add(time.Minute)
			c.Attempts = []store.Attempt{{N: 1, StartedAt: at, EndedAt: &end, Outcome: store.OutcomeCompleted, DurationS: dur}}
		}
		if _, _, err := db.CreateCall(context.Background(), c, store.CreateOptions{Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	add(time.Date(2026, 12, 1, 0, 10, 0, 0, ist), store.CallCompleted, 40)   // today, 10 past midnight
	add(time.Date(2026, 11, 30, 23, 50, 0, 0, ist), store.CallCompleted, 20) // yesterday, 10 to midnight
	add(time.Date(2026, 11, 25, 0, 0, 0, 0, ist), store.CallFailed, 0)       // the 7th day back: counted
	add(time.Date(2026, 11, 24, 23, 59, 0, 0, ist), store.CallCompleted, 99) // the 8th: not
	add(time.Date(2026, 12, 1, 9, 0, 0, 0, ist), store.CallScheduled, -1)    // no attempt

	ov, err := a.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ov.Timezone != "Asia/Kolkata" || len(ov.Days) != api.OverviewDays {
		t.Fatalf("timezone %s, %d days", ov.Timezone, len(ov.Days))
	}
	if want := time.Date(2026, 12, 1, 0, 0, 0, 0, ist); !ov.Today.Start.Equal(want) || !ov.Today.End.Equal(want.AddDate(0, 0, 1)) {
		t.Fatalf("today is %s..%s", ov.Today.Start, ov.Today.End)
	}
	tests := []struct {
		name             string
		p                api.Period
		calls, completed int
		rate, avg        float64
	}{
		{"today", ov.Today, 2, 1, 1, 40},
		{"last 7 days", ov.Week, 4, 2, 2.0 / 3, 30}, // the failed attempt reports no duration
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p.Calls != tt.calls || tt.p.Completed != tt.completed || tt.p.ConnectRate == nil || *tt.p.ConnectRate != tt.rate ||
				tt.p.AvgDurationS == nil || *tt.p.AvgDurationS != tt.avg {
				t.Fatalf("got %+v (rate %v, avg %v)", tt.p, tt.p.ConnectRate, tt.p.AvgDurationS)
			}
		})
	}
	if q := ov.Queue; q.PendingEvents != 3 || q.Scheduled != 1 || q.Dialing != 0 {
		t.Fatalf("queue %+v", q)
	}
	if len(ov.Dialers) != 1 || ov.Dialers[0].Name != "log" || len(ov.Dialers[0].Agents) != 2 {
		t.Fatalf("dialers %+v", ov.Dialers)
	}
	wantHook := "https://calls.example.com/call/crm-webhook?agent_id=sales-intro&type=hubspot&x_api_key=YOUR_KEY"
	found := false
	for _, h := range ov.Webhooks {
		found = found || h.URL == wantHook
	}
	if !found {
		t.Fatalf("webhooks %+v lack %s", ov.Webhooks, wantHook)
	}

	t.Run("statistics are reused for OverviewTTL", func(t *testing.T) {
		add(time.Date(2026, 12, 1, 10, 0, 0, 0, ist), store.CallCompleted, 10)
		clock = now.Add(30 * time.Second)
		if ov, _ := a.Overview(context.Background()); ov.Today.Calls != 2 {
			t.Fatalf("within the TTL today has %d calls, want the cached 2", ov.Today.Calls)
		}
		clock = now.Add(2 * time.Minute)
		if ov, _ := a.Overview(context.Background()); ov.Today.Calls != 3 {
			t.Fatalf("after the TTL today has %d calls, want 3", ov.Today.Calls)
		}
	})
	t.Run("no call has ended", func(t *testing.T) {
		clock = time.Date(2027, 1, 20, 12, 0, 0, 0, ist)
		ov, err := a.Overview(context.Background())
		if err != nil || ov.Week.Calls != 0 || ov.Week.ConnectRate != nil || ov.Week.AvgDurationS != nil {
			t.Fatalf("got %+v, %v", ov.Week, err)
		}
	})
	t.Run("GET /api/v1/overview", func(t *testing.T) {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/overview", nil))
		var body map[string]any
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["last_7_days"] == nil || body["queue"] == nil {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("without Stats", func(t *testing.T) {
		b, err := api.New(api.Options{Config: func() *config.Config { return cfg }, Calls: db, Canceler: sched, DND: db})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Overview(context.Background()); !errors.Is(err, api.ErrNoStats) {
			t.Fatalf("err = %v, want ErrNoStats", err)
		}
		for _, rt := range b.Routes() {
			if rt.Path == "/api/v1/overview" {
				t.Fatal("the overview route is listed without Stats")
			}
		}
	})
}
