package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// Inbox buckets.
var (
	bucketInboxEvents  = []byte("inbox_events")  // event id → Event JSON
	bucketInboxPending = []byte("inbox_pending") // event id → not_before(8) | lease_until(8), unix nanos
	bucketInboxKeys    = []byte("inbox_keys")    // dedupe key → expires(8) | event id
	bucketInboxExpiry  = []byte("inbox_expiry")  // expires(8) | dedupe key → nil, for the sweep
	bucketInboxDue     = []byte("inbox_due")     // due(8) | event id → nil: pending events by when they may be claimed
)

// maxAppendBatch bounds how many queued append requests one commit takes.
const maxAppendBatch = 512

type appendReq struct {
	evs  []store.Event
	now  time.Time
	res  store.AppendResult
	err  error
	done chan struct{}
}

// releaseLeases rebuilds the inbox's due index from the pending events,
// every lease released, counts them, notes the calls left dialing and
// makes the outbox items claimed but never settled due again: at open,
// bbolt's file lock proves the process that leased them is gone.
func (db *Store) releaseLeases() error {
	var n int64
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		n = 0
		if err := tx.DeleteBucket(bucketInboxDue); err != nil {
			return err
		}
		due, err := tx.CreateBucket(bucketInboxDue)
		if err != nil {
			return err
		}
		p := tx.Bucket(bucketInboxPending)
		type entry struct{ id, v []byte }
		var all []entry
		c := p.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			nb := int64(0)
			if len(v) == 16 {
				nb = int64(binary.BigEndian.Uint64(v[:8]))
			}
			all = append(all, entry{append([]byte(nil), k...), pendingValue(nb, 0)})
		}
		for _, e := range all {
			n++
			if err := p.Put(e.id, e.v); err != nil {
				return err
			}
			if err := due.Put(inboxDueKey(e.v, e.id), nil); err != nil {
				return err
			}
		}
		db.orphans = leasedCalls(tx)
		return releaseClaims(tx)
	})
	if err != nil {
		return fmt.Errorf("inbox: release old leases: %w", err)
	}
	db.pending.Store(n)
	return nil
}

// PendingEvents is the number of events waiting for the pipeline (leased
// or not): a counter kept with every commit, exact because only this
// process writes the file.
func (db *Store) PendingEvents(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return int(db.pending.Load()), nil
}

// AppendEvents commits evs (new ones get a ULID, status pending unless a
// terminal status is given with its reason) and fsyncs before returning.
// Events whose dedupe key is remembered are not stored again. If ctx ends
// first the commit may still happen; a retried request is then deduplicated.
func (db *Store) AppendEvents(ctx context.Context, evs []store.Event, o store.AppendOptions) (store.AppendResult, error) {
	// A context that already ended must not queue the events: the select
	// below may pick either ready case, and the writer would commit them.
	if err := ctx.Err(); err != nil {
		return store.AppendResult{}, err
	}
	if o.Now.IsZero() {
		o.Now = db.now()
	}
	req := &appendReq{evs: evs, now: o.Now.UTC(), done: make(chan struct{})}
	select {
	case db.reqs <- req:
	case <-db.stop:
		return store.AppendResult{}, errors.New("inbox: closed")
	case <-ctx.Done():
		return store.AppendResult{}, ctx.Err()
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-db.stopped:
		select {
		case <-req.done:
			return req.res, req.err
		default:
			return store.AppendResult{}, errors.New("inbox: closed")
		}
	case <-ctx.Done():
		return store.AppendResult{}, ctx.Err()
	}
}

