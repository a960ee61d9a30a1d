package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// Schedule buckets: the due index of waiting attempts, per dialer, and the
// lease index of attempts being dialed.
var (
	bucketDue    = []byte("schedule_due")    // dialer\0 due+id (status scheduled or retry_scheduled)
	bucketLeases = []byte("schedule_leases") // lease+id (status dialing)
)

// scheduleIndexes lists the schedule entries a call in this state has.
func scheduleIndexes(c *store.Call) []indexEntry {
	switch {
	case (c.Status == store.CallScheduled || c.Status == store.CallRetryScheduled) && c.NextAttemptAt != nil:
		k := append(join(c.Dialer, ""), timeKey(*c.NextAttemptAt)...)
		return []indexEntry{{bucketDue, append(k, c.ID...), []byte{}}}
	case c.Status == store.CallDialing && c.LeaseUntil != nil:
		return []indexEntry{{bucketLeases, append(timeKey(*c.LeaseUntil), c.ID...), []byte(c.Dialer)}}
	}
	return nil
}

// NextDue returns the earliest due time of a waiting attempt on dialer.
func (db *Store) NextDue(ctx context.Context, dialer string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	var t time.Time
	var ok bool
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		prefix := join(dialer, "")
		k, _ := tx.Bucket(bucketDue).Cursor().Seek(prefix)
		if k != nil && bytes.HasPrefix(k, prefix) && len(k) >= len(prefix)+8 {
			t, ok = fromTimeKey(k[len(prefix):]), true
		}
		return nil
	})
	return t, ok, err
}

// DueCalls returns up to limit calls waiting on dialer whose attempt is
// due at or before now, earliest first.
func (db *Store) DueCalls(ctx context.Context, dialer string, now time.Time, limit int) ([]store.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Call
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for _, id := range dueIDs(tx, dialer, now, limit) {
			c, err := getCall(tx, id)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func dueIDs(tx *bbolt.Tx, dialer string, now time.Time, limit int) []string {
	prefix := join(dialer, "")
	end := append(append([]byte(nil), prefix...), timeKey(now)...)
	var ids []string
	c := tx.Bucket(bucketDue).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(ids) < limit; k, _ = c.Next() {
		if len(k) < len(end) || bytes.Compare(k[:len(end)], end) > 0 {
			break
		}
		ids = append(ids, string(k[len(end):]))
	}
	return ids
}

// ClaimDue takes up to limit attempts due on dialer at now, earliest first,
// and hands each call to fn in one transaction, with dnd saying whether the
// call's number is on the do-not-call list, read in that same transaction:
// a number listed before the claim commits is seen, so the decision to
// dial and the list agree. fn moves the call on (to dialing with a lease,
// to a later time if its window has closed, or to a final status such as
// blocked) and reports whether it claimed it for dialing; the outbox items
// it returns are committed with the change; returning ErrNoChange leaves
// the call untouched. ClaimDue returns the claimed calls as written.
//
// (On a SQL backend this is one transaction too: the due rows locked FOR
// UPDATE SKIP LOCKED, joined with an EXISTS on the DND table.)
func (db *Store) ClaimDue(ctx context.Context, dialer string, now time.Time, limit int, fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var claimed []store.Call
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		claimed = claimed[:0]
		for _, id := range dueIDs(tx, dialer, now, limit) {
			old, err := getCall(tx, id)
			if err != nil {
				return err
			}
			c := store.CloneCall(old)
			ok, items, err := fn(&c, listedDND(tx, c.ToNumber))
			if errors.Is(err, store.ErrNoChange) {
				continue
			}
			if err != nil {
				return err
			}
			if err := db.putCall(tx, &old, &c); err != nil {
				return err
			}
			if err := db.putOutbox(tx, items); err != nil {
				return err
			}
			if ok {
				claimed = append(claimed, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim due calls on dialer %s: %w", dialer, err)
	}
	return claimed, nil
}

// DueDialers lists the dialers that have waiting attempts, so a start-up
// can warn about calls whose dialer is no longer configured.
func (db *Store) DueDialers(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var names []string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				k, _ = c.Next()
				continue
			}
			names = append(names, string(k[:i]))
			k, _ = c.Seek(append(append([]byte(nil), k[:i]...), 1))
		}
		return nil
	})
	return names, err
}

// NextLease returns the earliest lease expiry of an attempt being dialed.
func (db *Store) NextLease(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	var t time.Time
	var ok bool
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketLeases).Cursor().First(); len(k) >= 8 {
			t, ok = fromTimeKey(k[:8]), true
		}
		return nil
	})
	return t, ok, err
}

// ExpiredLeases returns the ids of up to limit calls in dialing whose lease
// ran out at or before now, earliest first.
func (db *Store) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ids []string
	end := timeKey(now)
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLeases).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
			if len(k) < 8 || bytes.Compare(k[:8], end) > 0 {
				break
			}
			ids = append(ids, string(k[8:]))
		}
		return nil
	})
	return ids, err
}

// InFlight counts the calls dialing (under a lease) on dialer. It reads
// the lease index, whose size is bounded by the dialers' concurrency.
func (db *Store) InFlight(ctx context.Context, dialer string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLeases).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if string(v) == dialer {
				n++
			}
		}
		return nil
	})
	return n, err
}

// leasedCalls lists the ids of the calls dialing under a lease.
func leasedCalls(tx *bbolt.Tx) []string {
	var ids []string
	c := tx.Bucket(bucketLeases).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > 8 {
			ids = append(ids, string(k[8:]))
		}
	}
	return ids
}

// OrphanedDialing returns the calls that were dialing when the file was
// opened and still are: bbolt's file lock proves the process that dialed
// them is gone, whatever their lease says (now is not needed to tell).
func (db *Store) OrphanedDialing(ctx context.Context, now time.Time) ([]store.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Call
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for _, id := range db.orphans {
			c, err := getCall(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if c.Status == store.CallDialing {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// ActiveCalls returns the non-final calls to number: agentID's one, or
// every agent's when agentID is empty.
func (db *Store) ActiveCalls(ctx context.Context, agentID, number string) ([]store.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Call
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if agentID != "" {
			id := tx.Bucket(bucketCallsActive).Get(join(agentID, number))
			if id == nil {
				return nil
			}
			c, err := getCall(tx, string(id))
			if err != nil {
				return err
			}
			if !store.Final(c.Status) {
				out = append(out, c)
			}
			return nil
		}
		prefix := join(number, "")
		cur := tx.Bucket(bucketCallsByPhone).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) < len(prefix)+9 {
				continue
			}
			c, err := getCall(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if !store.Final(c.Status) {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}
