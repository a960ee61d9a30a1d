package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Export yields every record of the file in one read transaction, so the
// copy is consistent while the gateway keeps serving: events, dedupe
// keys, calls and their contact entries, outbox items, the DND list and
// reconciliation's checkpoints and listed records.
func (db *DB) Export(ctx context.Context, yield func(Item) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		steps := []func() error{
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketInboxEvents), func(ev *Event) error { return yield(Item{Event: ev}) })
			},
			func() error {
				return tx.Bucket(bucketInboxKeys).ForEach(func(k, v []byte) error {
					if len(v) < 8 {
						return fmt.Errorf("dedupe key %q: short value", k)
					}
					return yield(Item{Key: &KeyItem{Key: string(k), Expires: fromTimeKey(v[:8]), EventID: string(v[8:])}})
				})
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketCalls), func(c *Call) error { return yield(Item{Call: c}) })
			},
			func() error {
				return tx.Bucket(bucketCallsContact).ForEach(func(k, v []byte) error {
					i := bytes.IndexByte(k, 0)
					if i < 0 || len(v) < 8 {
						return fmt.Errorf("contact entry %q: malformed", k)
					}
					return yield(Item{Contact: &ContactItem{AgentID: string(k[:i]), ContactKey: string(k[i+1:]), CreatedAt: fromTimeKey(v[:8]), CallID: string(v[8:])}})
				})
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketOutbox), func(it *OutboxItem) error { return yield(Item{Outbox: it}) })
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketDND), func(e *DNDEntry) error { return yield(Item{DND: e}) })
			},
			func() error {
				return tx.Bucket(bucketReconcileCheckpoints).ForEach(func(k, v []byte) error {
					i := bytes.IndexByte(k, 0)
					if i < 0 || len(v) != 8 {
						return fmt.Errorf("checkpoint %q: malformed", k)
					}
					at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
					return yield(Item{Checkpoint: &CheckpointItem{Integration: string(k[:i]), Listing: string(k[i+1:]), At: at}})
				})
			},
			func() error {
				return tx.Bucket(bucketReconcileListed).ForEach(func(k, _ []byte) error {
					r, ok := parseListedKey(k)
					if !ok {
						return fmt.Errorf("listed record %q: malformed", k)
					}
					return yield(Item{Listed: &r})
				})
			},
		}
		for _, step := range steps {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachJSON decodes every value of b as a T.
func eachJSON[T any](ctx context.Context, b *bolt.Bucket, fn func(*T) error) error {
	return b.ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("record %s: %w", k, err)
		}
		return fn(&rec)
	})
}

// parseListedKey reads a reconcile_listed key (see listedKey).
func parseListedKey(k []byte) (ListedRecord, bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) < i+1+8 {
		return ListedRecord{}, false
	}
	rest := k[i+9:]
	j := bytes.IndexByte(rest, 0)
	if j < 0 {
		return ListedRecord{}, false
	}
	return ListedRecord{Integration: string(k[:i]), CreatedAt: fromTimeKey(k[i+1 : i+9]), ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:])}, true
}
