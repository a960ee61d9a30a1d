package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// Audit computes the figures of f's period in one read transaction.
func (db *Store) Audit(ctx context.Context, f store.AuditFilter) (store.Audit, error) {
	if err := ctx.Err(); err != nil {
		return store.Audit{}, err
	}
	a := store.NewAudit(f)
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		calls := tx.Bucket(bucketCalls)
		_, err := scanEvents(tx, store.EventFilter{Since: f.Since, Until: f.Until, AgentID: f.AgentID}, func(ev *store.Event) bool {
			status := ""
			if a.CountsCall(ev) {
				status = "unknown"
				if raw := calls.Get([]byte(ev.CallID)); raw != nil {
					var c struct {
						Status string `json:"status"`
					}
					if json.Unmarshal(raw, &c) == nil {
						status = c.Status
					}
				}
			}
			a.AddEvent(ev, status)
			return true
		})
		if err != nil {
			return err
		}
		return unaccountedTx(tx, f.Integrations, f.Since, f.Until, a.AddRecord)
	})
	if err != nil {
		return store.Audit{}, fmt.Errorf("audit: %w", err)
	}
	return a.Finish(), nil
}

// Unaccounted counts integration's listed records created in [since,
// until) that have no event.
func (db *Store) Unaccounted(ctx context.Context, integration string, since, until time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return unaccountedTx(tx, []string{integration}, since, until, func(_ store.ListedRecord, covered bool) {
			if !covered {
				n++
			}
		})
	})
	return n, err
}

// unaccountedTx calls fn with each listed record of integrations (nil:
// all) created in [since, until) and whether any event came for it.
func unaccountedTx(tx *bbolt.Tx, integrations []string, since, until time.Time, fn func(r store.ListedRecord, covered bool)) error {
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
		r := store.ListedRecord{Integration: in, ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:]), CreatedAt: created}
		prefix := objectIndexPrefix(r.Integration, r.ObjectType, r.ObjectID)
		ek, _ := byObject.Seek(prefix)
		fn(r, ek != nil && bytes.HasPrefix(ek, prefix))
	}
	return nil
}
