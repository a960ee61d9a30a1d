package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// scanEvents walks the inbox newest first and calls yield with each event
// matching f until yield returns false. It returns the cursor of the next
// page: the last yielded id when another match follows, or (for a search)
// the last id read when MaxSearchScan events were read; "" at the end.
func scanEvents(tx *bbolt.Tx, f store.EventFilter, yield func(ev *store.Event) bool) (string, error) {
	calls := tx.Bucket(bucketCalls)
	c := tx.Bucket(bucketInboxEvents).Cursor()
	var k, v []byte
	switch {
	case f.Cursor != "":
		k, v = c.Seek([]byte(f.Cursor))
		if k == nil {
			k, v = c.Last()
		} else if string(k) >= f.Cursor {
			k, v = c.Prev()
		}
	default:
		k, v = c.Last()
	}
	search := !f.Search.IsZero()
	stopped, last, scanned := false, "", 0
	for ; k != nil; k, v = c.Prev() {
		if search && scanned == store.MaxSearchScan {
			return last, nil // the scan stops here; the next page resumes it
		}
		scanned++
		var ev store.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return "", fmt.Errorf("decode event %s: %w", k, err)
		}
		// Ids are ULIDs stamped with ReceivedAt: older ones only follow.
		if !f.Since.IsZero() && ev.ReceivedAt.Before(f.Since) {
			return "", nil
		}
		if !stopped {
			last = ev.ID
		}
		if !f.Match(&ev) {
			continue
		}
		if search {
			var call *store.Call
			if ev.CallID != "" {
				if raw := calls.Get([]byte(ev.CallID)); raw != nil {
					call = new(store.Call)
					if err := json.Unmarshal(raw, call); err != nil {
						return "", fmt.Errorf("call %s: corrupt record: %w", ev.CallID, err)
					}
				}
			}
			if !f.Search.MatchEvent(&ev, call) {
				continue
			}
		}
		if stopped {
			return last, nil // another match follows the page
		}
		last = ev.ID
		stopped = !yield(&ev)
	}
	return "", nil
}

// ViewEvents joins each event with its call's current status, in one read.
// An event whose call is gone (or that has none) keeps its own status.
func (db *Store) ViewEvents(ctx context.Context, evs []store.Event) ([]store.EventView, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]store.EventView, len(evs))
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for i, ev := range evs {
			out[i] = store.EventView{Event: ev}
			if ev.CallID == "" {
				continue
			}
			c, err := getCall(tx, ev.CallID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[i] = store.ViewOf(ev, &c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: read the events' calls: %w", err)
	}
	return out, nil
}

// bulkReplayBatch is how many replays share one transaction (one fsync).
const bulkReplayBatch = 500

// ReplayEvents replays every event matching f (Limit and Cursor are
// ignored), as ReplayEvent does one by one, up to MaxBulkReplay. With
// dryRun nothing changes and the result says what would happen.
func (db *Store) ReplayEvents(ctx context.Context, f store.EventFilter, now time.Time, dryRun bool) (store.BulkReplay, error) {
	if err := ctx.Err(); err != nil {
		return store.BulkReplay{}, err
	}
	f.Cursor = ""
	var res store.BulkReplay
	var ids []string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for {
			next, err := scanEvents(tx, f, func(ev *store.Event) bool {
				if len(ids) == store.MaxBulkReplay {
					res.Truncated = true
					return false
				}
				if !store.CanReplay(*ev) {
					res.Skipped++
				} else {
					ids = append(ids, ev.ID)
				}
				return true
			})
			if err != nil || next == "" || res.Truncated {
				return err
			}
			f.Cursor = next // a search stopped at its scan bound: go on
		}
	})
	if err != nil {
		return store.BulkReplay{}, fmt.Errorf("inbox: bulk replay: %w", err)
	}
	if dryRun {
		res.Replayed = len(ids)
		return res, nil
	}
	for len(ids) > 0 {
		batch := ids[:min(bulkReplayBatch, len(ids))]
		ids = ids[len(batch):]
		done := 0
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			done = 0
			for _, id := range batch {
				_, err := replayEvent(tx, id, now)
				if errors.Is(err, store.ErrNotReplayable) || errors.Is(err, store.ErrNotFound) {
					continue // changed since the scan (a worker, another replay)
				}
				if err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("inbox: bulk replay: %w (%d events replayed before)", err, res.Replayed)
		}
		res.Replayed += done
		res.Skipped += len(batch) - done
		db.pending.Add(int64(done))
		if done > 0 {
			db.wake.signal(store.TopicInbox)
		}
	}
	return res, nil
}
