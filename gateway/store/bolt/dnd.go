package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

var bucketDND = []byte("dnd") // E.164 number → DNDEntry JSON

// AddDND puts number (already E.164) on the do-not-disturb list; adding a
// listed number again updates its note and keeps its first AddedAt.
func (db *Store) AddDND(ctx context.Context, number, note string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if number == "" {
		return fmt.Errorf("store: add DND: empty number")
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDND)
		e := store.DNDEntry{Number: number, Note: note, AddedAt: now.UTC()}
		if raw := b.Get([]byte(number)); raw != nil {
			var prev store.DNDEntry
			if json.Unmarshal(raw, &prev) == nil && !prev.AddedAt.IsZero() {
				e.AddedAt = prev.AddedAt
			}
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put([]byte(number), raw)
	})
	if err != nil {
		return fmt.Errorf("store: add %s to DND: %w", number, err)
	}
	return nil
}

// RemoveDND takes number off the list; ErrNotFound if it was not on it.
func (db *Store) RemoveDND(ctx context.Context, number string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDND)
		if b.Get([]byte(number)) == nil {
			return fmt.Errorf("DND number %s: %w", number, store.ErrNotFound)
		}
		return b.Delete([]byte(number))
	})
}

// ListDND returns the whole list, ordered by number.
func (db *Store) ListDND(ctx context.Context) ([]store.DNDEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.DNDEntry
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDND).ForEach(func(k, v []byte) error {
			var e store.DNDEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("DND entry %s: corrupt record: %w", k, err)
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// IsDND reports whether number is on the list. The pipeline and
// /call/outbound ask it before a call exists; ClaimDue asks again, in its
// own transaction, when an attempt is due.
func (db *Store) IsDND(ctx context.Context, number string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var on bool
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		on = listedDND(tx, number)
		return nil
	})
	return on, err
}

// listedDND reports whether number is on the list, as tx sees it.
func listedDND(tx *bbolt.Tx, number string) bool {
	return number != "" && tx.Bucket(bucketDND).Get([]byte(number)) != nil
}
