package bolt

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func TestAudit(t *testing.T) {
	db := openTest(t)
	in := testInbox(t, db)
	ctx := context.Background()
	c1, _, err := db.CreateCall(ctx, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	// The CRM created records 1-6 in the period and 7 before it.
	var listed []store.ListedRecord
	for i, id := range []string{"1", "2", "3", "4", "5", "6"} {
		listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: id, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: "7", CreatedAt: t0.Add(-2 * time.Hour)},
		store.ListedRecord{Integration: "lsq", ObjectType: "lead", ObjectID: "a", CreatedAt: t0})
	if err := db.RecordListing(ctx, "hubspot", "created:contact", t0.Add(time.Hour), listed, t0.Add(-store.ListedRetention)); err != nil {
		t.Fatal(err)
	}
	ev := func(agent, id string, reconciled bool, status, reason, callID string) store.Event {
		return store.Event{Key: agent + id + status + reason, AgentID: agent, Integration: "hubspot", Type: "hubspot", ObjectType: "contact", ObjectID: id,
			Reconciled: reconciled, Status: status, Reason: reason, CallID: callID}
	}
	_, err = in.AppendEvents(ctx, []store.Event{
		ev("sales", "1", false, store.EventCalled, "", c1.ID),
		ev("sales", "1", false, store.EventCalled, "duplicate of call "+c1.ID+" (one call per contact within 24h)", c1.ID),
		ev("sales", "2", true, store.EventSkipped, "no valid phone: phone \"12345\"", ""),
		ev("sales", "3", false, store.EventSkipped, "no valid phone: phone \"+91 98\"", ""),
		ev("sales", "4", true, store.EventIgnored, "when is false", ""),
		ev("support", "5", false, "", "", ""), // pending
		ev("sales", "7", false, store.EventBlocked, "number on the DND list", ""),
	}, store.AppendOptions{Now: t0.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// An event before the period still accounts for record 6 (it came
	// some other time), but is not counted among the period's events.
	if _, err := in.AppendEvents(ctx, []store.Event{ev("sales", "6", false, store.EventIgnored, "when is false", "")}, store.AppendOptions{Now: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	period := store.AuditFilter{Since: t0, Until: t0.Add(time.Hour)}
	tests := []struct {
		name string
		f    store.AuditFilter
		want store.Audit
	}{
		{"every agent", store.AuditFilter{Since: period.Since, Until: period.Until}, store.Audit{
			CRMRecords: 7, Webhook: 5, Reconciled: 2,
			Events: map[string]int{store.EventCalled: 2, store.EventSkipped: 2, store.EventIgnored: 1, store.EventPending: 1, store.EventBlocked: 1},
			Calls:  1, CallStatuses: map[string]int{store.CallScheduled: 1},
			Reasons: []store.AuditReason{{Status: store.EventSkipped, Reason: `no valid phone: phone "…"`, Events: 2}, {Status: store.EventBlocked, Reason: "number on the DND list", Events: 1}, {Status: store.EventIgnored, Reason: "when is false", Events: 1}},
			// lsq's lead a has no event.
			Unaccounted: 1, UnaccountedRecords: []store.ListedRecord{listed[7]},
		}},
		{"one agent, its integrations", store.AuditFilter{Since: period.Since, Until: period.Until, AgentID: "support", Integrations: []string{"hubspot"}}, store.Audit{
			AgentID: "support", CRMRecords: 6, Webhook: 1, Events: map[string]int{store.EventPending: 1}, CallStatuses: map[string]int{},
			Reasons: []store.AuditReason{}, UnaccountedRecords: []store.ListedRecord{},
		}},
		{"an empty period", store.AuditFilter{Since: t0.Add(-10 * time.Hour), Until: t0.Add(-9 * time.Hour)}, store.Audit{
			Events: map[string]int{}, CallStatuses: map[string]int{}, Reasons: []store.AuditReason{}, UnaccountedRecords: []store.ListedRecord{},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Audit(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Since, tt.want.Until = tt.f.Since, tt.f.Until
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("audit =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	if n, err := db.Unaccounted(ctx, "lsq", t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("Unaccounted(lsq) = %d %v", n, err)
	}
	if n, _ := db.Unaccounted(ctx, "hubspot", t0.Add(-3*time.Hour), t0.Add(time.Hour)); n != 0 {
		t.Errorf("Unaccounted(hubspot) = %d, want 0", n)
	}
}
