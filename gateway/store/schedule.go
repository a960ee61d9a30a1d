package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Schedule buckets: the due index of waiting attempts, per dialer, and the
// lease index of attempts being dialed.
var (
	bucketDue    = []byte("schedule_due")    // dialer\0 due+id (status scheduled or retry_scheduled)
	bucketLeases = []byte("schedule_leases") // lease+id (status dialing)
)

// scheduleIndexes lists the schedule entries a call in this state has.
func scheduleIndexes(c *Call) []indexEntry {
	switch {
	case (c.Status == CallScheduled || c.Status == CallRetryScheduled) && c.NextAttemptAt != nil:
		k := append(join(c.Dialer, ""), timeKey(*c.NextAttemptAt)...)
		return []indexEntry{{bucketDue, append(k, c.ID...), []byte{}}}
	case c.Status == CallDialing && c.LeaseUntil != nil:
		return []indexEntry{{bucketLeases, append(timeKey(*c.LeaseUntil), c.ID...), []byte(c.Dialer)}}
	}
	return nil
}

// NextDue returns the earliest due time of a waiting attempt on dialer.
func (db *DB) NextDue(dialer string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
func (db *DB) DueCalls(dialer string, now time.Time, limit int) ([]Call, error) {
	var out []Call
	err := db.bolt.View(func(tx *bolt.Tx) error {
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

func dueIDs(tx *bolt.Tx, dialer string, now time.Time, limit int) []string {
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
func (db *DB) ClaimDue(dialer string, now time.Time, limit int, fn func(c *Call, dnd bool) (bool, []OutboxItem, error)) ([]Call, error) {
	var claimed []Call
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		claimed = claimed[:0]
		for _, id := range dueIDs(tx, dialer, now, limit) {
			old, err := getCall(tx, id)
			if err != nil {
				return err
			}
			c := cloneCall(old)
			ok, items, err := fn(&c, listedDND(tx, c.ToNumber))
			if errors.Is(err, ErrNoChange) {
				continue
			}
			if err != nil {
				return err
			}
			if err := putCall(tx, &old, &c); err != nil {
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
func (db *DB) DueDialers() ([]string, error) {
	var names []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
func (db *DB) NextLease() (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLeases).Cursor().First(); len(k) >= 8 {
			t, ok = fromTimeKey(k[:8]), true
		}
		return nil
	})
	return t, ok, err
}

// ExpiredLeases returns the ids of up to limit calls in dialing whose lease
// ran out at or before now, earliest first.
func (db *DB) ExpiredLeases(now time.Time, limit int) ([]string, error) {
	var ids []string
	end := timeKey(now)
	err := db.bolt.View(func(tx *bolt.Tx) error {
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

// DialingCalls returns every call in dialing (with a lease), for start-up
// recovery.
func (db *DB) DialingCalls() ([]Call, error) {
	var out []Call
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLeases).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				continue
			}
			call, err := getCall(tx, string(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, call)
		}
		return nil
	})
	return out, err
}

// ActiveCalls returns the non-final calls to number: agentID's one, or
// every agent's when agentID is empty.
func (db *DB) ActiveCalls(agentID, number string) ([]Call, error) {
	var out []Call
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if agentID != "" {
			id := tx.Bucket(bucketCallsActive).Get(join(agentID, number))
			if id == nil {
				return nil
			}
			c, err := getCall(tx, string(id))
			if err != nil {
				return err
			}
			if !Final(c.Status) {
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
			if !Final(c.Status) {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}
