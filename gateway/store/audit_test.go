package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestAudit(t *testing.T) {
	db := openTest(t)
	in := testInbox(t, db)
	ctx := context.Background()
	c1, _, err := db.CreateCall(newCall("sales", "+14155550101"), CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	// The CRM created records 1-6 in the period and 7 before it.
	var listed []ListedRecord
	for i, id := range []string{"1", "2", "3", "4", "5", "6"} {
		listed = append(listed, ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: id, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	listed = append(listed, ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: "7", CreatedAt: t0.Add(-2 * time.Hour)},
		ListedRecord{Integration: "lsq", ObjectType: "lead", ObjectID: "a", CreatedAt: t0})
	if err := db.RecordListing("hubspot", "created:contact", t0.Add(time.Hour), listed, t0.Add(-ListedRetention)); err != nil {
		t.Fatal(err)
	}
	ev := func(agent, id string, reconciled bool, status, reason, callID string) Event {
		return Event{Key: agent + id + status + reason, AgentID: agent, Integration: "hubspot", Type: "hubspot", ObjectType: "contact", ObjectID: id,
			Reconciled: reconciled, Status: status, Reason: reason, CallID: callID}
	}
	_, err = in.AppendEvents(ctx, []Event{
		ev("sales", "1", false, EventCalled, "", c1.ID),
		ev("sales", "1", false, EventCalled, "duplicate of call "+c1.ID+" (one call per contact within 24h)", c1.ID),
		ev("sales", "2", true, EventSkipped, "no valid phone: phone \"12345\"", ""),
		ev("sales", "3", false, EventSkipped, "no valid phone: phone \"+91 98\"", ""),
		ev("sales", "4", true, EventIgnored, "when is false", ""),
		ev("support", "5", false, "", "", ""), // pending
		ev("sales", "7", false, EventBlocked, "number on the DND list", ""),
	}, AppendOptions{Now: t0.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// An event before the period still accounts for record 6 (it came
	// some other time), but is not counted among the period's events.
	if _, err := in.AppendEvents(ctx, []Event{ev("sales", "6", false, EventIgnored, "when is false", "")}, AppendOptions{Now: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	period := AuditFilter{Since: t0, Until: t0.Add(time.Hour)}
	tests := []struct {
		name string
		f    AuditFilter
		want Audit
	}{
		{"every agent", AuditFilter{Since: period.Since, Until: period.Until}, Audit{
			CRMRecords: 7, Webhook: 5, Reconciled: 2,
			Events: map[string]int{EventCalled: 2, EventSkipped: 2, EventIgnored: 1, EventPending: 1, EventBlocked: 1},
			Calls:  1, CallStatuses: map[string]int{CallScheduled: 1},
			Reasons: []AuditReason{{EventSkipped, `no valid phone: phone "…"`, 2}, {EventBlocked, "number on the DND list", 1}, {EventIgnored, "when is false", 1}},
			// lsq's lead a has no event.
			Unaccounted: 1, UnaccountedRecords: []ListedRecord{listed[7]},
		}},
		{"one agent, its integrations", AuditFilter{Since: period.Since, Until: period.Until, AgentID: "support", Integrations: []string{"hubspot"}}, Audit{
			AgentID: "support", CRMRecords: 6, Webhook: 1, Events: map[string]int{EventPending: 1}, CallStatuses: map[string]int{},
			Reasons: []AuditReason{}, UnaccountedRecords: []ListedRecord{},
		}},
		{"an empty period", AuditFilter{Since: t0.Add(-10 * time.Hour), Until: t0.Add(-9 * time.Hour)}, Audit{
			Events: map[string]int{}, CallStatuses: map[string]int{}, Reasons: []AuditReason{}, UnaccountedRecords: []ListedRecord{},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Audit(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Since, tt.want.Until = tt.f.Since, tt.f.Until
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("audit =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	if n, err := db.Unaccounted("lsq", t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("Unaccounted(lsq) = %d %v", n, err)
	}
	if n, _ := db.Unaccounted("hubspot", t0.Add(-3*time.Hour), t0.Add(time.Hour)); n != 0 {
		t.Errorf("Unaccounted(hubspot) = %d, want 0", n)
	}
}
