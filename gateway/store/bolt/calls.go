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

// Call buckets. Index keys end in timeKey(created)+id, so a reverse cursor
// walks each index newest first and a page resumes from that suffix.
var (
	bucketCalls              = []byte("calls")                 // id → Call JSON
	bucketCallsByCreated     = []byte("calls_by_created")      // created+id
	bucketCallsByAgent       = []byte("calls_by_agent")        // agent\0 created+id
	bucketCallsByStatus      = []byte("calls_by_status")       // status\0 created+id
	bucketCallsByAgentStatus = []byte("calls_by_agent_status") // agent\0status\0 created+id
	bucketCallsByPhone       = []byte("calls_by_phone")        // number\0 created+id
	bucketCallsActive        = []byte("calls_active")          // agent\0number → id of the non-final call
	bucketCallsContact       = []byte("calls_contact")         // agent\0contact key → created+id of the newest call
	// calls_by_source finds a CRM record's calls across agents (a
	// deletion cancels them, an erasure redacts them) without a scan.
	bucketCallsBySource = []byte("calls_by_source") // source type\0object id\0 created+id
)

// CreateCall inserts c unless it duplicates an existing call: one created
// for (c.AgentID, o.ContactKey) within o.DedupeWindow, or a non-final call
// for (c.AgentID, c.ToNumber). It returns the existing call and false, or
// the new call (ID, CreatedAt, UpdatedAt filled in) and true. The check and
// the insert are one transaction.
func (db *Store) CreateCall(ctx context.Context, c store.Call, o store.CreateOptions) (store.Call, bool, error) {
	if err := ctx.Err(); err != nil {
		return store.Call{}, false, err
	}
	nc := store.PrepareCall(store.NewCall{Call: c, Options: o}, db.NewID)
	var res store.Created
	err := db.commits.run(db.bolt, func(tx *bbolt.Tx) error {
		var err error
		res, err = db.createCall(tx, nc)
		return err
	})
	if err != nil {
		return store.Call{}, false, fmt.Errorf("store: create call for agent %s: %w", c.AgentID, err)
	}
	return res.Call, res.Created, nil
}

// CreateCalls is CreateCall for many calls in one transaction (bulk loads,
// imports, benchmarks). Entries are checked in order, so a later entry may
// duplicate an earlier one.
func (db *Store) CreateCalls(ctx context.Context, batch []store.NewCall) ([]store.Created, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]store.Created, len(batch))
	for i := range batch {
		batch[i] = store.PrepareCall(batch[i], db.NewID)
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		for i, nc := range batch {
			res, err := db.createCall(tx, nc)
			if err != nil {
				return err
			}
			out[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: create %d calls: %w", len(batch), err)
	}
	return out, nil
}

func (db *Store) createCall(tx *bbolt.Tx, nc store.NewCall) (store.Created, error) {
	c, o := nc.Call, nc.Options
	if c.AgentID == "" {
		return store.Created{}, errors.New("call has no agent id")
	}
	contact := tx.Bucket(bucketCallsContact)
	ckey := join(c.AgentID, o.ContactKey)
	for _, key := range o.ContactKeys() {
		k := ckey
		if key != o.ContactKey {
			k = join(c.AgentID, key)
		}
		if v := contact.Get(k); len(v) > 8 && o.DuplicateOf(fromTimeKey(v[:8])) {
			if prev, err := getCall(tx, string(v[8:])); err == nil {
				return store.Created{Call: prev}, nil
			}
		}
	}
	if c.ToNumber != "" {
		if id := tx.Bucket(bucketCallsActive).Get(join(c.AgentID, c.ToNumber)); id != nil {
			if prev, err := getCall(tx, string(id)); err == nil && !store.Final(prev.Status) {
				return store.Created{Call: prev}, nil
			}
		}
	}
	if tx.Bucket(bucketCalls).Get([]byte(c.ID)) != nil {
		return store.Created{}, fmt.Errorf("call id %s already exists", c.ID)
	}
	if err := db.putCall(tx, nil, &c); err != nil {
		return store.Created{}, err
	}
	if o.ContactKey != "" {
		if err := contact.Put(ckey, append(timeKey(c.CreatedAt), c.ID...)); err != nil {
			return store.Created{}, err
		}
	}
	if err := db.putOutbox(tx, o.Outbox); err != nil {
		return store.Created{}, err
	}
	return store.Created{Call: c, Created: true}, nil
}

// GetCall returns the call with this id, or ErrNotFound.
func (db *Store) GetCall(ctx context.Context, id string) (store.Call, error) {
	if err := ctx.Err(); err != nil {
		return store.Call{}, err
	}
	var c store.Call
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		c, err = getCall(tx, id)
		return err
	})
	return c, err
}

