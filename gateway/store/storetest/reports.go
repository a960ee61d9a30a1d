package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var reportTests = []subtest{
	{"CallStats", testCallStats},
	{"Audit", testAudit},
}

// testCallStats: per period [start, end), the calls created in it by
// current status, those with an ended attempt, completed ones and talk
// time.
func testCallStats(t *testing.T, h Harness) {
	s := h.Open(t)
	day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	ended := func(at time.Time, outcome string, dur float64) store.Attempt {
		end := at.Add(time.Minute)
		return store.Attempt{N: 1, StartedAt: at, EndedAt: &end, Outcome: outcome, DurationS: dur}
	}
	n := 0
	add := func(at time.Time, status string, attempts ...store.Attempt) {
		t.Helper()
		n++
		c := newCall("sales", fmt.Sprintf("+9198%08d", n))
		c.Status, c.Attempts = status, attempts
		if status != store.CallScheduled && status != store.CallRetryScheduled {
			c.NextAttemptAt = nil
		}
		if status == store.CallDialing {
			lease := at.Add(time.Hour)
			c.LeaseUntil = &lease
		}
		createCall(t, s, c, store.CreateOptions{Now: at})
	}
	add(day(-1), store.CallCompleted, ended(day(-1), store.OutcomeCompleted, 99)) // before the window
	add(day(0), store.CallCompleted, ended(day(0), store.OutcomeCompleted, 60))
	add(day(0).Add(time.Hour), store.CallRetryScheduled, ended(day(0), store.OutcomeNoAnswer, 0))
	add(day(0).Add(2*time.Hour), store.CallScheduled)
	add(day(1), store.CallDialing, store.Attempt{N: 1, StartedAt: day(1)})
	add(day(1).Add(time.Hour), store.CallFailed, ended(day(1), store.OutcomeFailed, 0), ended(day(1).Add(time.Minute), store.OutcomeBusy, 0))
	add(day(1).Add(2*time.Hour), store.CallCompleted, ended(day(1), store.OutcomeCompleted, 30))
	add(day(2), store.CallCompleted, ended(day(2), store.OutcomeCompleted, 10)) // on the last bound: after the window

	got, err := s.CallStats(ctx(t), []time.Time{day(0), day(1), day(2)})
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("got %d periods, want 2", len(got))
	}
	tests := []struct {
		name                           string
		p                              store.PeriodStats
		calls, ended, completed, timed int
		talk                           float64
		status                         map[string]int
	}{
		{"first day", got[0], 3, 2, 1, 1, 60, map[string]int{store.CallCompleted: 1, store.CallRetryScheduled: 1, store.CallScheduled: 1}},
		{"second day", got[1], 3, 2, 1, 1, 30, map[string]int{store.CallDialing: 1, store.CallFailed: 1, store.CallCompleted: 1}},
	}
	for _, tt := range tests {
		p := tt.p
		if p.Calls != tt.calls || p.Ended != tt.ended || p.Completed != tt.completed || p.Timed != tt.timed || p.TalkS != tt.talk {
			t.Errorf("%s: calls=%d ended=%d completed=%d timed=%d talk=%v, want %d %d %d %d %v",
				tt.name, p.Calls, p.Ended, p.Completed, p.Timed, p.TalkS, tt.calls, tt.ended, tt.completed, tt.timed, tt.talk)
		}
		if fmt.Sprint(p.ByStatus) != fmt.Sprint(tt.status) {
			t.Errorf("%s: by status %v, want %v", tt.name, p.ByStatus, tt.status)
		}
	}
	if !got[0].Start.Equal(day(0)) || !got[0].End.Equal(day(1)) || !got[1].Start.Equal(day(1)) || !got[1].End.Equal(day(2)) {
		t.Errorf("periods = %v..%v, %v..%v", got[0].Start, got[0].End, got[1].Start, got[1].End)
	}
	empty, err := s.CallStats(ctx(t), []time.Time{day(10), day(11)})
	if err != nil || len(empty) != 1 || empty[0].Calls != 0 || len(empty[0].ByStatus) != 0 {
		t.Errorf("an empty window = %+v, %v", empty, err)
	}
	for _, b := range [][]time.Time{nil, {day(0)}, {day(1), day(0)}, {day(0), day(0)}} {
		if _, err := s.CallStats(ctx(t), b); err == nil {
			t.Errorf("bounds %v: no error", b)
		}
	}
}

