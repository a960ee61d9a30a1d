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

// ClaimEvents leases up to maxEvents pending events that are due (NotBefore ≤ now
// and no unexpired lease), oldest first. A claimed event is not claimed
// again until lease passes or SaveEvents releases it; after a crash the
// next Open releases every lease.
func (db *Store) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, maxEvents int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Event
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		out = out[:0]
		events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
		limit := binary.BigEndian.AppendUint64(nil, uint64(max(now.UnixNano(), 0)))
		var ids [][]byte
		c := tx.Bucket(bucketInboxDue).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < maxEvents && bytes.Compare(k[:8], limit) <= 0; k, _ = c.Next() {
			ids = append(ids, append([]byte(nil), k[8:]...))
		}
		for _, id := range ids {
			v := pending.Get(id)
			raw := events.Get(id)
			if v == nil || raw == nil {
				continue
			}
			var ev store.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("decode event %s: %w", id, err)
			}
			if err := setPending(tx, id, int64(binary.BigEndian.Uint64(v[:8])), now.Add(lease).UnixNano()); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: claim events: %w", err)
	}
	return out, nil
}

// SaveEvents stores each ev (found by ID) and releases its lease, in one
// commit. A pending ev becomes due at its NotBefore; any other status
// leaves the queue.
func (db *Store) SaveEvents(ctx context.Context, evs []store.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var delta int64
	// again: an event is pending and due again, so the pipeline has work
	// (one waiting for a later NotBefore is found by its poll).
	again, now := false, db.now()
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		delta, again = 0, false
		events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
		for _, ev := range evs {
			if events.Get([]byte(ev.ID)) == nil {
				return fmt.Errorf("event %s: %w", ev.ID, store.ErrNotFound)
			}
			if ev.UpdatedAt.IsZero() {
				ev.UpdatedAt = db.now().UTC()
			}
			raw, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event %s: %w", ev.ID, err)
			}
			if err := events.Put([]byte(ev.ID), raw); err != nil {
				return err
			}
			was := pending.Get([]byte(ev.ID)) != nil
			if ev.Status == store.EventPending {
				if err := setPending(tx, []byte(ev.ID), ev.NotBefore.UnixNano(), 0); err != nil {
					return err
				}
				if !was {
					delta++
				}
				again = again || !ev.NotBefore.After(now)
			} else if was {
				if _, err := clearPending(tx, []byte(ev.ID)); err != nil {
					return err
				}
				delta--
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: save events: %w", err)
	}
	db.pending.Add(delta)
	if again {
		db.wake.signal(store.TopicInbox)
	}
	return nil
}

// GetEvent returns the event with id, or ErrNotFound.
func (db *Store) GetEvent(ctx context.Context, id string) (store.Event, error) {
	if err := ctx.Err(); err != nil {
		return store.Event{}, err
	}
	var ev store.Event
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketInboxEvents).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("event %s: %w", id, store.ErrNotFound)
		}
		return json.Unmarshal(raw, &ev)
	})
	return ev, err
}

// ListEvents returns matching events newest first and the cursor of the
// next page ("" when there is none).
func (db *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var out []store.Event
	next := ""
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		next, err = scanEvents(tx, f, func(ev *store.Event) bool {
			out = append(out, *ev)
			return len(out) < f.Limit
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("inbox: list events: %w", err)
	}
	return out, next, nil
}

// ReplayEvent puts a failed, skipped, ignored or blocked event back in the
// queue: status pending, reason and tries cleared, the old outcome kept in
// History. Pending and called events give ErrNotReplayable.
func (db *Store) ReplayEvent(ctx context.Context, id string, now time.Time) (store.Event, error) {
	if err := ctx.Err(); err != nil {
		return store.Event{}, err
	}
	var ev store.Event
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		var err error
		ev, err = replayEvent(tx, id, now)
		return err
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("inbox: replay: %w", err)
	}
	db.pending.Add(1)
	db.wake.signal(store.TopicInbox)
	return ev, nil
}

func replayEvent(tx *bbolt.Tx, id string, now time.Time) (store.Event, error) {
	events := tx.Bucket(bucketInboxEvents)
	raw := events.Get([]byte(id))
	if raw == nil {
		return store.Event{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
	}
	var ev store.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return store.Event{}, fmt.Errorf("decode event %s: %w", id, err)
	}
	if err := store.Replay(&ev, now); err != nil {
		return store.Event{}, err
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return store.Event{}, err
	}
	if err := events.Put([]byte(id), raw); err != nil {
		return store.Event{}, err
	}
	return ev, setPending(tx, []byte(id), 0, 0)
}
