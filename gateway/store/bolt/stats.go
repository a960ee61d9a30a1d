package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// CallStats sums up the calls created between consecutive bounds, one
// PeriodStats per pair (bounds ascending, at least two). It walks the
// calls_by_created index from the last bound back to the first and reads
// only the calls created in that range, so its cost follows the calls in
// the window, not the calls stored.
func (db *Store) CallStats(ctx context.Context, bounds []time.Time) ([]store.PeriodStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := store.NewPeriods(bounds)
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(bounds))
	for i, b := range bounds {
		keys[i] = timeKey(b)
	}
	err = db.bolt.View(func(tx *bbolt.Tx) error {
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
			var sc store.StatsCall
			if err := json.Unmarshal(raw, &sc); err != nil {
				return fmt.Errorf("call %s: corrupt record: %w", k[8:], err)
			}
			out[p].Add(sc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: call stats: %w", err)
	}
	return out, nil
}