// testAudit: what the CRM created in a period, what reached the inbox
// and how, and what became of it; records without any event are
// unaccounted.
func testAudit(t *testing.T, h Harness) {
	s := h.Open(t)
	c1 := createCall(t, s, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
	// The CRM created records 1-6 in the period and 7 before it.
	var listed []store.ListedRecord
	for i, id := range []string{"1", "2", "3", "4", "5", "6"} {
		listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: id, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: "7", CreatedAt: t0.Add(-2 * time.Hour)},
		store.ListedRecord{Integration: "lsq", ObjectType: "lead", ObjectID: "a", CreatedAt: t0})
	must(t, s.RecordListing(ctx(t), "hubspot", "created:contact", t0.Add(time.Hour), listed, t0.Add(-store.ListedRetention)))
	ev := func(agent, id string, reconciled bool, status, reason, callID string) store.Event {
		return store.Event{Key: agent + id + status + reason, AgentID: agent, Integration: "hubspot", Type: "hubspot", ObjectType: "contact", ObjectID: id,
			Reconciled: reconciled, Status: status, Reason: reason, CallID: callID}
	}
	appendAt(t, s, t0.Add(10*time.Minute),
		ev("sales", "1", false, store.EventCalled, "", c1.ID),
		ev("sales", "1", false, store.EventCalled, "duplicate of call "+c1.ID+" (one call per contact within 24h)", c1.ID),
		ev("sales", "2", true, store.EventSkipped, "no valid phone: phone \"12345\"", ""),
		ev("sales", "3", false, store.EventSkipped, "no valid phone: phone \"+91 98\"", ""),
		ev("sales", "4", true, store.EventIgnored, "when is false", ""),
		ev("support", "5", false, "", "", ""), // pending
		ev("sales", "7", false, store.EventBlocked, "number on the DND list", ""),
	)
	// An event before the period still accounts for record 6, but is not
	// counted among the period's events.
	appendAt(t, s, t0.Add(-time.Hour), ev("sales", "6", false, store.EventIgnored, "when is false", ""))
	tests := []struct {
		name string
		f    store.AuditFilter
		want store.Audit
	}{
		{"every agent", store.AuditFilter{Since: t0, Until: t0.Add(time.Hour)}, store.Audit{
			CRMRecords: 7, Webhook: 5, Reconciled: 2,
			Events: map[string]int{store.EventCalled: 2, store.EventSkipped: 2, store.EventIgnored: 1, store.EventPending: 1, store.EventBlocked: 1},
			Calls:  1, CallStatuses: map[string]int{store.CallScheduled: 1},
			Reasons: []store.AuditReason{{Status: store.EventSkipped, Reason: `no valid phone: phone "…"`, Events: 2},
				{Status: store.EventBlocked, Reason: "number on the DND list", Events: 1}, {Status: store.EventIgnored, Reason: "when is false", Events: 1}},
			Unaccounted: 1, UnaccountedRecords: []store.ListedRecord{listed[7]}, // lsq's lead a has no event
		}},
		{"one agent, its integrations", store.AuditFilter{Since: t0, Until: t0.Add(time.Hour), AgentID: "support", Integrations: []string{"hubspot"}}, store.Audit{
			AgentID: "support", CRMRecords: 6, Webhook: 1, Events: map[string]int{store.EventPending: 1}, CallStatuses: map[string]int{},
			Reasons: []store.AuditReason{}, UnaccountedRecords: []store.ListedRecord{},
		}},
		{"an empty period", store.AuditFilter{Since: t0.Add(-10 * time.Hour), Until: t0.Add(-9 * time.Hour)}, store.Audit{
			Events: map[string]int{}, CallStatuses: map[string]int{}, Reasons: []store.AuditReason{}, UnaccountedRecords: []store.ListedRecord{},
		}},
	}
	for _, tt := range tests {
		got, err := s.Audit(ctx(t), tt.f)
		must(t, err)
		tt.want.Since, tt.want.Until = tt.f.Since, tt.f.Until
		if !reflect.DeepEqual(utcAudit(got), utcAudit(tt.want)) {
			t.Errorf("%s: audit =\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}
	if n, err := s.Unaccounted(ctx(t), "lsq", t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("Unaccounted(lsq) = %d %v, want 1", n, err)
	}
	if n, _ := s.Unaccounted(ctx(t), "hubspot", t0.Add(-3*time.Hour), t0.Add(time.Hour)); n != 0 {
		t.Errorf("Unaccounted(hubspot) = %d, want 0", n)
	}
}

// utcAudit puts a's times in UTC, so that audits compare by value.
func utcAudit(a store.Audit) store.Audit {
	a.Since, a.Until = a.Since.UTC(), a.Until.UTC()
	recs := make([]store.ListedRecord, len(a.UnaccountedRecords))
	for i, r := range a.UnaccountedRecords {
		r.CreatedAt = r.CreatedAt.UTC()
		recs[i] = r
	}
	a.UnaccountedRecords = recs
	return a
}
