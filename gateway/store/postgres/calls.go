package postgres

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callgate/callgate/gateway/store"
)

// Calls live in the calls table (migrations/0002_calls.sql): the record as
// JSON plus the columns queries use, rewritten from the record on every
// write. Uniqueness rests on the database, so it holds across replicas:
// the calls_active_number index admits one active call per (agent,
// number), and a transaction-scoped advisory lock per (agent, contact key)
// serialises the dedupe-window check with the insert that follows it.

// fromNanos is the time of a nanos column (events_append.go, nanos).
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// callColumns are the indexed columns of a call in its current state.
type callColumns struct {
	activeNumber *string
	nextAttempt  *int64
	leaseUntil   *int64
	leaseOwner   *string
}

func columnsOf(c *store.Call, owner string) callColumns {
	var cc callColumns
	if c.ToNumber != "" && c.ToNumber != store.Erased && !store.Final(c.Status) {
		cc.activeNumber = &c.ToNumber
	}
	switch {
	case (c.Status == store.CallScheduled || c.Status == store.CallRetryScheduled) && c.NextAttemptAt != nil:
		n := nanos(*c.NextAttemptAt)
		cc.nextAttempt = &n
	case c.Status == store.CallDialing && c.LeaseUntil != nil:
		n := nanos(*c.LeaseUntil)
		cc.leaseUntil, cc.leaseOwner = &n, &owner
	}
	return cc
}

const insertCallSQL = `INSERT INTO calls (id, agent_id, status, to_number, active_number, dialer,
	next_attempt_ns, lease_until_ns, lease_owner, source_type, source_object_id, created_ns, record)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (agent_id, active_number) DO NOTHING`

// insertCall writes a new call; it reports false, writing nothing, when
// another active call of the agent has the number.
func (s *Store) insertCall(ctx context.Context, q querier, c *store.Call) (bool, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return false, err
	}
	cc := columnsOf(c, s.owner)
	tag, err := q.Exec(ctx, insertCallSQL, c.ID, c.AgentID, c.Status, c.ToNumber, cc.activeNumber, c.Dialer,
		cc.nextAttempt, cc.leaseUntil, cc.leaseOwner, c.Source.Type, c.Source.ObjectID, nanos(c.CreatedAt), string(raw))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "calls_pkey" {
		return false, fmt.Errorf("call id %s already exists", c.ID)
	}
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 1 {
		return true, s.notifyDue(ctx, q, nil, c)
	}
	return false, nil
}

const updateCallSQL = `UPDATE calls SET agent_id = $2, status = $3, to_number = $4, active_number = $5,
	dialer = $6, next_attempt_ns = $7, lease_until_ns = $8, lease_owner = $9, source_type = $10,
	source_object_id = $11, created_ns = $12, record = $13
WHERE id = $1`

// writeCall replaces a stored call; old is how it was (for the wake-up).
func (s *Store) writeCall(ctx context.Context, q querier, old, c *store.Call) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	cc := columnsOf(c, s.owner)
	tag, err := q.Exec(ctx, updateCallSQL, c.ID, c.AgentID, c.Status, c.ToNumber, cc.activeNumber, c.Dialer,
		cc.nextAttempt, cc.leaseUntil, cc.leaseOwner, c.Source.Type, c.Source.ObjectID, nanos(c.CreatedAt), string(raw))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("agent %s already has an active call to this number: %w", c.AgentID, err)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("call %s: %w", c.ID, store.ErrNotFound)
	}
	return s.notifyDue(ctx, q, old, c)
}

// notifyDue tells every replica's dialer lane that c became due sooner
// than it was (new, moved to another dialer, or brought forward). The
// signal is sent at commit, and dropped with a rollback.
func (s *Store) notifyDue(ctx context.Context, q querier, old, c *store.Call) error {
	next := columnsOf(c, "").nextAttempt
	if next == nil {
		return nil
	}
	if old != nil && old.Dialer == c.Dialer {
		if prev := columnsOf(old, "").nextAttempt; prev != nil && *prev <= *next {
			return nil
		}
	}
	return notify(ctx, q, store.TopicDialer(c.Dialer))
}

