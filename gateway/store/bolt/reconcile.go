package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// Reconciliation buckets (gateway/reconcile).
var (
	// integration \x00 object type \x00 object id \x00 event id → nil: every
	// event ever appended for a CRM record, so reconciliation can ask
	// cheaply whether a listed record already reached the inbox.
	bucketEventsByObject = []byte("inbox_by_object")
	// integration \x00 listing ("created" | "modified") → unix nanos: how
	// far reconciliation has listed.
	bucketReconcileCheckpoints = []byte("reconcile_checkpoints")
	// integration \x00 created(8) | object type \x00 object id → nil: the
	// records reconciliation listed, by when they were created in the CRM,
	// for the audit; pruned after ListedRetention.
	bucketReconcileListed = []byte("reconcile_listed")
)

func objectIndexPrefix(integration, objectType, objectID string) []byte {
	return append(join(integration, objectType, objectID), 0)
}

// indexEventByObject records ev (already given its id) in the
// events-by-object index.
func indexEventByObject(tx *bbolt.Tx, ev *store.Event) error {
	if ev.ObjectID == "" {
		return nil
	}
	b := tx.Bucket(bucketEventsByObject)
	return b.Put(append(objectIndexPrefix(ev.Integration, ev.ObjectType, ev.ObjectID), ev.ID...), []byte{})
}

// indexEventsByObject is the schema 2→3 migration: it indexes every event
// already in the inbox.
func indexEventsByObject(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketEventsByObject); err != nil {
		return err
	}
	events := tx.Bucket(bucketInboxEvents)
	if events == nil {
		return nil
	}
	return events.ForEach(func(k, v []byte) error {
		var ev store.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %s: corrupt record: %w", k, err)
		}
		return indexEventByObject(tx, &ev)
	})
}

// EventsForObject returns the ids of the events (any agent, any status,
// oldest first) that came through integration for one CRM record.
func (db *Store) EventsForObject(ctx context.Context, integration, objectType, objectID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ids []string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		prefix := objectIndexPrefix(integration, objectType, objectID)
		c := tx.Bucket(bucketEventsByObject).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		return nil
	})
	return ids, err
}

// LatestEvents returns, for each object id of one integration and object
// type that any event (any agent, any status) came through for, when the
// newest of them was received: one read transaction for a whole page of
// listed records. Ids without an event are absent.
func (db *Store) LatestEvents(ctx context.Context, integration, objectType string, objectIDs []string) (map[string]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	latest := make(map[string]time.Time, len(objectIDs))
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEventsByObject).Cursor()
		for _, id := range objectIDs {
			prefix := objectIndexPrefix(integration, objectType, id)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				u, err := ulid.ParseStrict(string(k[len(prefix):]))
				if err != nil {
					return fmt.Errorf("events-by-record index: bad event id %q: %w", k[len(prefix):], err)
				}
				latest[id] = ulid.Time(u.Time()).UTC()
			}
		}
		return nil
	})
	return latest, err
}

// Checkpoint is how far reconciliation of integration has listed (by
// creation, or by modification); zero if it never has.
func (db *Store) Checkpoint(ctx context.Context, integration, listing string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	var t time.Time
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketReconcileCheckpoints).Get(join(integration, listing)); len(v) == 8 {
			t = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
		}
		return nil
	})
	return t, err
}

// RecordListing commits, in one transaction, the records a page of a
// listing found and the checkpoint it reached. The checkpoint never
// moves back. Records created before prune are forgotten.
func (db *Store) RecordListing(ctx context.Context, integration, listing string, checkpoint time.Time, recs []store.ListedRecord, prune time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		listed := tx.Bucket(bucketReconcileListed)
		for _, r := range recs {
			if r.CreatedAt.IsZero() || r.CreatedAt.Before(prune) {
				continue
			}
			if err := listed.Put(listedKey(r), []byte{}); err != nil {
				return err
			}
		}
		cps := tx.Bucket(bucketReconcileCheckpoints)
		ck := join(integration, listing)
		if v := cps.Get(ck); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= checkpoint.UnixNano() {
			return pruneListed(listed, integration, prune)
		}
		if err := cps.Put(ck, binary.BigEndian.AppendUint64(nil, uint64(checkpoint.UnixNano()))); err != nil {
			return err
		}
		return pruneListed(listed, integration, prune)
	})
}

func listedKey(r store.ListedRecord) []byte {
	k := append(join(r.Integration), 0)
	k = append(k, timeKey(r.CreatedAt)...)
	return append(k, join(r.ObjectType, r.ObjectID)...)
}

// pruneListed deletes up to 10,000 of integration's listed records created
// before t (a later page prunes the rest).
func pruneListed(b *bbolt.Bucket, integration string, t time.Time) error {
	prefix := append(join(integration), 0)
	limit := append(append([]byte(nil), prefix...), timeKey(t)...)
	c := b.Cursor()
	var old [][]byte
	for k, _ := c.Seek(prefix); k != nil && bytes.Compare(k, limit) < 0 && len(old) < 10000; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ListedRecords returns the records reconciliation listed for integration
// that were created in the CRM in [since, until), oldest first; all
// integrations when integration is "".
func (db *Store) ListedRecords(ctx context.Context, integration string, since, until time.Time) ([]store.ListedRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.ListedRecord
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketReconcileListed).ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(k) < i+1+8 {
				return nil
			}
			in := string(k[:i])
			if integration != "" && in != integration {
				return nil
			}
			created := fromTimeKey(k[i+1 : i+9])
			if created.Before(since) || !created.Before(until) {
				return nil
			}
			rest := k[i+9:]
			j := bytes.IndexByte(rest, 0)
			if j < 0 {
				return nil
			}
			out = append(out, store.ListedRecord{Integration: in, ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:]), CreatedAt: created})
			return nil
		})
	})
	return out, err
}

// RecentAccount is the CRM account (HubSpot's portal id) of the newest of
// integration's events that names one, among the newest events; "" if
// none does. Reconciled events carry it, so the per-contact dedupe sees a
// reconciled event and a webhook's event for one record as one contact.
func (db *Store) RecentAccount(ctx context.Context, integration string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var account string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketInboxEvents).Cursor()
		n := 0
		for k, v := c.Last(); k != nil && n < store.RecentAccountScan; k, v = c.Prev() {
			n++
			var ev struct {
				Integration string `json:"integration"`
				Account     string `json:"account"`
			}
			if json.Unmarshal(v, &ev) != nil || ev.Integration != integration || ev.Account == "" {
				continue
			}
			account = ev.Account
			return nil
		}
		return nil
	})
	return account, err
}
