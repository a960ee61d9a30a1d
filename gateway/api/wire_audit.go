package api

import (
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// AuditReport is the body of GET /api/v1/audit.
type AuditReport struct {
	Audit
	// Reconciliation says, per integration, whether it is reconciled
	// and how its last pass went: the CRM figures come from those passes.
	Reconciliation []ReconcileState `json:"reconciliation"`
}

// Audit accounts for every lead of a period (docs/operations.md,
// "Reconciliation and the audit").
type Audit struct {
	Since              time.Time      `json:"since"`
	Until              time.Time      `json:"until"`
	AgentID            string         `json:"agent_id,omitempty"`
	CRMRecords         int            `json:"crm_records"`
	Webhook            int            `json:"events_webhook"`
	Reconciled         int            `json:"events_reconciled"`
	Events             map[string]int `json:"events_by_status"`
	Calls              int            `json:"calls"`
	CallStatuses       map[string]int `json:"calls_by_status"`
	Reasons            []AuditReason  `json:"reasons"`
	Unaccounted        int            `json:"leads_unaccounted"`
	UnaccountedRecords []ListedRecord `json:"unaccounted_records"`
}

// AuditReason is one reason events did not become a call, with how many.
type AuditReason struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	Events int    `json:"events"`
}

// ListedRecord is a record the CRM listed.
type ListedRecord struct {
	Integration string    `json:"integration"`
	ObjectType  string    `json:"object_type"`
	ObjectID    string    `json:"object_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewAudit converts the store's audit of a period.
func NewAudit(a store.Audit) Audit {
	return Audit{Since: a.Since, Until: a.Until, AgentID: a.AgentID, CRMRecords: a.CRMRecords,
		Webhook: a.Webhook, Reconciled: a.Reconciled, Events: a.Events, Calls: a.Calls, CallStatuses: a.CallStatuses,
		Reasons: convertAll(a.Reasons, func(r store.AuditReason) AuditReason {
			return AuditReason{Status: r.Status, Reason: r.Reason, Events: r.Events}
		}),
		Unaccounted: a.Unaccounted,
		UnaccountedRecords: convertAll(a.UnaccountedRecords, func(r store.ListedRecord) ListedRecord {
			return ListedRecord{Integration: r.Integration, ObjectType: r.ObjectType, ObjectID: r.ObjectID, CreatedAt: r.CreatedAt}
		}),
	}
}
