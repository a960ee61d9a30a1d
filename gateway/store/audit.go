package store

import (
	"cmp"
	"regexp"
	"slices"
	"time"
)

// AuditFilter names the period (and agent) of an audit.
type AuditFilter struct {
	Since, Until time.Time
	AgentID      string // "": every agent
	// Integrations are the integrations whose CRM records count ("":
	// the listed records of every integration).
	Integrations []string
}

// Audit accounts for a period: what the CRM created, what reached the
// inbox and how, and what became of it (docs/operations.md, "The audit").
type Audit struct {
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	AgentID string    `json:"agent_id,omitempty"`
	// CRMRecords are the records created in the CRM in the period, as
	// reconciliation listed them.
	CRMRecords int `json:"crm_records"`
	// Webhook and Reconciled count the events received in the period,
	// by how they came.
	Webhook    int `json:"events_webhook"`
	Reconciled int `json:"events_reconciled"`
	// Events counts the period's events by their status.
	Events map[string]int `json:"events_by_status"`
	// Calls is the number of distinct calls the period's events became;
	// CallStatuses counts them by their current status.
	Calls        int            `json:"calls"`
	CallStatuses map[string]int `json:"calls_by_status"`
	// Reasons say why the events that did not become a call did not.
	Reasons []AuditReason `json:"reasons"`
	// Unaccounted counts the records created in the CRM in the period
	// that have no event at all: the number that must be 0.
	Unaccounted int `json:"leads_unaccounted"`
	// UnaccountedRecords are the first MaxAuditRecords of them.
	UnaccountedRecords []ListedRecord `json:"unaccounted_records"`

	seenCalls map[string]bool
	reasons   map[[2]string]int
}

// AuditReason is one reason, with the events it covers.
type AuditReason struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	Events int    `json:"events"`
}

// Bounds of an audit's lists.
const (
	MaxAuditRecords = 50
	MaxAuditReasons = 20
)

// reasonIDs are the ids and numbers in reasons, replaced so that one
// cause is one line: "duplicate of call 01J… (…)".
var reasonIDs = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b|[+]?\d[\d ]{2,}\d`)

// AuditReasonKey is reason with its ids and numbers elided.
func AuditReasonKey(reason string) string { return reasonIDs.ReplaceAllString(reason, "…") }

// NewAudit starts the audit of f's period. A backend passes it every event
// received in the period (AddEvent) and every record listed (AddRecord),
// then calls Finish.
func NewAudit(f AuditFilter) *Audit {
	return &Audit{Since: f.Since.UTC(), Until: f.Until.UTC(), AgentID: f.AgentID, Events: map[string]int{}, CallStatuses: map[string]int{},
		UnaccountedRecords: []ListedRecord{}, Reasons: []AuditReason{}, seenCalls: map[string]bool{}, reasons: map[[2]string]int{}}
}

// CountsCall reports whether AddEvent will count the call ev became: it
// has one and no earlier event of the period named it. A backend reads
// the call's status only then.
func (a *Audit) CountsCall(ev *Event) bool { return ev.CallID != "" && !a.seenCalls[ev.CallID] }

// AddEvent counts one event of the period; callStatus is the current
// status of the call it became ("unknown" if the call is gone), read when
// CountsCall said so.
func (a *Audit) AddEvent(ev *Event, callStatus string) {
	if ev.Reconciled {
		a.Reconciled++
	} else {
		a.Webhook++
	}
	a.Events[ev.Status]++
	if a.CountsCall(ev) {
		a.seenCalls[ev.CallID] = true
		a.Calls++
		a.CallStatuses[callStatus]++
	}
	if ev.Status != EventCalled && ev.Status != EventPending {
		a.reasons[[2]string{ev.Status, AuditReasonKey(ev.Reason)}]++
	}
}

// AddRecord counts one record the CRM created in the period; covered
// says an event came for it.
func (a *Audit) AddRecord(r ListedRecord, covered bool) {
	a.CRMRecords++
	if !covered {
		a.Unaccounted++
		if len(a.UnaccountedRecords) < MaxAuditRecords {
			a.UnaccountedRecords = append(a.UnaccountedRecords, r)
		}
	}
}

// Finish orders the reasons, most events first, keeps MaxAuditReasons of
// them and returns the audit.
func (a *Audit) Finish() Audit {
	for k, n := range a.reasons {
		a.Reasons = append(a.Reasons, AuditReason{Status: k[0], Reason: k[1], Events: n})
	}
	slices.SortFunc(a.Reasons, func(x, y AuditReason) int {
		if x.Events != y.Events {
			return y.Events - x.Events
		}
		if x.Status != y.Status {
			return cmp.Compare(x.Status, y.Status)
		}
		return cmp.Compare(x.Reason, y.Reason)
	})
	if len(a.Reasons) > MaxAuditReasons {
		a.Reasons = a.Reasons[:MaxAuditReasons]
	}
	out := *a
	out.seenCalls, out.reasons = nil, nil
	return out
}
