package store

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
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

// CreateOptions say how CreateCall deduplicates and what it records with
// the call.
type CreateOptions struct {
	// ContactKey identifies the CRM contact ("hubspot::contact:123");
	// empty skips the per-contact dedupe.
	ContactKey string
	// LegacyContactKey, when set, is an older form of the same contact's
	// key: a call under it within the window counts too. It is never written.
	LegacyContactKey string
	// DedupeWindow: a call for the same (agent, contact) created this
	// recently is returned instead of a new one.
	DedupeWindow time.Duration
	Now          time.Time    // default time.Now()
	Outbox       []OutboxItem // notifications committed with the new call
}

// NewCall is one entry of a CreateCalls batch.
type NewCall struct {
	Call    Call
	Options CreateOptions
}

// Created is what CreateCalls did with one entry: Created is false when
// Call is the existing call the entry duplicates.
type Created struct {
	Call    Call
	Created bool
}

// CreateCall inserts c unless it duplicates an existing call: one created
// for (c.AgentID, o.ContactKey) within o.DedupeWindow, or a non-final call
// for (c.AgentID, c.ToNumber). It returns the existing call and false, or
// the new call (ID, CreatedAt, UpdatedAt filled in) and true. The check and
// the insert are one transaction.
func (db *DB) CreateCall(c Call, o CreateOptions) (Call, bool, error) {
	nc := db.prepare(NewCall{Call: c, Options: o})
	var res Created
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		var err error
		res, err = db.createCall(tx, nc)
		return err
	})
	if err != nil {
		return Call{}, false, fmt.Errorf("store: create call for agent %s: %w", c.AgentID, err)
	}
	return res.Call, res.Created, nil
}

// CreateCalls is CreateCall for many calls in one transaction (bulk loads,
// imports, benchmarks). Entries are checked in order, so a later entry may
// duplicate an earlier one.
func (db *DB) CreateCalls(batch []NewCall) ([]Created, error) {
	out := make([]Created, len(batch))
	for i := range batch {
		batch[i] = db.prepare(batch[i])
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
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

// prepare fills what must not change if a batched transaction is re-run.
func (db *DB) prepare(nc NewCall) NewCall {
	if nc.Options.Now.IsZero() {
		nc.Options.Now = time.Now()
	}
	nc.Options.Now = nc.Options.Now.UTC()
	if nc.Call.ID == "" {
		nc.Call.ID = db.NewID(nc.Options.Now)
	}
	if nc.Call.CreatedAt.IsZero() {
		nc.Call.CreatedAt = nc.Options.Now
	}
	nc.Call.UpdatedAt = nc.Options.Now
	return nc
}

func (db *DB) createCall(tx *bolt.Tx, nc NewCall) (Created, error) {
	c, o := nc.Call, nc.Options
	if c.AgentID == "" {
		return Created{}, errors.New("call has no agent id")
	}
	contact := tx.Bucket(bucketCallsContact)
	ckey := join(c.AgentID, o.ContactKey)
	if o.ContactKey != "" && o.DedupeWindow > 0 {
		keys := [][]byte{ckey}
		if o.LegacyContactKey != "" {
			keys = append(keys, join(c.AgentID, o.LegacyContactKey))
		}
		for _, k := range keys {
			if v := contact.Get(k); len(v) > 8 {
				created := fromTimeKey(v[:8])
				if o.Now.Sub(created) < o.DedupeWindow {
					if prev, err := getCall(tx, string(v[8:])); err == nil {
						return Created{Call: prev}, nil
					}
				}
			}
		}
	}
	if c.ToNumber != "" {
		if id := tx.Bucket(bucketCallsActive).Get(join(c.AgentID, c.ToNumber)); id != nil {
			if prev, err := getCall(tx, string(id)); err == nil && !Final(prev.Status) {
				return Created{Call: prev}, nil
			}
		}
	}
	if tx.Bucket(bucketCalls).Get([]byte(c.ID)) != nil {
		return Created{}, fmt.Errorf("call id %s already exists", c.ID)
	}
	if err := putCall(tx, nil, &c); err != nil {
		return Created{}, err
	}
	if o.ContactKey != "" {
		if err := contact.Put(ckey, append(timeKey(c.CreatedAt), c.ID...)); err != nil {
			return Created{}, err
		}
	}
	if err := db.putOutbox(tx, o.Outbox); err != nil {
		return Created{}, err
	}
	return Created{Call: c, Created: true}, nil
}

// GetCall returns the call with this id, or ErrNotFound.
func (db *DB) GetCall(id string) (Call, error) {
	var c Call
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		c, err = getCall(tx, id)
		return err
	})
	return c, err
}

