package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/callgate/callgate/gateway/store"
)

// Export yields every record of the file in one read transaction, so the
// copy is consistent while the gateway keeps serving: events, dedupe
// keys, calls and their contact entries, outbox items, the DND list and
// reconciliation's checkpoints and listed records.
func (db *Store) Export(ctx context.Context, yield func(store.Item) error) error {
	return db.bolt.View(func(tx *bbolt.Tx) error {
		steps := []func() error{
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketInboxEvents), func(ev *store.Event) error { return yield(store.Item{Event: ev}) })
			},
			func() error {
				return tx.Bucket(bucketInboxKeys).ForEach(func(k, v []byte) error {
					if len(v) < 8 {
						return fmt.Errorf("dedupe key %q: short value", k)
					}
					return yield(store.Item{Key: &store.KeyItem{Key: string(k), Expires: fromTimeKey(v[:8]), EventID: string(v[8:])}})
				})
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketCalls), func(c *store.Call) error { return yield(store.Item{Call: c}) })
			},
			func() error {
				return tx.Bucket(bucketCallsContact).ForEach(func(k, v []byte) error {
					i := bytes.IndexByte(k, 0)
					if i < 0 || len(v) < 8 {
						return fmt.Errorf("contact entry %q: malformed", k)
					}
					return yield(store.Item{Contact: &store.ContactItem{AgentID: string(k[:i]), ContactKey: string(k[i+1:]), CreatedAt: fromTimeKey(v[:8]), CallID: string(v[8:])}})
				})
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketOutbox), func(it *store.OutboxItem) error { return yield(store.Item{Outbox: it}) })
			},
			func() error {
				return eachJSON(ctx, tx.Bucket(bucketDND), func(e *store.DNDEntry) error { return yield(store.Item{DND: e}) })
			},
			func() error {
				return tx.Bucket(bucketReconcileCheckpoints).ForEach(func(k, v []byte) error {
					i := bytes.IndexByte(k, 0)
					if i < 0 || len(v) != 8 {
						return fmt.Errorf("checkpoint %q: malformed", k)
					}
					at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
					return yield(store.Item{Checkpoint: &store.CheckpointItem{Integration: string(k[:i]), Listing: string(k[i+1:]), At: at}})
				})
			},
			func() error {
				return tx.Bucket(bucketReconcileListed).ForEach(func(k, _ []byte) error {
					r, ok := parseListedKey(k)
					if !ok {
						return fmt.Errorf("listed record %q: malformed", k)
					}
					return yield(store.Item{Listed: &r})
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
func eachJSON[T any](ctx context.Context, b *bbolt.Bucket, fn func(*T) error) error {
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
func parseListedKey(k []byte) (store.ListedRecord, bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) < i+1+8 {
		return store.ListedRecord{}, false
	}
	rest := k[i+9:]
	j := bytes.IndexByte(rest, 0)
	if j < 0 {
		return store.ListedRecord{}, false
	}
	return store.ListedRecord{Integration: string(k[:i]), CreatedAt: fromTimeKey(k[i+1 : i+9]), ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:])}, true
}