// CreateCall stores c unless it duplicates an existing call: one created
// for (c.AgentID, o.ContactKey) within o.DedupeWindow, or a non-final call
// of the agent to c.ToNumber. It returns the existing call and false, or
// the new call (ID, CreatedAt, UpdatedAt filled in) and true.
func (s *Store) CreateCall(ctx context.Context, c store.Call, o store.CreateOptions) (store.Call, bool, error) {
	out, err := s.createBatch(ctx, []store.NewCall{{Call: c, Options: o}})
	if err != nil {
		return store.Call{}, false, fmt.Errorf("store: create call for agent %s: %w", c.AgentID, err)
	}
	return out[0].Call, out[0].Created, nil
}

// CreateCalls creates a batch in one transaction, each entry as CreateCall
// would; entries are checked in order, so a later entry may duplicate an
// earlier one.
func (s *Store) CreateCalls(ctx context.Context, batch []store.NewCall) ([]store.Created, error) {
	out, err := s.createBatch(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("store: create %d calls: %w", len(batch), err)
	}
	return out, nil
}

func (s *Store) createBatch(ctx context.Context, batch []store.NewCall) ([]store.Created, error) {
	batch = slices.Clone(batch)
	for i := range batch {
		batch[i] = store.PrepareCall(batch[i], s.NewID)
	}
	out := make([]store.Created, len(batch))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockCreateKeys(ctx, tx, batch); err != nil {
			return err
		}
		for i, nc := range batch {
			res, err := s.createCall(ctx, tx, nc)
			if err != nil {
				return err
			}
			out[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockCreateKeys takes, in one sorted order, the transaction's advisory
// locks on every (agent, contact key) and (agent, number) the batch
// creates. The contact lock makes "no call within the window, so insert"
// atomic across replicas (a second replica waits, then sees the first
// one's call); the number lock is not what keeps one active call per
// number (the unique index is) but orders batches so that two of them
// never wait on each other's inserts.
func lockCreateKeys(ctx context.Context, tx pgx.Tx, batch []store.NewCall) error {
	var keys []string
	for _, nc := range batch {
		c, o := nc.Call, nc.Options
		if o.ContactKey != "" {
			keys = append(keys, "contact\x1f"+c.AgentID+"\x1f"+o.ContactKey)
		}
		if o.LegacyContactKey != "" && o.DedupeWindow > 0 {
			keys = append(keys, "contact\x1f"+c.AgentID+"\x1f"+o.LegacyContactKey)
		}
		if c.ToNumber != "" {
			keys = append(keys, "number\x1f"+c.AgentID+"\x1f"+c.ToNumber)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('callgate:' || k, 0))
		FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`, keys)
	return err
}

func (s *Store) createCall(ctx context.Context, tx pgx.Tx, nc store.NewCall) (store.Created, error) {
	c, o := nc.Call, nc.Options
	if c.AgentID == "" {
		return store.Created{}, errors.New("call has no agent id")
	}
	if o.ContactKey != "" && o.DedupeWindow > 0 {
		prev, ok, err := recentContactCall(ctx, tx, c.AgentID, o)
		if err != nil || ok {
			return store.Created{Call: prev}, err
		}
	}
	if c.ToNumber != "" {
		if prev, ok, err := activeCall(ctx, tx, c.AgentID, c.ToNumber); err != nil || ok {
			return store.Created{Call: prev}, err
		}
	}
	inserted, err := s.insertCall(ctx, tx, &c)
	if err != nil {
		return store.Created{}, err
	}
	if !inserted {
		// Another transaction made the number active since the check
		// above (one that did not take our locks, e.g. an update).
		prev, _, err := activeCall(ctx, tx, c.AgentID, c.ToNumber)
		return store.Created{Call: prev}, err
	}
	if o.ContactKey != "" {
		_, err := tx.Exec(ctx, `INSERT INTO call_contacts (agent_id, contact_key, call_id, created_ns)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (agent_id, contact_key) DO UPDATE SET call_id = EXCLUDED.call_id, created_ns = EXCLUDED.created_ns`,
			c.AgentID, o.ContactKey, c.ID, nanos(c.CreatedAt))
		if err != nil {
			return store.Created{}, err
		}
	}
	if err := s.putOutbox(ctx, tx, o.Outbox); err != nil {
		return store.Created{}, err
	}
	return store.Created{Call: c, Created: true}, nil
}

// recentContactCall returns the newest call for the agent under o's
// contact key (or its legacy form) if it was created within the window.
func recentContactCall(ctx context.Context, q querier, agentID string, o store.CreateOptions) (store.Call, bool, error) {
	keys := []string{o.ContactKey}
	if o.LegacyContactKey != "" {
		keys = append(keys, o.LegacyContactKey)
	}
	for _, k := range keys {
		var id string
		var created int64
		err := q.QueryRow(ctx, `SELECT call_id, created_ns FROM call_contacts WHERE agent_id = $1 AND contact_key = $2`,
			agentID, k).Scan(&id, &created)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return store.Call{}, false, err
		}
		if o.Now.Sub(fromNanos(created)) >= o.DedupeWindow {
			continue
		}
		prev, err := getCall(ctx, q, id, "")
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		return prev, err == nil, err
	}
	return store.Call{}, false, nil
}

// activeCall returns the agent's non-final call to number, if any.
func activeCall(ctx context.Context, q querier, agentID, number string) (store.Call, bool, error) {
	calls, err := queryCalls(ctx, q, `SELECT record FROM calls WHERE agent_id = $1 AND active_number = $2`, agentID, number)
	if err != nil || len(calls) == 0 {
		return store.Call{}, false, err
	}
	return calls[0], true, nil
}

// GetCall returns the call with this id, or store.ErrNotFound.
func (s *Store) GetCall(ctx context.Context, id string) (store.Call, error) {
	return getCall(ctx, s.pool, id, "")
}

// getCall reads one call; lock is "" or a locking clause (FOR UPDATE).
func getCall(ctx context.Context, q querier, id, lock string) (store.Call, error) {
	var raw []byte
	err := q.QueryRow(ctx, `SELECT record FROM calls WHERE id = $1 `+lock, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Call{}, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Call{}, fmt.Errorf("call %s: %w", id, err)
	}
	return decodeCall(id, raw)
}

func decodeCall(id string, raw []byte) (store.Call, error) {
	var c store.Call
	if err := json.Unmarshal(raw, &c); err != nil {
		return store.Call{}, fmt.Errorf("call %s: corrupt record: %w", id, err)
	}
	return c, nil
}

// queryCalls runs a query whose first column is a call record.
func queryCalls(ctx context.Context, q querier, sql string, args ...any) ([]store.Call, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Call
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		c, err := decodeCall("", raw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCall replaces a stored call (its indexed columns follow) and
// commits outbox with it in one transaction.
func (s *Store) UpdateCall(ctx context.Context, c store.Call, outbox []store.OutboxItem) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := getCall(ctx, tx, c.ID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := s.writeCall(ctx, tx, &old, &c); err != nil {
			return err
		}
		return s.putOutbox(ctx, tx, outbox)
	})
	if err != nil {
		return fmt.Errorf("store: update call %s: %w", c.ID, err)
	}
	return nil
}

// MutateCall locks call id, lets fn change it, and writes the result with
// fn's outbox items in one transaction. fn returning store.ErrNoChange
// leaves the call as it was (MutateCall then returns the stored call and
// store.ErrNoChange); any other error aborts.
func (s *Store) MutateCall(ctx context.Context, id string, fn func(c *store.Call) ([]store.OutboxItem, error)) (store.Call, error) {
	var out store.Call
	var unchanged bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := getCall(ctx, tx, id, "FOR UPDATE")
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
		if err := s.writeCall(ctx, tx, &old, &c); err != nil {
			return err
		}
		out = c
		return s.putOutbox(ctx, tx, items)
	})
	if err != nil {
		return store.Call{}, err
	}
	if unchanged {
		return out, store.ErrNoChange
	}
	return out, nil
}

// ActiveCalls returns the non-final calls to number: agentID's one, or
// every agent's (oldest first) when agentID is empty.
func (s *Store) ActiveCalls(ctx context.Context, agentID, number string) ([]store.Call, error) {
	if agentID != "" {
		c, ok, err := activeCall(ctx, s.pool, agentID, number)
		if err != nil || !ok {
			return nil, err
		}
		return []store.Call{c}, nil
	}
	return queryCalls(ctx, s.pool, `SELECT record FROM calls WHERE to_number = $1 AND active_number = $1 ORDER BY created_ns, id`, number)
}

// callWhere is the WHERE clause of f's calls (Limit, Cursor and Search
// aside) and its arguments. A phone filter never matches an erased number,
// as the bbolt phone index holds none.
func callWhere(f store.CallFilter) (string, []any) {
	where, args := "TRUE", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Phone != "" {
		add("to_number = $%d AND to_number <> '"+store.Erased+"'", f.Phone)
	}
	if f.AgentID != "" {
		add("agent_id = $%d", f.AgentID)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if !f.Since.IsZero() {
		add("created_ns >= $%d", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_ns < $%d", nanos(f.Until))
	}
	return where, args
}

// A page cursor is what the bbolt backend hands out: base64 of the last
// call's created time (8 bytes, big-endian Unix nanoseconds) and id, so a
// page resumes strictly after it in (created, id) order.
func encodeCursor(created int64, id string) string {
	return base64.RawURLEncoding.EncodeToString(append(binary.BigEndian.AppendUint64(nil, uint64(created)), id...))
}

func decodeCursor(cur string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cur)
	if err != nil || len(b) < 9 {
		return 0, "", store.ErrBadCursor
	}
	n := binary.BigEndian.Uint64(b[:8])
	if n > math.MaxInt64 {
		n = math.MaxInt64 // later than any call
	}
	return int64(n), string(b[8:]), nil
}

// ListCalls returns the calls matching f, newest first, and the cursor of
// the next page ("" on the last page). With a search, a page reads at most
// store.MaxSearchScan calls and its cursor resumes the scan.
func (s *Store) ListCalls(ctx context.Context, f store.CallFilter) ([]store.Call, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 1000 {
		limit = 1000
	}
	where, args := callWhere(f)
	if f.Cursor != "" {
		created, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, created, id)
		where += fmt.Sprintf(" AND (created_ns, id) < ($%d, $%d)", len(args)-1, len(args))
	}
	search := !f.Search.IsZero()
	read := limit + 1
	if search {
		read = store.MaxSearchScan + limit + 1
	}
	args = append(args, read)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT id, created_ns, record FROM calls WHERE %s
		ORDER BY created_ns DESC, id DESC LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list calls: %w", err)
	}
	defer rows.Close()
	var calls []store.Call
	var last, next string
	scanned := 0
	for rows.Next() {
		var id string
		var created int64
		var raw []byte
		if err := rows.Scan(&id, &created, &raw); err != nil {
			return nil, "", fmt.Errorf("store: list calls: %w", err)
		}
		c, err := decodeCall(id, raw)
		if err != nil {
			return nil, "", err
		}
		if search {
			if scanned == store.MaxSearchScan {
				next = last // the scan stops here; the next page resumes it
				break
			}
			scanned++
			if !f.Search.MatchCall(&c) {
				last = encodeCursor(created, id)
				continue
			}
		}
		if len(calls) == limit {
			next = last // more follow
			break
		}
		calls = append(calls, c)
		last = encodeCursor(created, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list calls: %w", err)
	}
	return calls, next, nil
}

// CountCalls counts the calls matching f (Limit, Cursor and Search ignored).
func (s *Store) CountCalls(ctx context.Context, f store.CallFilter) (int, error) {
	where, args := callWhere(f)
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM calls WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count calls: %w", err)
	}
	return n, nil
}

// SourceCalls returns every call (any agent, any status) made for the CRM
// record f names, oldest first.
func (s *Store) SourceCalls(ctx context.Context, f store.SourceFilter) ([]store.Call, error) {
	if f.Type == "" || f.ObjectID == "" {
		return nil, errors.New("store: source calls: type and object id are required")
	}
	calls, err := sourceCalls(ctx, s.pool, f)
	if err != nil {
		return nil, fmt.Errorf("store: source calls: %w", err)
	}
	return calls, nil
}

func sourceCalls(ctx context.Context, q querier, f store.SourceFilter) ([]store.Call, error) {
	calls, err := queryCalls(ctx, q, `SELECT record FROM calls WHERE source_type = $1 AND source_object_id = $2
		AND source_object_id <> '' ORDER BY created_ns, id`, f.Type, f.ObjectID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(calls, func(c store.Call) bool { return !f.Match(c.Source) }), nil
}
