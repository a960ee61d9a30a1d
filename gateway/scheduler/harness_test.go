package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/scheduler/schedtest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

var kolkata = func() *time.Location { l, _ := time.LoadLocation("Asia/Kolkata"); return l }()

// monday8 is Monday 2026-11-30 08:00 in Asia/Kolkata.
var monday8 = time.Date(2026, 11, 30, 8, 0, 0, 0, kolkata)

// env is a scheduler running on a real bbolt file with a fake clock and a
// fake dialer named "voice".
type env struct {
	t      *testing.T
	dir    string
	db     *bolt.Store
	clock  *schedtest.Clock
	dialer *schedtest.Dialer
	s      *scheduler.Scheduler
	limits scheduler.Limits
	notes  *recorder
	reg    *prometheus.Registry
	stop   func()
	// wrap, if set, is what the scheduler sees of db.
	wrap func(*bolt.Store) scheduler.Store
}

type envOption func(*env)

func withLimits(l scheduler.Limits) envOption { return func(e *env) { e.limits = l } }
func withDialer(d *schedtest.Dialer) envOption {
	return func(e *env) { e.dialer = d }
}
func withDir(dir string) envOption { return func(e *env) { e.dir = dir } }

func newEnv(t *testing.T, now time.Time, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: schedtest.NewClock(now), dialer: schedtest.NewDialer("voice", true), notes: &recorder{}, reg: prometheus.NewRegistry()}
	for _, o := range opts {
		o(e)
	}
	db, err := bolt.Open(bolt.Options{Dir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	var st scheduler.Store = db
	if e.wrap != nil {
		st = e.wrap(db)
	}
	e.s, err = scheduler.New(scheduler.Config{
		Store: st, Dialers: map[string]scheduler.Dialer{"voice": e.dialer}, Clock: e.clock,
		Logger: hclog.NewNullLogger(), Registerer: e.reg, Notifier: e.notes,
		DefaultTimezone:   "Asia/Kolkata",
		StatusCallbackURL: func(d string) string { return "https://calls.example.com/call/status/" + d },
		DialerLimits:      map[string]scheduler.Limits{"voice": e.limits},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts the scheduler; the returned func (also run at cleanup) stops
// it and closes the store.
func (e *env) run() func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
		e.db.Close()
	}
	e.t.Cleanup(e.stop)
	return e.stop
}

// recorder is a Notifier that counts what it was asked to send.
type recorder struct{}

func (*recorder) Items(c store.Call, a *store.Attempt, final bool) []store.OutboxItem {
	ev := "attempt_ended"
	if final {
		ev = "call_ended"
	}
	return []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "https://crm-sync.example.com/callgate", Body: []byte(`{"callSid":"` + c.ID + `"}`),
		CallID: c.ID, AgentID: c.AgentID, Event: ev, NextAt: c.UpdatedAt}}
}

func policy(w *store.Window, max int, gapsD ...time.Duration) store.Policy {
	return store.Policy{Timezone: "Asia/Kolkata", Window: w, Retry: store.RetryPolicy{Max: max, Gaps: gaps(gapsD...)}}
}

var office = &store.Window{Start: "09:00", End: "18:00", CarryOver: true}

func (e *env) submit(number string, p store.Policy) store.Call {
	e.t.Helper()
	res, err := e.s.Submit(context.Background(), scheduler.Submission{Call: store.Call{
		AgentID: "sales", ToNumber: number, Dialer: "voice", Policy: p, Variables: map[string]string{"firstname": "Ada"},
		Source: store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "123"},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Call
}

func (e *env) call(id string) store.Call {
	e.t.Helper()
	c, err := e.db.GetCall(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// dialed waits for the next request the fake dialer receives.
func (e *env) dialed() dialer.Request {
	e.t.Helper()
	select {
	case r := <-e.dialer.Dialed():
		return r
	case <-time.After(5 * time.Second):
		e.t.Fatal("no dial within 5s")
	}
	return dialer.Request{}
}

// noDial asserts nothing is dialed for a moment.
func (e *env) noDial() {
	e.t.Helper()
	select {
	case r := <-e.dialer.Dialed():
		e.t.Fatalf("unexpected dial of %s attempt %d", r.CallID, r.Attempt)
	case <-time.After(50 * time.Millisecond):
	}
}

// advanceTo moves the clock to at once some goroutine sleeps until at
// (so the move cannot race the timer being set).
func (e *env) advanceTo(at time.Time) {
	e.t.Helper()
	e.eventually("a timer for "+at.String(), func() bool {
		for _, t := range e.clock.Timers() {
			if t.Equal(at) {
				return true
			}
		}
		return false
	})
	e.clock.Set(at)
}

// waitStatus waits until call id has status.
func (e *env) waitStatus(id, status string) store.Call {
	e.t.Helper()
	var c store.Call
	e.eventually("call "+id+" "+status, func() bool {
		c = e.call(id)
		return c.Status == status
	})
	return c
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *env) outcome(id string, n int, status string) {
	e.t.Helper()
	if err := e.s.HandleOutcome(context.Background(), "voice", scheduler.Outcome{CallID: id, Attempt: n, Status: status}); err != nil {
		e.t.Fatal(err)
	}
}

func schedLimits(concurrency int) scheduler.Limits { return scheduler.Limits{Concurrency: concurrency} }

// finals reads callgate_scheduler_calls_final_total{status}.
func (e *env) finals(status string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "callgate_scheduler_calls_final_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == status {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// outboxEvents lists the lifecycle notifications committed for call id.
func (e *env) outboxEvents(id string) []string {
	e.t.Helper()
	items, _, err := e.db.ListOutbox(context.Background(), store.OutboxFilter{CallID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	var ev []string
	for _, it := range items {
		ev = append(ev, it.Event)
	}
	return ev
}
