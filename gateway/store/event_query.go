package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// scanEvents walks the inbox newest first and calls yield with each event
// matching f until yield returns false. It returns the cursor of the next
// page: the last yielded id when another match follows, or (for a search)
// the last id read when MaxSearchScan events were read; "" at the end.
func scanEvents(tx *bolt.Tx, f EventFilter, yield func(ev *Event) bool) (string, error) {
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
		if search && scanned == MaxSearchScan {
			return last, nil // the scan stops here; the next page resumes it
		}
		scanned++
		var ev Event
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
		if (!f.Until.IsZero() && !ev.ReceivedAt.Before(f.Until)) ||
			(f.Status != "" && ev.Status != f.Status) || (f.AgentID != "" && ev.AgentID != f.AgentID) || (f.Type != "" && ev.Type != f.Type) {
			continue
		}
		if search {
			var call *Call
			if ev.CallID != "" {
				if raw := calls.Get([]byte(ev.CallID)); raw != nil {
					call = new(Call)
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

// EventView is an event as an operator reads it: with the current status
// and reason of the call it became. An event's own status says what the
// pipeline did ("called": it became a call); the call's says what
// happened since (completed, dropped, retry_scheduled …).
type EventView struct {
	Event
	CallStatus string `json:"call_status,omitempty"`
	CallReason string `json:"call_reason,omitempty"`
	// CallTimezone is the call's policy timezone, for showing times.
	CallTimezone string `json:"-"`
}

// ShownStatus is the status to show: the call's when the event became
// one, else the event's.
func (v EventView) ShownStatus() string {
	if v.CallStatus != "" {
		return v.CallStatus
	}
	return v.Status
}

// ShownReason is the reason to show with ShownStatus.
func (v EventView) ShownReason() string {
	if v.CallStatus != "" {
		return v.CallReason
	}
	return v.Reason
}

// ViewEvents joins each event with its call's current status, in one read.
// An event whose call is gone (or that has none) keeps its own status.
func (in *Inbox) ViewEvents(evs []Event) ([]EventView, error) {
	out := make([]EventView, len(evs))
	err := in.db.bolt.View(func(tx *bolt.Tx) error {
		for i, ev := range evs {
			out[i] = EventView{Event: ev}
			if ev.CallID == "" {
				continue
			}
			c, err := getCall(tx, ev.CallID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[i].CallStatus, out[i].CallReason, out[i].CallTimezone = c.Status, c.Reason, c.Policy.Timezone
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: read the events' calls: %w", err)
	}
	return out, nil
}

// MaxBulkReplay bounds how many events one ReplayEvents call replays; a
// filter matching more leaves the rest for the next call (Truncated).
const MaxBulkReplay = 10000

// bulkReplayBatch is how many replays share one transaction (one fsync).
const bulkReplayBatch = 500

// BulkReplay is what ReplayEvents did.
type BulkReplay struct {
	// Replayed events went back to pending.
	Replayed int `json:"replayed"`
	// Skipped events matched the filter but may not be replayed: pending,
	// called, or erased.
	Skipped int `json:"skipped"`
	// Truncated is set when more than MaxBulkReplay events matched: the
	// rest are left as they were.
	Truncated bool `json:"truncated,omitempty"`
}

// ReplayEvents replays every event matching f (Limit and Cursor are
// ignored), as ReplayEvent does one by one, up to MaxBulkReplay. With
// dryRun nothing changes and the result says what would happen.
func (in *Inbox) ReplayEvents(f EventFilter, now time.Time, dryRun bool) (BulkReplay, error) {
	f.Cursor = ""
	var res BulkReplay
	var ids []string
	err := in.db.bolt.View(func(tx *bolt.Tx) error {
		for {
			next, err := scanEvents(tx, f, func(ev *Event) bool {
				if len(ids) == MaxBulkReplay {
					res.Truncated = true
					return false
				}
				if ev.ErasedAt != nil || !Replayable(ev.Status) {
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
		return BulkReplay{}, fmt.Errorf("inbox: bulk replay: %w", err)
	}
	if dryRun {
		res.Replayed = len(ids)
		return res, nil
	}
	for len(ids) > 0 {
		batch := ids[:min(bulkReplayBatch, len(ids))]
		ids = ids[len(batch):]
		done := 0
		err := in.db.bolt.Update(func(tx *bolt.Tx) error {
			done = 0
			for _, id := range batch {
				_, err := replayEvent(tx, id, now)
				if errors.Is(err, ErrNotReplayable) || errors.Is(err, ErrNotFound) {
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
		in.pending.Add(int64(done))
	}
	return res, nil
}
