package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// Inbox buckets.
var (
	bucketInboxEvents  = []byte("inbox_events")  // event id → Event JSON
	bucketInboxPending = []byte("inbox_pending") // event id → not_before(8) | lease_until(8), unix nanos
	bucketInboxKeys    = []byte("inbox_keys")    // dedupe key → expires(8) | event id
	bucketInboxExpiry  = []byte("inbox_expiry")  // expires(8) | dedupe key → nil, for the sweep
	bucketInboxDue     = []byte("inbox_due")     // due(8) | event id → nil: pending events by when they may be claimed
)

// ErrNotReplayable is returned by ReplayEvent for an event that is pending
// or already became a call.
var ErrNotReplayable = errors.New("not replayable")

// DefaultDedupeTTL is how long an event's dedupe key is remembered when
// InboxOptions.DedupeTTL is zero. HubSpot redelivers for about a day.
const DefaultDedupeTTL = 72 * time.Hour

// maxAppendBatch bounds how many queued append requests one commit takes.
const maxAppendBatch = 512

// InboxOptions configure NewInbox.
type InboxOptions struct {
	DedupeTTL time.Duration    // default DefaultDedupeTTL
	Now       func() time.Time // default time.Now
	// SweepEvery is how often expired dedupe keys are deleted (default 10m).
	SweepEvery time.Duration
	Logger     hclog.Logger // default: discard
}

// Inbox is the durable queue of accepted CRM events. Appends from many
// concurrent requests share one fsync'd commit: a single writer goroutine
// takes every request queued while the previous commit was syncing and
// commits them together (group commit), so a 200 costs a share of one
// fsync rather than one each.
type Inbox struct {
	db      *DB
	ttl     time.Duration
	now     func() time.Time
	reqs    chan *appendReq
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	pending atomic.Int64
	log     hclog.Logger
}

// AppendOptions tune one AppendEvents call.
type AppendOptions struct {
	// Now stamps ReceivedAt/UpdatedAt and the ULIDs; zero → the inbox clock.
	Now time.Time
}

// AppendResult says what became of each event of an AppendEvents call.
type AppendResult struct {
	// Events are the events as stored, in the order given. A duplicate
	// carries the id and status of the event it repeats.
	Events []Event
	// Duplicate[i] reports whether Events[i] repeated a remembered key.
	Duplicate []bool
	// Accepted counts new pending events, Ignored new events stored with a
	// terminal status, Duplicates the repeats.
	Accepted, Duplicates, Ignored int
}

type appendReq struct {
	evs  []Event
	now  time.Time
	res  AppendResult
	err  error
	done chan struct{}
}

// NewInbox opens the inbox over db and starts its writer. Leases left by a
// previous process are released: bbolt's file lock guarantees that process
// is gone, so its claimed events are due again at once.
func NewInbox(db *DB, o InboxOptions) (*Inbox, error) {
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = DefaultDedupeTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	in := &Inbox{db: db, ttl: o.DedupeTTL, now: o.Now, reqs: make(chan *appendReq, 1024),
		stop: make(chan struct{}), stopped: make(chan struct{}), log: o.Logger}
	var n int64
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		n = 0
		// Rebuild the due index from the pending events, every lease
		// released.
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
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: release old leases: %w", err)
	}
	in.pending.Store(n)
	settled := func(k int64) { in.pending.Add(-k) }
	db.eventsSettled.Store(&settled)
	go in.writer(o.SweepEvery)
	return in, nil
}

// Close stops the writer; appends after Close fail.
func (in *Inbox) Close() error {
	in.once.Do(func() { close(in.stop) })
	<-in.stopped
	return nil
}

// PendingEvents is the number of events waiting for the pipeline (leased or not).
func (in *Inbox) PendingEvents() int { return int(in.pending.Load()) }

