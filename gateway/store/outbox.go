package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"
)

// Outbox item kinds.
const (
	OutboxWebhook   = "webhook"   // POST Body to URL, signed
	OutboxWriteback = "writeback" // write a call's final status to its CRM record
)

var (
	bucketOutbox    = []byte("outbox")     // id → OutboxItem JSON
	bucketOutboxDue = []byte("outbox_due") // big-endian NextAt nanos + id → nothing; pending items only
)

// OutboxItem is one notification waiting to leave the gateway: a webhook to
// POST or a CRM write-back. Items are written in the same transaction as the
// call change they report, so none is lost; they are delivered at least
// once and deleted when done. An item that exhausted its tries stays, Dead,
// with its LastError, until an operator retries or deletes it.
type OutboxItem struct {
	ID      string            `json:"id"`   // ULID, assigned when stored if empty
	Kind    string            `json:"kind"` // OutboxWebhook | OutboxWriteback
	URL     string            `json:"url,omitempty"`
	Body    []byte            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
	// For write-back: which integration serves the record.
	Integration string `json:"integration,omitempty"`
	CallID      string `json:"call_id,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	Event       string `json:"event,omitempty"` // what it reports, e.g. attempt_ended, call_ended

	Attempts  int       `json:"attempts"` // deliveries tried
	NextAt    time.Time `json:"next_at"`  // not before
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	LastError string    `json:"last_error,omitempty"`
	Dead      bool      `json:"dead,omitempty"` // gave up; kept for an operator
}

// putOutbox stores items inside tx (calls.go writes them with the call
// change they report). Empty IDs get a ULID; a zero CreatedAt takes NextAt.
// Once tx commits, OutboxCommitted signals.
func (db *DB) putOutbox(tx *bolt.Tx, items []OutboxItem) error {
	if len(items) > 0 {
		tx.OnCommit(db.signalOutbox)
	}
	b, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxDue)
	for i := range items {
		it := &items[i]
		if it.Kind != OutboxWebhook && it.Kind != OutboxWriteback {
			return fmt.Errorf("outbox: unknown item kind %q", it.Kind)
		}
		if it.ID == "" {
			it.ID = ulid.Make().String()
		}
		if it.CreatedAt.IsZero() {
			it.CreatedAt = it.NextAt
		}
		if it.UpdatedAt.IsZero() {
			it.UpdatedAt = it.CreatedAt
		}
		if old := b.Get([]byte(it.ID)); old != nil {
			var prev OutboxItem
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
func (db *DB) EnqueueOutbox(items ...OutboxItem) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return db.putOutbox(tx, items) })
}

// UpdateOutbox rewrites an item after a delivery try (Attempts, NextAt,
// LastError, Dead). It returns ErrNotFound if the item is gone.
func (db *DB) UpdateOutbox(it OutboxItem) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox).Get([]byte(it.ID)) == nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, ErrNotFound)
		}
		return db.putOutbox(tx, []OutboxItem{it})
	})
}

// DeleteOutbox removes a delivered (or discarded) item. Deleting a missing
// item is not an error: deliveries are at least once.
func (db *DB) DeleteOutbox(id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		raw := b.Get([]byte(id))
		if raw == nil {
			return nil
		}
		var it OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		if err := tx.Bucket(bucketOutboxDue).Delete(dueKey(it.NextAt, id)); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// GetOutbox reads one item.
func (db *DB) GetOutbox(id string) (OutboxItem, error) {
	var it OutboxItem
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketOutbox).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("outbox item %s: %w", id, ErrNotFound)
		}
		return json.Unmarshal(raw, &it)
	})
	return it, err
}

// DueOutbox returns up to limit pending items whose NextAt is not after
// now, earliest first.
func (db *DB) DueOutbox(now time.Time, limit int) ([]OutboxItem, error) {
	var out []OutboxItem
	end := dueKey(now, "\xff")
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) <= 0 && len(out) < limit; k, _ = c.Next() {
			raw := b.Get(k[8:])
			if raw == nil {
				continue
			}
			var it OutboxItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return fmt.Errorf("outbox item %s: %w", k[8:], err)
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// NextOutboxAt is when the earliest pending item falls due; ok is false
// when nothing is pending.
func (db *DB) NextOutboxAt() (at time.Time, ok bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketOutboxDue).Cursor().First()
		if k == nil {
			return nil
		}
		at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), true
		return nil
	})
	return at, ok, err
}

// OutboxFilter selects items for ListOutbox.
type OutboxFilter struct {
	Dead   *bool  // nil: all; true: dead letters only; false: pending only
	Kind   string // "" = any
	CallID string // "" = any
	Cursor string // an id from a previous page's next cursor
	Limit  int    // default 100
}

// ListOutbox lists items oldest first (by id), with the cursor for the
// next page ("" when there is none).
func (db *DB) ListOutbox(f OutboxFilter) (items []OutboxItem, next string, err error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		k, v := c.First()
		if f.Cursor != "" {
			k, v = c.Seek([]byte(f.Cursor))
		}
		for ; k != nil; k, v = c.Next() {
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %s: %w", k, err)
			}
			if (f.Dead != nil && it.Dead != *f.Dead) || (f.Kind != "" && it.Kind != f.Kind) ||
				(f.CallID != "" && it.CallID != f.CallID) {
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
func (db *DB) RetryOutbox(id string, now time.Time) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketOutbox).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("outbox item %s: %w", id, ErrNotFound)
		}
		var it OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		it.Dead, it.Attempts, it.NextAt, it.UpdatedAt = false, 0, now, now
		return db.putOutbox(tx, []OutboxItem{it})
	})
}

// OutboxDepth counts pending items and dead letters.
func (db *DB) OutboxDepth() (pending, dead int, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bucketOutboxDue).Stats().KeyN
		dead = tx.Bucket(bucketOutbox).Stats().KeyN - pending
		return nil
	})
	return pending, dead, err
}

func (db *DB) signalOutbox() {
	select {
	case db.outboxCommitted <- struct{}{}:
	default: // a signal is already waiting
	}
}

// OutboxCommitted receives after a commit that wrote outbox items (new or
// rescheduled), so the one deliverer can sleep until there is work rather
// than poll. Signals collapse: one receive may stand for several commits.
func (db *DB) OutboxCommitted() <-chan struct{} { return db.outboxCommitted }