func getCall(tx *bbolt.Tx, id string) (store.Call, error) {
	raw := tx.Bucket(bucketCalls).Get([]byte(id))
	if raw == nil {
		return store.Call{}, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	}
	var c store.Call
	if err := json.Unmarshal(raw, &c); err != nil {
		return store.Call{}, fmt.Errorf("call %s: corrupt record: %w", id, err)
	}
	return c, nil
}

// UpdateCall replaces a stored call, re-indexes it (status, due time,
// lease, active number) and commits outbox with it in one transaction.
func (db *Store) UpdateCall(ctx context.Context, c store.Call, outbox []store.OutboxItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.commits.run(db.bolt, func(tx *bbolt.Tx) error {
		old, err := getCall(tx, c.ID)
		if err != nil {
			return err
		}
		if err := db.putCall(tx, &old, &c); err != nil {
			return err
		}
		return db.putOutbox(tx, outbox)
	})
	if err != nil {
		return fmt.Errorf("store: update call %s: %w", c.ID, err)
	}
	return nil
}

// MutateCall reads call id, lets fn change it, and writes the result with
// fn's outbox items in one transaction. fn returning ErrNoChange leaves the
// call as it was (MutateCall then returns the stored call and ErrNoChange);
// any other error aborts. fn may run more than once (transactions are
// batched), so it must only change c and return.
func (db *Store) MutateCall(ctx context.Context, id string, fn func(c *store.Call) ([]store.OutboxItem, error)) (store.Call, error) {
	if err := ctx.Err(); err != nil {
		return store.Call{}, err
	}
	var out store.Call
	var unchanged bool
	err := db.commits.run(db.bolt, func(tx *bbolt.Tx) error {
		unchanged = false
		old, err := getCall(tx, id)
		if err != nil {
			return err
		}
		c := store.CloneCall(old)
		items, err := fn(&c)
		if errors.Is(err, store.ErrNoChange) {
			out, unchanged = old, true
			return nil
		}
		if err != nil {
			return err
		}
		if err := db.putCall(tx, &old, &c); err != nil {
			return err
		}
		out = c
		return db.putOutbox(tx, items)
	})
	if err != nil {
		return store.Call{}, err
	}
	if unchanged {
		return out, store.ErrNoChange
	}
	return out, nil
}