// DedupeKey is the key under which an event is remembered: one agent, one
// integration, the plugin's key. The same CRM event sent to two agents is
// two events; sent twice to one agent it is one.
func DedupeKey(ev Event) string {
	if ev.Key == "" {
		return ""
	}
	return ev.AgentID + "\x1f" + ev.Integration + "\x1f" + ev.Key
}

// AppendEvents commits evs (new ones get a ULID, status pending unless a
// terminal status is given with its reason) and fsyncs before returning.
// Events whose dedupe key is remembered are not stored again. If ctx ends
// first the commit may still happen; a retried request is then deduplicated.
func (in *Inbox) AppendEvents(ctx context.Context, evs []Event, o AppendOptions) (AppendResult, error) {
	if o.Now.IsZero() {
		o.Now = in.now()
	}
	req := &appendReq{evs: evs, now: o.Now.UTC(), done: make(chan struct{})}
	select {
	case in.reqs <- req:
	case <-in.stop:
		return AppendResult{}, errors.New("inbox: closed")
	case <-ctx.Done():
		return AppendResult{}, ctx.Err()
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-in.stopped:
		select {
		case <-req.done:
			return req.res, req.err
		default:
			return AppendResult{}, errors.New("inbox: closed")
		}
	case <-ctx.Done():
		return AppendResult{}, ctx.Err()
	}
}

func (in *Inbox) writer(sweepEvery time.Duration) {
	defer close(in.stopped)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	batch := make([]*appendReq, 0, maxAppendBatch)
	for {
		select {
		case <-in.stop:
			in.failQueued(errors.New("inbox: closed"))
			return
		case <-sweep.C:
			_, _ = in.ExpireKeys(in.now()) // a failed sweep is retried next tick; lookups check expiry anyway
			continue
		case r := <-in.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < maxAppendBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		in.commit(batch)
	}
}

func (in *Inbox) failQueued(err error) {
	for {
		select {
		case r := <-in.reqs:
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
func (in *Inbox) commit(batch []*appendReq) {
	added, err := in.writeBatch(batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			in.commit([]*appendReq{r})
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("inbox: commit events: %w (check the data dir's disk and permissions)", err)
	} else {
		in.pending.Add(added)
	}
	for _, r := range batch {
		if err != nil {
			r.res, r.err = AppendResult{}, err
		}
		close(r.done)
	}
}

// appendTx stores r's events in tx and returns how many became pending.
func (in *Inbox) appendTx(tx *bolt.Tx, r *appendReq) (int64, error) {
	events, pending := tx.Bucket(bucketInboxEvents), tx.Bucket(bucketInboxPending)
	keys, expiry := tx.Bucket(bucketInboxKeys), tx.Bucket(bucketInboxExpiry)
	// ULIDs and expiry times only grow: fill pages full instead of
	// splitting them in half, which writes fewer pages per commit.
	events.FillPercent, pending.FillPercent, expiry.FillPercent = 0.95, 0.95, 0.95
	tx.Bucket(bucketInboxDue).FillPercent = 0.95
	res := AppendResult{Events: make([]Event, len(r.evs)), Duplicate: make([]bool, len(r.evs))}
	var added int64
	expires := r.now.Add(in.ttl).UnixNano()
	for i, ev := range r.evs {
		dk := DedupeKey(ev)
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
		ev.ID = in.db.NewID(r.now)
		ev.ReceivedAt, ev.UpdatedAt = r.now, r.now
		if ev.Status == "" || ev.Status == EventPending {
			ev.Status, ev.Reason = EventPending, ""
		}
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
		if ev.Status == EventPending {
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
func setPending(tx *bolt.Tx, id []byte, notBefore, leaseUntil int64) error {
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
func clearPending(tx *bolt.Tx, id []byte) (bool, error) {
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

// ExpireKeys forgets dedupe keys that expired by now and returns how many.
func (in *Inbox) ExpireKeys(now time.Time) (int, error) {
	n := 0
	err := in.db.bolt.Update(func(tx *bolt.Tx) error {
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
