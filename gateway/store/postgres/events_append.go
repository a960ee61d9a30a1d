package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/callgate/callgate/gateway/store"
)

// maxAppendBatch bounds how many queued append requests one commit takes.
const maxAppendBatch = 512

// commitTimeout bounds one inbox commit, so a database that stopped
// answering fails the queued webhooks (503, retried by the CRM) instead of
// holding them until the CRM gives up.
const commitTimeout = 30 * time.Second

// appender is the inbox's group commit: one goroutine per process takes
// every append request queued while the previous commit was in flight and
// commits them in one transaction, so a webhook's 200 costs a share of one
// commit (one WAL flush) rather than one each. Several replicas each run
// their own; the event_keys primary key keeps their dedupe exact.
type appender struct {
	s       *Store
	reqs    chan *appendReq
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type appendReq struct {
	ctx  context.Context // the caller's: a request it gave up on is not committed
	evs  []store.Event
	now  time.Time
	res  store.AppendResult
	err  error
	done chan struct{}
}

func newAppender(s *Store, sweepEvery time.Duration) *appender {
	a := &appender{s: s, reqs: make(chan *appendReq, 1024), stop: make(chan struct{}), stopped: make(chan struct{})}
	go a.run(sweepEvery)
	return a
}

func (a *appender) close() {
	a.once.Do(func() { close(a.stop) })
	<-a.stopped
}

// AppendEvents commits evs (new ones get a ULID, status pending unless a
// terminal status is given with its reason) and returns once the commit
// is durable. Events whose dedupe key is remembered are not stored again.
// A request whose ctx ended before its commit began is not committed; if
// ctx ends during the commit, the commit may still happen, and a retried
// request is then deduplicated.
func (s *Store) AppendEvents(ctx context.Context, evs []store.Event, o store.AppendOptions) (store.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.AppendResult{}, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	req := &appendReq{ctx: ctx, evs: evs, now: o.Now.UTC(), done: make(chan struct{})}
	a := s.appends
	select {
	case a.reqs <- req:
	case <-a.stop:
		return store.AppendResult{}, errors.New("inbox: closed")
	case <-ctx.Done():
		return store.AppendResult{}, ctx.Err()
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-a.stopped:
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

func (a *appender) run(sweepEvery time.Duration) {
	defer close(a.stopped)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	batch := make([]*appendReq, 0, maxAppendBatch)
	for {
		select {
		case <-a.stop:
			a.failQueued(errors.New("inbox: closed"))
			return
		case <-sweep.C:
			a.sweep()
			continue
		case r := <-a.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < maxAppendBatch {
			select {
			case r := <-a.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		a.commit(live(batch))
	}
}

// live drops the requests whose callers gave up while they were queued:
// they answered with their context's error, so nothing of theirs may be
// committed.
func live(batch []*appendReq) []*appendReq {
	out := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		out = append(out, r)
	}
	return out
}

// sweep forgets expired dedupe keys; a failed sweep is retried next tick
// (lookups compare expiry anyway).
func (a *appender) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if _, err := a.s.ExpireKeys(ctx, time.Now()); err != nil {
		a.s.log.Warn("inbox: expiring dedupe keys failed; retried at the next sweep", "error", err)
	}
}

func (a *appender) failQueued(err error) {
	for {
		select {
		case r := <-a.reqs:
			r.err = err
			close(r.done)
		default:
			return
		}
	}
}

// commit writes every request of batch in one transaction. If that fails,
// each request is committed on its own, so one bad request fails only its
// own webhook.
func (a *appender) commit(batch []*appendReq) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	err := a.s.writeBatch(ctx, batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			a.commit([]*appendReq{r})
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("inbox: commit events to %s: %w", a.s.url, err)
	}
	for _, r := range batch {
		if err != nil {
			r.res, r.err = store.AppendResult{}, err
		}
		close(r.done)
	}
	if err == nil {
		a.s.wake.signal(store.TopicInbox) // this replica's worker, before the notification's round trip
	}
}

// slot is one event of a batch on its way into the table.
type slot struct {
	ev  store.Event
	key string // dedupe key, "" for none
	dup *slot  // an earlier slot of the batch with the same key
	// stored is set for a repeat of a key already in the table: the event
	// it repeats (id, and the stored record when it is still there).
	stored *store.Event
}

// writeBatch stores batch in one commit. A panic while storing (a record
// the code cannot handle) is the commit's error, logged with its stack, so
// the writer goroutine survives it.
func (s *Store) writeBatch(ctx context.Context, batch []*appendReq) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("storing events panicked; the request fails, the inbox goes on",
				"requests", len(batch), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error storing the events (%v); see the server log", v)
		}
	}()
	slots := s.plan(batch)
	if err := s.insertEvents(ctx, slots); err != nil {
		return err
	}
	if err := s.readHolders(ctx, slots); err != nil {
		return err
	}
	for _, r := range batch {
		r.res = result(slots[:len(r.evs)])
		slots = slots[len(r.evs):]
	}
	return nil
}

// plan gives each new event its id and stamps, and links a repeat of a
// key earlier in the same batch to that event: it is a duplicate of it, as
// it would be one commit later.
func (s *Store) plan(batch []*appendReq) []*slot {
	var slots []*slot
	first := map[string]*slot{}
	for _, r := range batch {
		for _, ev := range r.evs {
			sl := &slot{key: store.DedupeKey(ev)}
			slots = append(slots, sl)
			if sl.key != "" && first[sl.key] != nil {
				sl.dup, sl.ev = first[sl.key], ev
				continue
			}
			if sl.key != "" {
				first[sl.key] = sl
			}
			sl.ev = store.NewEvent(ev, s.NewID(r.now), r.now)
		}
	}
	return slots
}

// appendSQL stores a batch in one statement, and so in one commit and one
// round trip. It takes each new event's dedupe key (a key no one holds, or
// whose holder expired by the event's arrival: expires_ns - ttl), inserts
// the events whose key it took (or that have none), and wakes the
// replicas' workers if any is pending. A key held by another event is
// left as it is; the conflicting row is still returned (DO UPDATE writes
// it unchanged) so the statement says which event holds it. The primary
// key decides, so two replicas racing for one key see one winner; keys
// are taken in key order, so two batches never deadlock.
const appendSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
	                     $8::text[], $9::text[], $10::timestamptz[], $11::bigint[], $12::text[])
	  AS t(id, key, expires_ns, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record)
), keys AS (
	INSERT INTO event_keys AS k (key, event_id, expires_ns)
	SELECT key, id, expires_ns FROM input WHERE key <> '' ORDER BY key
	ON CONFLICT (key) DO UPDATE SET
		event_id   = CASE WHEN k.expires_ns <= EXCLUDED.expires_ns - $13 THEN EXCLUDED.event_id ELSE k.event_id END,
		expires_ns = CASE WHEN k.expires_ns <= EXCLUDED.expires_ns - $13 THEN EXCLUDED.expires_ns ELSE k.expires_ns END
	RETURNING k.key, k.event_id
), added AS (
	INSERT INTO events (id, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record)
	SELECT i.id, i.agent_id, i.integration, i.type, i.object_type, i.object_id, i.status, i.received_at, i.due_ns, i.record::json
	FROM input i
	WHERE i.key = '' OR EXISTS (SELECT 1 FROM keys WHERE keys.key = i.key AND keys.event_id = i.id)
	RETURNING status
), woken AS (
	SELECT pg_notify($14, $15) FROM (SELECT 1 FROM added WHERE status = 'pending' LIMIT 1) AS any_pending
)
SELECT key, event_id FROM keys
UNION ALL SELECT '', '' FROM woken`

// insertEvents runs appendSQL for the batch's new events and marks each
// slot whose key another event holds.
func (s *Store) insertEvents(ctx context.Context, slots []*slot) error {
	var c eventColumns
	var keys []string
	var expires []int64
	byKey := map[string]*slot{}
	for _, sl := range slots {
		if sl.dup != nil {
			continue
		}
		if err := c.add(&sl.ev); err != nil {
			return err
		}
		keys, expires = append(keys, sl.key), append(expires, nanos(sl.ev.ReceivedAt.Add(s.ttl)))
		if sl.key != "" {
			byKey[sl.key] = sl
		}
	}
	if len(c.ids) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, appendSQL, c.ids, keys, expires, c.agents, c.integrations, c.types, c.objectTypes,
		c.objectIDs, c.status, c.received, c.due, c.records, s.ttl.Nanoseconds(), wakeChannel, store.TopicInbox)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, holder string
		if err := rows.Scan(&key, &holder); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		if sl := byKey[key]; sl != nil && holder != sl.ev.ID {
			sl.stored = &store.Event{ID: holder}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// readHolders fills in the events the batch's repeats repeat, as stored
// (committed already), for the answer to the webhook.
func (s *Store) readHolders(ctx context.Context, slots []*slot) error {
	var ids []string
	for _, sl := range slots {
		if sl.stored != nil {
			ids = append(ids, sl.stored.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, "SELECT id, record FROM events WHERE id = ANY($1)", ids)
	if err != nil {
		return fmt.Errorf("read remembered events: %w", err)
	}
	records := map[string][]byte{}
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("read remembered events: %w", err)
		}
		records[id] = raw
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read remembered events: %w", err)
	}
	for _, sl := range slots {
		if sl.stored == nil {
			continue
		}
		orig := sl.ev
		if raw := records[sl.stored.ID]; raw != nil {
			_ = json.Unmarshal(raw, &orig) // shown to the caller only; the stored event is untouched
		}
		orig.ID = sl.stored.ID
		sl.stored = &orig
	}
	return nil
}

// result is what became of a request's slots.
func result(slots []*slot) store.AppendResult {
	res := store.AppendResult{Events: make([]store.Event, len(slots)), Duplicate: make([]bool, len(slots))}
	for i, sl := range slots {
		switch {
		case sl.dup != nil:
			orig := sl.dup.ev
			if sl.dup.stored != nil {
				orig = *sl.dup.stored
			}
			res.Events[i], res.Duplicate[i] = orig, true
			res.Duplicates++
		case sl.stored != nil:
			res.Events[i], res.Duplicate[i] = *sl.stored, true
			res.Duplicates++
		case sl.ev.Status == store.EventPending:
			res.Events[i] = sl.ev
			res.Accepted++
		default:
			res.Events[i] = sl.ev
			res.Ignored++
		}
	}
	return res
}

// eventColumns are events laid out as the arrays an unnest insert or
// update takes.
type eventColumns struct {
	ids, agents, integrations, types, objectTypes, objectIDs, status []string
	received                                                         []time.Time
	due                                                              []pgtype.Int8
	records                                                          []string
}

func (c *eventColumns) add(ev *store.Event) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	c.ids = append(c.ids, ev.ID)
	c.agents = append(c.agents, ev.AgentID)
	c.integrations = append(c.integrations, ev.Integration)
	c.types = append(c.types, ev.Type)
	c.objectTypes = append(c.objectTypes, ev.ObjectType)
	c.objectIDs = append(c.objectIDs, ev.ObjectID)
	c.status = append(c.status, ev.Status)
	c.received = append(c.received, ev.ReceivedAt)
	c.due = append(c.due, dueAt(ev))
	c.records = append(c.records, string(raw))
	return nil
}

func (c *eventColumns) args() []any {
	return []any{c.ids, c.agents, c.integrations, c.types, c.objectTypes, c.objectIDs, c.status, c.received, c.due, c.records}
}

// dueAt is when a pending event may be claimed (its NotBefore), NULL for
// any other: the queue is the rows with due_ns set.
func dueAt(ev *store.Event) pgtype.Int8 {
	if ev.Status != store.EventPending {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: nanos(ev.NotBefore), Valid: true}
}

// nanos is t in Unix nanoseconds, the queue's clock; times before 1970
// (the zero time: due at once) are 0.
func nanos(t time.Time) int64 {
	if t.Before(epoch) {
		return 0
	}
	return t.UnixNano()
}

var epoch = time.Unix(0, 0).UTC()
