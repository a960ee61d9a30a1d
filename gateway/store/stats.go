package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PeriodStats sums up the calls created in one period [Start, End).
type PeriodStats struct {
	Start, End time.Time
	Calls      int            // calls created in the period
	ByStatus   map[string]int // their current statuses
	// Ended counts the calls with at least one attempt that ended;
	// Completed those of them whose status is completed. Their ratio is
	// the connect rate.
	Ended, Completed int
	// Timed counts the ended attempts that report a duration, and TalkS
	// sums their duration_s: TalkS/Timed is the average duration.
	Timed int
	TalkS float64
}

// statsCall is the part of a stored call the statistics read; decoding
// only these fields keeps a scan cheap.
type statsCall struct {
	Status   string `json:"status"`
	Attempts []struct {
		EndedAt   *time.Time `json:"ended_at"`
		DurationS float64    `json:"duration_s"`
	} `json:"attempts"`
}

// CallStats sums up the calls created between consecutive bounds, one
// PeriodStats per pair (bounds ascending, at least two). It walks the
// calls_by_created index from the last bound back to the first and reads
// only the calls created in that range, so its cost follows the calls in
// the window, not the calls stored.
func (db *DB) CallStats(bounds []time.Time) ([]PeriodStats, error) {
	if len(bounds) < 2 {
		return nil, errors.New("store: call stats: need at least two bounds")
	}
	out := make([]PeriodStats, len(bounds)-1)
	keys := make([][]byte, len(bounds))
	for i, b := range bounds {
		if i > 0 && !b.After(bounds[i-1]) {
			return nil, fmt.Errorf("store: call stats: bound %d (%s) is not after the one before", i, b.Format(time.RFC3339))
		}
		keys[i] = timeKey(b)
		if i > 0 {
			out[i-1] = PeriodStats{Start: bounds[i-1], End: b, ByStatus: map[string]int{}}
		}
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		calls := tx.Bucket(bucketCalls)
		c := tx.Bucket(bucketCallsByCreated).Cursor()
		k, _ := c.Seek(keys[len(keys)-1])
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		p := len(out) - 1
		for ; k != nil; k, _ = c.Prev() {
			if len(k) < 9 {
				continue
			}
			at := k[:8]
			for p >= 0 && bytes.Compare(at, keys[p]) < 0 {
				p--
			}
			if p < 0 {
				break
			}
			raw := calls.Get(k[8:])
			if raw == nil {
				continue
			}
			var sc statsCall
			if err := json.Unmarshal(raw, &sc); err != nil {
				return fmt.Errorf("call %s: corrupt record: %w", k[8:], err)
			}
			ps := &out[p]
			ps.Calls++
			ps.ByStatus[sc.Status]++
			ended := false
			for _, a := range sc.Attempts {
				if a.EndedAt == nil {
					continue
				}
				ended = true
				if a.DurationS > 0 {
					ps.Timed++
					ps.TalkS += a.DurationS
				}
			}
			if ended {
				ps.Ended++
				if sc.Status == CallCompleted {
					ps.Completed++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: call stats: %w", err)
	}
	return out, nil
}