func getCall(tx *bolt.Tx, id string) (Call, error) {
	raw := tx.Bucket(bucketCalls).Get([]byte(id))
	if raw == nil {
		return Call{}, fmt.Errorf("call %s: %w", id, ErrNotFound)
	}
	var c Call
	if err := json.Unmarshal(raw, &c); err != nil {
		return Call{}, fmt.Errorf("call %s: corrupt record: %w", id, err)
	}
	return c, nil
}

// UpdateCall replaces a stored call, re-indexes it (status, due time,
// lease, active number) and commits outbox with it in one transaction.
func (db *DB) UpdateCall(c Call, outbox []OutboxItem) error {
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		old, err := getCall(tx, c.ID)
		if err != nil {
			return err
		}
		if err := putCall(tx, &old, &c); err != nil {
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
func (db *DB) MutateCall(id string, fn func(c *Call) ([]OutboxItem, error)) (Call, error) {
	var out Call
	var unchanged bool
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		unchanged = false
		old, err := getCall(tx, id)
		if err != nil {
			return err
		}
		c := cloneCall(old)
		items, err := fn(&c)
		if errors.Is(err, ErrNoChange) {
			out, unchanged = old, true
			return nil
		}
		if err != nil {
			return err
		}
		if err := putCall(tx, &old, &c); err != nil {
			return err
		}
		out = c
		return db.putOutbox(tx, items)
	})
	if err != nil {
		return Call{}, err
	}
	if unchanged {
		return out, ErrNoChange
	}
	return out, nil
}

// ErrNoChange is returned by a MutateCall function that decided to leave
// the call alone.
var ErrNoChange = errors.New("no change")

// cloneCall copies the slices a mutation may change, so the old value
// still describes the stored indexes.
func cloneCall(c Call) Call {
	c.Attempts = append([]Attempt(nil), c.Attempts...)
	return c
}