// putCall writes c and moves its index entries from old's (nil for a new call).
func (db *Store) putCall(tx *bbolt.Tx, old, c *store.Call) error {
	if store.Due(c) && (old == nil || !store.Due(old) || old.Dialer != c.Dialer || c.NextAttemptAt.Before(*old.NextAttemptAt)) {
		topic := store.TopicDialer(c.Dialer)
		tx.OnCommit(func() { db.wake.signal(topic) })
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if old != nil {
		for _, e := range callIndexes(old) {
			b := tx.Bucket(e.bucket)
			if e.val != nil && !bytes.Equal(b.Get(e.key), e.val) {
				continue // another call owns this entry now
			}
			if err := b.Delete(e.key); err != nil {
				return err
			}
		}
	}
	for _, e := range callIndexes(c) {
		if err := tx.Bucket(e.bucket).Put(e.key, e.val); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketCalls).Put([]byte(c.ID), raw)
}

type indexEntry struct {
	bucket, key, val []byte
}

// callIndexes lists every index entry a call in this state has.
func callIndexes(c *store.Call) []indexEntry {
	suffix := append(timeKey(c.CreatedAt), c.ID...)
	empty := []byte{}
	ix := []indexEntry{
		{bucketCallsByCreated, suffix, empty},
		{bucketCallsByAgent, append(join(c.AgentID, ""), suffix...), empty},
		{bucketCallsByStatus, append(join(c.Status, ""), suffix...), empty},
		{bucketCallsByAgentStatus, append(join(c.AgentID, c.Status, ""), suffix...), empty},
	}
	if c.Source.ObjectID != "" {
		ix = append(ix, indexEntry{bucketCallsBySource, append(join(c.Source.Type, c.Source.ObjectID, ""), suffix...), empty})
	}
	if c.ToNumber != "" && c.ToNumber != store.Erased {
		ix = append(ix, indexEntry{bucketCallsByPhone, append(join(c.ToNumber, ""), suffix...), empty})
		if !store.Final(c.Status) {
			ix = append(ix, indexEntry{bucketCallsActive, join(c.AgentID, c.ToNumber), []byte(c.ID)})
		}
	}
	ix = append(ix, scheduleIndexes(c)...)
	return ix
}

// ListCalls returns the calls matching f, newest first, and the cursor of
// the next page ("" on the last page). It reads one index range: phone,
// agent+status, agent, status or created, so a page costs about Limit
// reads however many calls are stored.
func (db *Store) ListCalls(ctx context.Context, f store.CallFilter) ([]store.Call, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := f.PageLimit()
	var calls []store.Call
	var next string
	var last []byte
	scanned := 0
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return scanCalls(tx, f, func(suffix []byte, c *store.Call) bool {
			if !f.Search.IsZero() {
				if scanned == store.MaxSearchScan {
					next = cursorOf(last) // the scan stops here; the next page resumes it
					return false
				}
				scanned++
				if c == nil || !f.Search.MatchCall(c) {
					last = suffix
					return true
				}
			}
			if len(calls) == limit {
				next = cursorOf(last) // more follow
				return false
			}
			calls = append(calls, *c)
			last = suffix
			return true
		}, true)
	})
	if err != nil {
		return nil, "", err
	}
	return calls, next, nil
}

// CountCalls counts the calls matching f (Limit, Cursor and Search ignored).
func (db *Store) CountCalls(ctx context.Context, f store.CallFilter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	f.Cursor = ""
	n := 0
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return scanCalls(tx, f, func([]byte, *store.Call) bool { n++; return true }, f.Phone != "" && (f.AgentID != "" || f.Status != ""))
	})
	return n, err
}

