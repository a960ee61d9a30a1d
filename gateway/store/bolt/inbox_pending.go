package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// PendingByAgent counts the pending events (leased or not) by agent and
// then by integration: what a config reload must not strand.
func (db *Store) PendingByAgent(ctx context.Context) (map[string]map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketInboxEvents)
		c := tx.Bucket(bucketInboxPending).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			raw := events.Get(k)
			if raw == nil {
				continue
			}
			var ev struct {
				AgentID     string `json:"agent_id"`
				Integration string `json:"integration"`
			}
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("decode event %s: %w", k, err)
			}
			if out[ev.AgentID] == nil {
				out[ev.AgentID] = map[string]int{}
			}
			out[ev.AgentID][ev.Integration]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: count pending events: %w", err)
	}
	return out, nil
}

// WakeOrphans makes the pending events that wait for a missing agent or
// integration (OrphanedAt set) due at now when back says their agent and
// integration are in the config again, so a reload that brings them back
// does not wait for the next re-check. Leased events are left to their
// worker. It returns how many were woken.
func (db *Store) WakeOrphans(ctx context.Context, now time.Time, back func(agent, integration string) bool) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Find them in a read transaction: most reloads bring nobody back and
	// need no commit.
	var ids [][]byte
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketInboxEvents)
		c := tx.Bucket(bucketInboxPending).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) == 16 && int64(binary.BigEndian.Uint64(v[8:])) > now.UnixNano() {
				continue // leased: its worker settles it
			}
			ev, ok, err := waitingEvent(events.Get(k), k, now)
			if err != nil {
				return err
			}
			if ok && back(ev.AgentID, ev.Integration) {
				ids = append(ids, append([]byte(nil), k...))
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		if err != nil {
			err = fmt.Errorf("inbox: find events of returned agents: %w", err)
		}
		return 0, err
	}
	n := 0
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		n = 0
		events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
		for _, id := range ids {
			v := pending.Get(id)
			if v == nil || (len(v) == 16 && int64(binary.BigEndian.Uint64(v[8:])) > now.UnixNano()) {
				continue // settled or claimed since
			}
			ev, ok, err := waitingEvent(events.Get(id), id, now)
			if err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			store.Wake(&ev, now)
			raw, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event %s: %w", id, err)
			}
			if err := events.Put(id, raw); err != nil {
				return err
			}
			if err := setPending(tx, id, now.UnixNano(), 0); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: wake events of returned agents: %w", err)
	}
	if n > 0 {
		db.wake.signal(store.TopicInbox)
	}
	return n, nil
}

// waitingEvent decodes raw and says whether it waits for a missing agent
// or integration past now.
func waitingEvent(raw, id []byte, now time.Time) (store.Event, bool, error) {
	var ev store.Event
	if raw == nil {
		return ev, false, nil
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, false, fmt.Errorf("decode event %s: %w", id, err)
	}
	return ev, store.WaitsForConfig(ev, now), nil
}
