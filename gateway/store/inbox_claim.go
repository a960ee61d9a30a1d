package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ClaimEvents leases up to maxEvents pending events that are due (NotBefore ≤ now
// and no unexpired lease), oldest first. A claimed event is not claimed
// again until lease passes or SaveEvent releases it; after a crash the
// next NewInbox releases every lease.
func (in *Inbox) ClaimEvents(now time.Time, lease time.Duration, maxEvents int) ([]Event, error) {
	var out []Event
	err := in.db.bolt.Update(func(tx *bolt.Tx) error {
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
			var ev Event
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

// SaveEvent stores ev (found by ID) and releases its lease. A pending ev
// becomes due at its NotBefore; any other status leaves the queue.
func (in *Inbox) SaveEvent(ev Event) error { return in.SaveEvents([]Event{ev}) }

// SaveEvents is SaveEvent for many events in one commit.
func (in *Inbox) SaveEvents(evs []Event) error {
	var delta int64
	err := in.db.bolt.Update(func(tx *bolt.Tx) error {
		delta = 0
		events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
		for _, ev := range evs {
			if events.Get([]byte(ev.ID)) == nil {
				return fmt.Errorf("event %s: %w", ev.ID, ErrNotFound)
			}
			if ev.UpdatedAt.IsZero() {
				ev.UpdatedAt = in.now().UTC()
			}
			raw, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event %s: %w", ev.ID, err)
			}
			if err := events.Put([]byte(ev.ID), raw); err != nil {
				return err
			}
			was := pending.Get([]byte(ev.ID)) != nil
			if ev.Status == EventPending {
				if err := setPending(tx, []byte(ev.ID), ev.NotBefore.UnixNano(), 0); err != nil {
					return err
				}
				if !was {
					delta++
				}
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
	in.pending.Add(delta)
	return nil
}

// GetEvent returns the event with id, or ErrNotFound.
func (in *Inbox) GetEvent(id string) (Event, error) {
	var ev Event
	err := in.db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketInboxEvents).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("event %s: %w", id, ErrNotFound)
		}
		return json.Unmarshal(raw, &ev)
	})
	return ev, err
}

// EventFilter selects events for ListEvents; empty fields match all.
// Since is inclusive and Until exclusive on ReceivedAt.
type EventFilter struct {
	Status  string
	AgentID string
	Type    string // plugin name, e.g. hubspot
	Since   time.Time
	Until   time.Time
	// Search narrows the list to events matching a query (search.go); a
	// page then reads at most MaxSearchScan events.
	Search Search
	Limit  int    // default 50, at most 1000
	Cursor string // NextCursor of the previous page
}

// ListEvents returns matching events newest first and the cursor of the
// next page ("" when there is none).
func (in *Inbox) ListEvents(f EventFilter) ([]Event, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var out []Event
	next := ""
	err := in.db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		next, err = scanEvents(tx, f, func(ev *Event) bool {
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
func (in *Inbox) ReplayEvent(id string, now time.Time) (Event, error) {
	var ev Event
	err := in.db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		ev, err = replayEvent(tx, id, now)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("inbox: replay: %w", err)
	}
	in.pending.Add(1)
	return ev, nil
}

func replayEvent(tx *bolt.Tx, id string, now time.Time) (Event, error) {
	events := tx.Bucket(bucketInboxEvents)
	raw := events.Get([]byte(id))
	if raw == nil {
		return Event{}, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, fmt.Errorf("decode event %s: %w", id, err)
	}
	if ev.ErasedAt != nil {
		return Event{}, fmt.Errorf("event %s: the person's data was erased: %w", id, ErrNotReplayable)
	}
	if !Replayable(ev.Status) {
		return Event{}, fmt.Errorf("event %s is %s: %w (only failed, skipped, ignored or blocked events are)", id, ev.Status, ErrNotReplayable)
	}
	ev.History = append(ev.History, fmt.Sprintf("%s %s: %s", ev.UpdatedAt.UTC().Format(time.RFC3339), ev.Status, ev.Reason))
	ev.Status, ev.Reason, ev.Attempts, ev.NotBefore, ev.UpdatedAt = EventPending, "", 0, time.Time{}, now.UTC()
	raw, err := json.Marshal(ev)
	if err != nil {
		return Event{}, err
	}
	if err := events.Put([]byte(id), raw); err != nil {
		return Event{}, err
	}
	return ev, setPending(tx, []byte(id), 0, 0)
}

// Replayable reports whether an event with this status may be replayed.
func Replayable(status string) bool {
	switch status {
	case EventFailed, EventSkipped, EventIgnored, EventBlocked:
		return true
	}
	return false
}