// scanCalls walks the best index for f newest first, calling yield with
// each match's created+id suffix (and the call, when load is true or the
// filter needs it) until yield returns false. With a search, a call whose
// stored bytes cannot match is yielded with a nil call.
func scanCalls(tx *bbolt.Tx, f store.CallFilter, yield func(suffix []byte, c *store.Call) bool, load bool) error {
	var bucket, prefix []byte
	residual := false // must load the call to check agent/status
	switch {
	case f.Phone != "":
		bucket, prefix = bucketCallsByPhone, join(f.Phone, "")
		residual = f.AgentID != "" || f.Status != ""
	case f.AgentID != "" && f.Status != "":
		bucket, prefix = bucketCallsByAgentStatus, join(f.AgentID, f.Status, "")
	case f.AgentID != "":
		bucket, prefix = bucketCallsByAgent, join(f.AgentID, "")
	case f.Status != "":
		bucket, prefix = bucketCallsByStatus, join(f.Status, "")
	default:
		bucket = bucketCallsByCreated
	}
	upper := append([]byte(nil), prefix...)
	upper = append(upper, 0xff)
	if !f.Until.IsZero() {
		upper = append(append([]byte(nil), prefix...), timeKey(f.Until)...)
	}
	if f.Cursor != "" {
		created, id, err := store.ParseCallCursor(f.Cursor)
		if err != nil {
			return err
		}
		cur := append(timeKey(created), id...)
		if k := append(append([]byte(nil), prefix...), cur...); bytes.Compare(k, upper) < 0 {
			upper = k
		}
	}
	var since []byte
	if !f.Since.IsZero() {
		since = timeKey(f.Since)
	}
	calls := tx.Bucket(bucketCalls)
	c := tx.Bucket(bucket).Cursor()
	k, _ := c.Seek(upper)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		suffix := k[len(prefix):]
		if len(suffix) < 9 {
			continue
		}
		if since != nil && bytes.Compare(suffix[:8], since) < 0 {
			break
		}
		var call store.Call
		if load || residual {
			raw := calls.Get(suffix[8:])
			if raw == nil {
				continue
			}
			if !f.Search.IsZero() && !f.Search.MayMatch(raw) {
				// Cheaper than decoding: yield it read but unmatched.
				if !yield(append([]byte(nil), suffix...), nil) {
					break
				}
				continue
			}
			if err := json.Unmarshal(raw, &call); err != nil {
				return fmt.Errorf("call %s: corrupt record: %w", suffix[8:], err)
			}
			if residual && ((f.AgentID != "" && call.AgentID != f.AgentID) || (f.Status != "" && call.Status != f.Status)) {
				continue
			}
		}
		if !yield(append([]byte(nil), suffix...), &call) {
			break
		}
	}
	return nil
}

// cursorOf is the page cursor after an index entry's created+id suffix.
func cursorOf(suffix []byte) string {
	return store.CallCursor(fromTimeKey(suffix[:8]), string(suffix[8:]))
}

// join builds a key from parts separated by NUL (a byte no id, status or
// phone number contains).
func join(parts ...string) []byte {
	var b []byte
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// timeKey is t as 8 big-endian bytes of Unix nanoseconds, so byte order is
// time order (times before 1970 clamp to 0).
func timeKey(t time.Time) []byte {
	n := t.UnixNano()
	if n < 0 || t.Before(time.Unix(0, 0)) {
		n = 0
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8+26), uint64(n))
}

func fromTimeKey(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
}

// SourceCalls returns every call (any agent, any status) made for the CRM
// record f names, oldest first. It reads the calls_by_source index: one
// prefix range, however many calls are stored.
func (db *Store) SourceCalls(ctx context.Context, f store.SourceFilter) ([]store.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.Type == "" || f.ObjectID == "" {
		return nil, errors.New("store: source calls: type and object id are required")
	}
	var out []store.Call
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = sourceCalls(tx, f)
		return err
	})
	return out, err
}

func sourceCalls(tx *bbolt.Tx, f store.SourceFilter) ([]store.Call, error) {
	var out []store.Call
	prefix := join(f.Type, f.ObjectID, "")
	c := tx.Bucket(bucketCallsBySource).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < len(prefix)+9 {
			continue
		}
		call, err := getCall(tx, string(k[len(prefix)+8:]))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.Match(call.Source) {
			out = append(out, call)
		}
	}
	return out, nil
}

// indexCallsBySource is the schema 1→2 migration: it fills calls_by_source
// from the calls already stored.
func indexCallsBySource(tx *bbolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(bucketCallsBySource)
	if err != nil {
		return err
	}
	calls := tx.Bucket(bucketCalls)
	if calls == nil {
		return nil
	}
	return calls.ForEach(func(k, v []byte) error {
		var c store.Call
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("call %s: corrupt record: %w", k, err)
		}
		if c.Source.ObjectID == "" {
			return nil
		}
		return b.Put(append(join(c.Source.Type, c.Source.ObjectID, ""), append(timeKey(c.CreatedAt), c.ID...)...), []byte{})
	})
}
