package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

var (
	bucketOutbox    = []byte("outbox")     // id → OutboxItem JSON
	bucketOutboxDue = []byte("outbox_due") // big-endian NextAt nanos + id → nothing; pending items only
	// outbox_claims remembers the items ClaimOutbox leased and when they
	// were due before: id → NextAt nanos. At open they are due again at
	// once (the deliverer that held them is gone with its process).
	bucketOutboxClaims = []byte("outbox_claims")
)

// putOutbox stores items inside tx (calls.go writes them with the call
// change they report). Empty IDs get a ULID; a zero CreatedAt takes NextAt.
// Once tx commits, Changes(store.TopicOutbox) signals.
func (db *Store) putOutbox(tx *bbolt.Tx, items []store.OutboxItem) error {
	if len(items) > 0 {
		tx.OnCommit(func() { db.wake.signal(store.TopicOutbox) })
	}
	claims := tx.Bucket(bucketOutboxClaims)
	for _, it := range items {
		if it.ID != "" {
			if err := claims.Delete([]byte(it.ID)); err != nil {
				return err
			}
		}
	}
	return writeOutbox(tx, items)
}

// writeOutbox stores items and moves their due-index entries.
func writeOutbox(tx *bbolt.Tx, items []store.OutboxItem) error {
	b, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxDue)
	for i := range items {
		it := &items[i]
		if err := store.PrepareOutbox(it); err != nil {
			return err
		}
		if old := b.Get([]byte(it.ID)); old != nil {
			var prev store.OutboxItem
			if err := json.Unmarshal(old, &prev); err != nil {
				return fmt.Errorf("outbox item %s: %w", it.ID, err)
			}
			if err := due.Delete(dueKey(prev.NextAt, prev.ID)); err != nil {
				return err
			}
		}
		raw, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, err)
		}
		if err := b.Put([]byte(it.ID), raw); err != nil {
			return err
		}
		if !it.Dead {
			if err := due.Put(dueKey(it.NextAt, it.ID), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// dueKey orders pending items by NextAt, then id.
func dueKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(max(t.UnixNano(), 0)))
	return append(k, id...)
}

// EnqueueOutbox stores items on their own (outside a call change).
func (db *Store) EnqueueOutbox(ctx context.Context, items ...store.OutboxItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error { return db.putOutbox(tx, items) })
}

// UpdateOutbox rewrites an item after a delivery try (Attempts, NextAt,
// LastError, Dead). It returns ErrNotFound if the item is gone.
func (db *Store) UpdateOutbox(ctx context.Context, it store.OutboxItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketOutbox).Get([]byte(it.ID)) == nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, store.ErrNotFound)
		}
		return db.putOutbox(tx, []store.OutboxItem{it})
	})
}

// DeleteOutbox removes a delivered (or discarded) item. Deleting a missing
// item is not an error: deliveries are at least once.
func (db *Store) DeleteOutbox(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		raw := b.Get([]byte(id))
		if raw == nil {
			return nil
		}
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		if err := tx.Bucket(bucketOutboxDue).Delete(dueKey(it.NextAt, id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutboxClaims).Delete([]byte(id)); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// GetOutbox reads one item.
func (db *Store) GetOutbox(ctx context.Context, id string) (store.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return store.OutboxItem{}, err
	}
	var it store.OutboxItem
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketOutbox).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("outbox item %s: %w", id, store.ErrNotFound)
		}
		return json.Unmarshal(raw, &it)
	})
	return it, err
}

// ClaimOutbox takes up to limit pending items whose NextAt is not after
// now, earliest first, and moves their NextAt to now+lease in the same
// commit, so they are not taken again while being delivered; the
// deliverer's UpdateOutbox or DeleteOutbox settles each. An item whose
// deliverer died is due again at the next Open (the file lock proves the
// process gone), as it was before the claim. The claim itself wakes
// nobody.
func (db *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.OutboxItem
	end := dueKey(now, "\xff")
	until := now.Add(lease)
	// Most passes find nothing due: look in a read transaction first, so
	// they cost no commit (no fsync).
	due := false
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketOutboxDue).Cursor().First()
		due = k != nil && bytes.Compare(k, end) <= 0
		return nil
	}); err != nil || !due {
		return nil, err
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		out = out[:0]
		b := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) <= 0 && len(out) < limit; k, _ = c.Next() {
			raw := b.Get(k[8:])
			if raw == nil {
				continue
			}
			var it store.OutboxItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return fmt.Errorf("outbox item %s: %w", k[8:], err)
			}
			out = append(out, it)
		}
		claims := tx.Bucket(bucketOutboxClaims)
		for i := range out {
			if err := claims.Put([]byte(out[i].ID), binary.BigEndian.AppendUint64(nil, uint64(max(out[i].NextAt.UnixNano(), 0)))); err != nil {
				return err
			}
			out[i].NextAt = until
		}
		return writeOutbox(tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claim due items: %w", err)
	}
	return out, nil
}

// NextOutboxAt is when the earliest pending item falls due; ok is false
// when nothing is pending.
func (db *Store) NextOutboxAt(ctx context.Context) (at time.Time, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketOutboxDue).Cursor().First()
		if k == nil {
			return nil
		}
		at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), true
		return nil
	})
	return at, ok, err
}

// ListOutbox lists items oldest first (by id), with the cursor for the
// next page ("" when there is none).
func (db *Store) ListOutbox(ctx context.Context, f store.OutboxFilter) (items []store.OutboxItem, next string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		k, v := c.First()
		if f.Cursor != "" {
			k, v = c.Seek([]byte(f.Cursor))
		}
		for ; k != nil; k, v = c.Next() {
			var it store.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %s: %w", k, err)
			}
			if !f.Match(&it) {
				continue
			}
			if len(items) == f.Limit {
				next = it.ID
				return nil
			}
			items = append(items, it)
		}
		return nil
	})
	return items, next, err
}

// RetryOutbox brings a dead letter back: tries reset, due at now.
func (db *Store) RetryOutbox(ctx context.Context, id string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketOutbox).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("outbox item %s: %w", id, store.ErrNotFound)
		}
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		store.Revive(&it, now)
		return db.putOutbox(tx, []store.OutboxItem{it})
	})
}

// OutboxDepth counts pending items and dead letters.
func (db *Store) OutboxDepth(ctx context.Context) (pending, dead int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bucketOutboxDue).Stats().KeyN
		dead = tx.Bucket(bucketOutbox).Stats().KeyN - pending
		return nil
	})
	return pending, dead, err
}

// releaseClaims makes the items the last process claimed and never
// settled due as they were before the claim: its deliveries died with it.
func releaseClaims(tx *bbolt.Tx) error {
	claims := tx.Bucket(bucketOutboxClaims)
	var items []store.OutboxItem
	err := claims.ForEach(func(k, v []byte) error {
		raw := tx.Bucket(bucketOutbox).Get(k)
		if raw == nil || len(v) != 8 {
			return nil
		}
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: %w", k, err)
		}
		if !it.Dead {
			it.NextAt = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := writeOutbox(tx, items); err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketOutboxClaims); err != nil {
		return err
	}
	_, err = tx.CreateBucket(bucketOutboxClaims)
	return err
}
