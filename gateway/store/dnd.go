package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketDND = []byte("dnd") // E.164 number → DNDEntry JSON

// DNDEntry is one number on the do-not-disturb list.
type DNDEntry struct {
	Number  string    `json:"number"` // E.164
	Note    string    `json:"note,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// AddDND puts number (already E.164) on the do-not-disturb list; adding a
// listed number again updates its note and keeps its first AddedAt.
func (db *DB) AddDND(number, note string, now time.Time) error {
	if number == "" {
		return fmt.Errorf("store: add DND: empty number")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDND)
		e := DNDEntry{Number: number, Note: note, AddedAt: now.UTC()}
		if raw := b.Get([]byte(number)); raw != nil {
			var prev DNDEntry
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
func (db *DB) RemoveDND(number string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDND)
		if b.Get([]byte(number)) == nil {
			return fmt.Errorf("DND number %s: %w", number, ErrNotFound)
		}
		return b.Delete([]byte(number))
	})
}

// ListDND returns the whole list, ordered by number.
func (db *DB) ListDND() ([]DNDEntry, error) {
	var out []DNDEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDND).ForEach(func(k, v []byte) error {
			var e DNDEntry
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
func (db *DB) IsDND(number string) (bool, error) {
	var on bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		on = listedDND(tx, number)
		return nil
	})
	return on, err
}

// listedDND reports whether number is on the list, as tx sees it.
func listedDND(tx *bolt.Tx, number string) bool {
	return number != "" && tx.Bucket(bucketDND).Get([]byte(number)) != nil
}