func (db *Store) writer(sweepEvery time.Duration) {
	defer close(db.stopped)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	batch := make([]*appendReq, 0, maxAppendBatch)
	for {
		select {
		case <-db.stop:
			db.failQueued(errors.New("inbox: closed"))
			return
		case <-sweep.C:
			_, _ = db.expireKeys(db.now()) // a failed sweep is retried next tick; lookups check expiry anyway
			continue
		case r := <-db.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < maxAppendBatch {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.commit(batch)
	}
}

func (db *Store) failQueued(err error) {
	for {
		select {
		case r := <-db.reqs:
			r.err = err
			close(r.done)
		default:
			return
		}
	}
}

// commit writes every request of batch in one transaction. If that
// fails, each request is committed on its own, so one bad request fails
// only its own webhook.
func (db *Store) commit(batch []*appendReq) {
	added, err := db.writeBatch(batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			db.commit([]*appendReq{r})
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("inbox: commit events: %w (check the data dir's disk and permissions)", err)
	} else {
		db.pending.Add(added)
		if added > 0 {
			db.wake.signal(store.TopicInbox)
		}
	}
	for _, r := range batch {
		if err != nil {
			r.res, r.err = store.AppendResult{}, err
		}
		close(r.done)
	}
}

// appendTx stores r's events in tx and returns how many became pending.
func (db *Store) appendTx(tx *bbolt.Tx, r *appendReq) (int64, error) {
	events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
	keys, expiry := tx.Bucket(bucketInboxKeys), tx.Bucket(bucketInboxExpiry)
	// ULIDs and expiry times only grow: fill pages full instead of
	// splitting them in half, which writes fewer pages per commit.
	events.FillPercent, pending.FillPercent, expiry.FillPercent = 0.95, 0.95, 0.95
	tx.Bucket(bucketInboxDue).FillPercent = 0.95
	res := store.AppendResult{Events: make([]store.Event, len(r.evs)), Duplicate: make([]bool, len(r.evs))}
	var added int64
	expires := r.now.Add(db.ttl).UnixNano()
	for i, ev := range r.evs {
		dk := store.DedupeKey(ev)
		if dk != "" {
			if v := keys.Get([]byte(dk)); len(v) > 8 && int64(binary.BigEndian.Uint64(v[:8])) > r.now.UnixNano() {
				orig := ev
				if raw := events.Get(v[8:]); raw != nil {
					_ = json.Unmarshal(raw, &orig) // shown to the caller only; the stored event is untouched
				}
				orig.ID = string(v[8:])
				res.Events[i], res.Duplicate[i] = orig, true
				res.Duplicates++
				continue
			}
		}
		ev = store.NewEvent(ev, db.NewID(r.now), r.now)
		raw, err := json.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("encode event: %w", err)
		}
		if err := events.Put([]byte(ev.ID), raw); err != nil {
			return 0, err
		}
		if err := indexEventByObject(tx, &ev); err != nil {
			return 0, err
		}
		if ev.Status == store.EventPending {
			if err := setPending(tx, []byte(ev.ID), ev.NotBefore.UnixNano(), 0); err != nil {
				return 0, err
			}
			added++
			res.Accepted++
		} else {
			res.Ignored++
		}
		if dk != "" {
			if err := keys.Put([]byte(dk), append(binary.BigEndian.AppendUint64(nil, uint64(expires)), ev.ID...)); err != nil {
				return 0, err
			}
			if err := expiry.Put(append(binary.BigEndian.AppendUint64(nil, uint64(expires)), dk...), nil); err != nil {
				return 0, err
			}
		}
		res.Events[i] = ev
	}
	r.res = res
	return added, nil
}

// setPending records id as pending, claimable from max(notBefore,
// leaseUntil), and moves its entry in the due index.
func setPending(tx *bbolt.Tx, id []byte, notBefore, leaseUntil int64) error {
	pending, due := tx.Bucket(bucketInboxPending), tx.Bucket(bucketInboxDue)
	if old := pending.Get(id); old != nil {
		if err := due.Delete(inboxDueKey(old, id)); err != nil {
			return err
		}
	}
	v := pendingValue(notBefore, leaseUntil)
	if err := pending.Put(id, v); err != nil {
		return err
	}
	return due.Put(inboxDueKey(v, id), nil)
}

// clearPending takes id out of the queue; false if it was not in it.
func clearPending(tx *bbolt.Tx, id []byte) (bool, error) {
	pending, due := tx.Bucket(bucketInboxPending), tx.Bucket(bucketInboxDue)
	old := pending.Get(id)
	if old == nil {
		return false, nil
	}
	if err := due.Delete(inboxDueKey(old, id)); err != nil {
		return false, err
	}
	return true, pending.Delete(id)
}

// inboxDueKey is the due-index key of a pending value: when it may be claimed
// (the later of not_before and the lease), then the id.
func inboxDueKey(v, id []byte) []byte {
	var at uint64
	if len(v) == 16 {
		at = max(binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]))
	}
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), at), id...)
}

func pendingValue(notBefore, leaseUntil int64) []byte {
	if notBefore < 0 {
		notBefore = 0
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(notBefore))
	return binary.BigEndian.AppendUint64(v, uint64(leaseUntil))
}

// ExpireKeys forgets dedupe keys that expired by now and returns how many
// (the writer does it every Options.SweepEvery).
func (db *Store) ExpireKeys(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return db.expireKeys(now)
}

func (db *Store) expireKeys(now time.Time) (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		n = 0
		keys, expiry := tx.Bucket(bucketInboxKeys), tx.Bucket(bucketInboxExpiry)
		limit := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
		c := expiry.Cursor()
		var done [][]byte
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) <= 0 && len(done) < 10000; k, _ = c.Next() {
			done = append(done, append([]byte(nil), k...))
		}
		for _, k := range done {
			dk := k[8:]
			// A key re-used after expiry has a newer entry: only delete if
			// the stored expiry is this one.
			if v := keys.Get(dk); len(v) >= 8 && bytes.Equal(v[:8], k[:8]) {
				if err := keys.Delete(dk); err != nil {
					return err
				}
				n++
			}
			if err := expiry.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: expire dedupe keys: %w", err)
	}
	return n, nil
}
