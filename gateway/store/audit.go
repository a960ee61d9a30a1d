package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
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

// Audit computes the figures of f's period in one read transaction.
func (db *DB) Audit(f AuditFilter) (Audit, error) {
	a := Audit{Since: f.Since.UTC(), Until: f.Until.UTC(), AgentID: f.AgentID, Events: map[string]int{}, CallStatuses: map[string]int{},
		UnaccountedRecords: []ListedRecord{}, Reasons: []AuditReason{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		calls := tx.Bucket(bucketCalls)
		seenCalls := map[string]bool{}
		reasons := map[[2]string]int{}
		_, err := scanEvents(tx, EventFilter{Since: f.Since, Until: f.Until, AgentID: f.AgentID}, func(ev *Event) bool {
			if ev.Reconciled {
				a.Reconciled++
			} else {
				a.Webhook++
			}
			a.Events[ev.Status]++
			if ev.CallID != "" && !seenCalls[ev.CallID] {
				seenCalls[ev.CallID] = true
				a.Calls++
				status := "unknown"
				if raw := calls.Get([]byte(ev.CallID)); raw != nil {
					var c struct {
						Status string `json:"status"`
					}
					if json.Unmarshal(raw, &c) == nil {
						status = c.Status
					}
				}
				a.CallStatuses[status]++
			}
			if ev.Status != EventCalled && ev.Status != EventPending {
				reasons[[2]string{ev.Status, AuditReasonKey(ev.Reason)}]++
			}
			return true
		})
		if err != nil {
			return err
		}
		for k, n := range reasons {
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
		return unaccountedTx(tx, f.Integrations, f.Since, f.Until, func(r ListedRecord, covered bool) {
			a.CRMRecords++
			if !covered {
				a.Unaccounted++
				if len(a.UnaccountedRecords) < MaxAuditRecords {
					a.UnaccountedRecords = append(a.UnaccountedRecords, r)
				}
			}
		})
	})
	if err != nil {
		return Audit{}, fmt.Errorf("audit: %w", err)
	}
	return a, nil
}

// Unaccounted counts integration's listed records created in [since,
// until) that have no event.
func (db *DB) Unaccounted(integration string, since, until time.Time) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return unaccountedTx(tx, []string{integration}, since, until, func(_ ListedRecord, covered bool) {
			if !covered {
				n++
			}
		})
	})
	return n, err
}

// unaccountedTx calls fn with each listed record of integrations (nil:
// all) created in [since, until) and whether any event came for it.
func unaccountedTx(tx *bolt.Tx, integrations []string, since, until time.Time, fn func(r ListedRecord, covered bool)) error {
	byObject := tx.Bucket(bucketEventsByObject).Cursor()
	c := tx.Bucket(bucketReconcileListed).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) < i+1+8 {
			continue
		}
		in := string(k[:i])
		if integrations != nil && !slices.Contains(integrations, in) {
			continue
		}
		created := fromTimeKey(k[i+1 : i+9])
		if created.Before(since) || !created.Before(until) {
			continue
		}
		rest := k[i+9:]
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			continue
		}
		r := ListedRecord{Integration: in, ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:]), CreatedAt: created}
		prefix := objectIndexPrefix(r.Integration, r.ObjectType, r.ObjectID)
		ek, _ := byObject.Seek(prefix)
		fn(r, ek != nil && bytes.HasPrefix(ek, prefix))
	}
	return nil
}