// putCall writes c and moves its index entries from old's (nil for a new call).
func putCall(tx *bolt.Tx, old, c *Call) error {
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
func callIndexes(c *Call) []indexEntry {
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
	if c.ToNumber != "" && c.ToNumber != Erased {
		ix = append(ix, indexEntry{bucketCallsByPhone, append(join(c.ToNumber, ""), suffix...), empty})
		if !Final(c.Status) {
			ix = append(ix, indexEntry{bucketCallsActive, join(c.AgentID, c.ToNumber), []byte(c.ID)})
		}
	}
	ix = append(ix, scheduleIndexes(c)...)
	return ix
}

// CallFilter selects calls for ListCalls and CountCalls. Since is
// inclusive and Until exclusive on CreatedAt; zero means unbounded.
type CallFilter struct {
	AgentID, Status, Phone string
	Since, Until           time.Time
	Limit                  int    // default 50, at most 1000
	Cursor                 string // NextCursor of the previous page
	// Search narrows the list to calls matching a query (search.go); a
	// page then reads at most MaxSearchScan calls.
	Search Search
}

// ErrBadCursor is returned for a cursor ListCalls did not hand out.
var ErrBadCursor = errors.New("invalid cursor: pass next_cursor from the previous page unchanged")

// ListCalls returns the calls matching f, newest first, and the cursor of
// the next page ("" on the last page). It reads one index range: phone,
// agent+status, agent, status or created, so a page costs about Limit
// reads however many calls are stored.
func (db *DB) ListCalls(f CallFilter) ([]Call, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 1000 {
		limit = 1000
	}
	var calls []Call
	var next string
	var last []byte
	scanned := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return scanCalls(tx, f, func(suffix []byte, c *Call) bool {
			if !f.Search.IsZero() {
				if scanned == MaxSearchScan {
					next = base64.RawURLEncoding.EncodeToString(last) // the scan stops here; the next page resumes it
					return false
				}
				scanned++
				if c == nil || !f.Search.MatchCall(c) {
					last = suffix
					return true
				}
			}
			if len(calls) == limit {
				next = base64.RawURLEncoding.EncodeToString(last) // more follow
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
func (db *DB) CountCalls(f CallFilter) (int, error) {
	f.Cursor = ""
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return scanCalls(tx, f, func([]byte, *Call) bool { n++; return true }, f.Phone != "" && (f.AgentID != "" || f.Status != ""))
	})
	return n, err
}

// scanCalls walks the best index for f newest first, calling yield with
// each match's created+id suffix (and the call, when load is true or the
// filter needs it) until yield returns false. With a search, a call whose
// stored bytes cannot match is yielded with a nil call.
func scanCalls(tx *bolt.Tx, f CallFilter, yield func(suffix []byte, c *Call) bool, load bool) error {
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
		cur, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(cur) < 9 {
			return ErrBadCursor
		}
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
		var call Call
		if load || residual {
			raw := calls.Get(suffix[8:])
			if raw == nil {
				continue
			}
			if !f.Search.IsZero() && !f.Search.mayMatch(raw) {
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

// SourceFilter names a CRM record for SourceCalls: Type (the plugin, e.g.
// hubspot) and ObjectID are required; Integration, Account and ObjectType
// narrow the match when set ("contact" also matches calls that name no
// object type).
type SourceFilter struct {
	Type, Integration, Account, ObjectType, ObjectID string
}

// Match reports whether a call's source is the record f names.
func (f SourceFilter) Match(s Source) bool {
	if s.Type != f.Type || s.ObjectID != f.ObjectID {
		return false
	}
	if f.Integration != "" && s.Integration != f.Integration {
		return false
	}
	if f.Account != "" && s.Account != "" && s.Account != f.Account {
		return false
	}
	if f.ObjectType != "" {
		ot := s.ObjectType
		if ot == "" {
			ot = "contact"
		}
		if ot != f.ObjectType {
			return false
		}
	}
	return true
}

// SourceCalls returns every call (any agent, any status) made for the CRM
// record f names, oldest first. It reads the calls_by_source index: one
// prefix range, however many calls are stored.
func (db *DB) SourceCalls(f SourceFilter) ([]Call, error) {
	if f.Type == "" || f.ObjectID == "" {
		return nil, errors.New("store: source calls: type and object id are required")
	}
	var out []Call
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = sourceCalls(tx, f)
		return err
	})
	return out, err
}

func sourceCalls(tx *bolt.Tx, f SourceFilter) ([]Call, error) {
	var out []Call
	prefix := join(f.Type, f.ObjectID, "")
	c := tx.Bucket(bucketCallsBySource).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < len(prefix)+9 {
			continue
		}
		call, err := getCall(tx, string(k[len(prefix)+8:]))
		if errors.Is(err, ErrNotFound) {
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
func indexCallsBySource(tx *bolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(bucketCallsBySource)
	if err != nil {
		return err
	}
	calls := tx.Bucket(bucketCalls)
	if calls == nil {
		return nil
	}
	return calls.ForEach(func(k, v []byte) error {
		var c Call
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("call %s: corrupt record: %w", k, err)
		}
		if c.Source.ObjectID == "" {
			return nil
		}
		return b.Put(append(join(c.Source.Type, c.Source.ObjectID, ""), append(timeKey(c.CreatedAt), c.ID...)...), []byte{})
	})
}
