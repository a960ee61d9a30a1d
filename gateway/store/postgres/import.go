package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callgate/callgate/gateway/store"
)

// Import is the receiving end of `callgate store copy` (store.Copy): it
// writes a batch of items, in one transaction, as they were in the store
// they came from. Every row is an upsert by its key, so a copy run again
// rewrites the same rows and adds none; ids, statuses and times are kept,
// and the indexed columns are derived from the records exactly as the
// backend's own writes derive them.
//
// Leases are the one thing not carried over as they were: the source was
// a stopped gateway, so its leases belong to a process that is gone.
//   - A pending event's lease lives outside its record (bbolt keeps it in
//     its due index, which Export does not yield): a copied event is
//     unleased, due at its NotBefore, and the first ClaimEvents takes it,
//     as bbolt's own Open would release it.
//   - A dialing call keeps its LeaseUntil (it is part of the record, and it
//     is how long the attempt's outcome webhook is still taken), with
//     CopiedOwner as the lease's owner. No replica owns it, so once it
//     expires it is taken back like the lease of any replica that is gone:
//     a replica starting after that settles it in Recover (OrphanedDialing),
//     one already running fails the attempt with "no outcome" (ExpiredLeases)
//     and the retry ladder goes on.

var _ store.Importer = (*Store)(nil)

// CopiedOwner is the lease owner of the dialing calls Import writes: the
// gateway they were copied from, which is stopped.
const CopiedOwner = "copied"

// Import upserts items in one transaction (see above). An item that
// clashes with another row, such as a copied active call to a number that
// another call in the database is already dialing, fails the batch with
// what clashed.
func (s *Store) Import(ctx context.Context, items []store.Item) error {
	var b importBatch
	for _, it := range items {
		if err := b.add(it); err != nil {
			return fmt.Errorf("store: import into %s: %w", s.url, err)
		}
	}
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return s.writeImport(ctx, tx, &b) }); err != nil {
		return fmt.Errorf("store: import %d items into %s: %w", len(items), s.url, err)
	}
	return nil
}

// importBatch is a batch of items sorted by kind.
type importBatch struct {
	events      eventColumns
	pending     bool // some event is pending: wake the inboxes
	keys        []store.KeyItem
	calls       []*store.Call
	contacts    []store.ContactItem
	outbox      []store.OutboxItem
	dnd         []store.DNDEntry
	checkpoints []store.CheckpointItem
	listed      []store.ListedRecord
}

func (b *importBatch) add(it store.Item) error {
	switch {
	case it.Event != nil:
		b.pending = b.pending || it.Event.Status == store.EventPending
		return b.events.add(it.Event)
	case it.Key != nil:
		b.keys = append(b.keys, *it.Key)
	case it.Call != nil:
		if it.Call.ID == "" || it.Call.AgentID == "" {
			return errors.New("a call without an id or agent id")
		}
		b.calls = append(b.calls, it.Call)
	case it.Contact != nil:
		b.contacts = append(b.contacts, *it.Contact)
	case it.Outbox != nil:
		if it.Outbox.ID == "" {
			return fmt.Errorf("an outbox item of call %s without an id", it.Outbox.CallID)
		}
		b.outbox = append(b.outbox, *it.Outbox)
	case it.DND != nil:
		if it.DND.Number == "" {
			return errors.New("a DND entry without a number")
		}
		b.dnd = append(b.dnd, *it.DND)
	case it.Checkpoint != nil:
		b.checkpoints = append(b.checkpoints, *it.Checkpoint)
	case it.Listed != nil:
		b.listed = append(b.listed, *it.Listed)
	default:
		return errors.New("an empty item")
	}
	return nil
}

// importEventsSQL upserts events with the columns eventColumns derives,
// the lease released (see Import).
const importEventsSQL = `
INSERT INTO events AS e (id, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record)
SELECT id, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record::json
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::timestamptz[], $9::bigint[], $10::text[])
  AS t(id, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record)
ON CONFLICT (id) DO UPDATE SET agent_id = EXCLUDED.agent_id, integration = EXCLUDED.integration,
	type = EXCLUDED.type, object_type = EXCLUDED.object_type, object_id = EXCLUDED.object_id,
	status = EXCLUDED.status, received_at = EXCLUDED.received_at, due_ns = EXCLUDED.due_ns,
	record = EXCLUDED.record, lease_owner = NULL, lease_ns = NULL`

// importCallSQL is insertCallSQL's row, rewritten when the id is there.
const importCallSQL = `INSERT INTO calls (id, agent_id, status, to_number, active_number, dialer,
	next_attempt_ns, lease_until_ns, lease_owner, source_type, source_object_id, created_ns, record)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (id) DO UPDATE SET agent_id = EXCLUDED.agent_id, status = EXCLUDED.status,
	to_number = EXCLUDED.to_number, active_number = EXCLUDED.active_number, dialer = EXCLUDED.dialer,
	next_attempt_ns = EXCLUDED.next_attempt_ns, lease_until_ns = EXCLUDED.lease_until_ns,
	lease_owner = EXCLUDED.lease_owner, source_type = EXCLUDED.source_type,
	source_object_id = EXCLUDED.source_object_id, created_ns = EXCLUDED.created_ns, record = EXCLUDED.record`

// The smaller kinds, one row each.
const (
	importKeySQL = `INSERT INTO event_keys (key, event_id, expires_ns) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET event_id = EXCLUDED.event_id, expires_ns = EXCLUDED.expires_ns`
	importContactSQL = `INSERT INTO call_contacts (agent_id, contact_key, call_id, created_ns) VALUES ($1, $2, $3, $4)
		ON CONFLICT (agent_id, contact_key) DO UPDATE SET call_id = EXCLUDED.call_id, created_ns = EXCLUDED.created_ns`
	importDNDSQL = `INSERT INTO dnd (number, record) VALUES ($1, $2::json)
		ON CONFLICT (number) DO UPDATE SET record = EXCLUDED.record`
	// A checkpoint never moves back (RecordListing): a copy run again
	// after replicas listed further leaves their checkpoint.
	importCheckpointSQL = `INSERT INTO reconcile_checkpoints (integration, listing, at_ns) VALUES ($1, $2, $3)
		ON CONFLICT (integration, listing) DO UPDATE SET at_ns = greatest(reconcile_checkpoints.at_ns, EXCLUDED.at_ns)`
	importListedSQL = `INSERT INTO reconcile_listed (integration, created_ns, object_type, object_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`
)

// writeImport writes b in tx: the events in one statement, the other rows
// in one round trip, the outbox through putOutbox; then wakes the
// replicas that may be running already, at commit.
func (s *Store) writeImport(ctx context.Context, tx pgx.Tx, b *importBatch) error {
	if len(b.events.ids) > 0 {
		if _, err := tx.Exec(ctx, importEventsSQL, b.events.args()...); err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
	var q pgx.Batch
	var what []string // what each queued statement writes, for its error
	queue := func(desc, sql string, args ...any) {
		q.Queue(sql, args...)
		what = append(what, desc)
	}
	var topics []string
	for _, k := range b.keys {
		queue("dedupe key of event "+k.EventID, importKeySQL, k.Key, k.EventID, nanos(k.Expires))
	}
	for _, c := range b.calls {
		raw, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("call %s: %w", c.ID, err)
		}
		cc := columnsOf(c, CopiedOwner)
		queue("call "+c.ID, importCallSQL, c.ID, c.AgentID, c.Status, c.ToNumber, cc.activeNumber, c.Dialer,
			cc.nextAttempt, cc.leaseUntil, cc.leaseOwner, c.Source.Type, c.Source.ObjectID, nanos(c.CreatedAt), string(raw))
		if cc.nextAttempt != nil {
			topics = append(topics, store.TopicDialer(c.Dialer))
		}
	}
	for _, e := range b.contacts {
		queue("contact entry of call "+e.CallID, importContactSQL, e.AgentID, e.ContactKey, e.CallID, nanos(e.CreatedAt))
	}
	for _, e := range b.dnd {
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("DND entry %s: %w", e.Number, err)
		}
		// AddDND's lock: a claim in flight for the number finishes first.
		queue("DND entry "+e.Number, `SELECT pg_advisory_xact_lock(hashtextextended('callgate:dnd:' || $1, 0))`, e.Number)
		queue("DND entry "+e.Number, importDNDSQL, e.Number, string(raw))
	}
	for _, c := range b.checkpoints {
		queue("checkpoint of "+c.Integration, importCheckpointSQL, c.Integration, c.Listing, c.At.UnixNano())
	}
	for _, r := range b.listed {
		queue("listed record "+r.ObjectType+" "+r.ObjectID, importListedSQL, r.Integration, nanos(r.CreatedAt), r.ObjectType, r.ObjectID)
	}
	if b.pending {
		topics = append(topics, store.TopicInbox)
	}
	if len(topics) > 0 {
		slices.Sort(topics)
		queue("wake-ups", "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", wakeChannel, slices.Compact(topics))
	}
	if err := sendAll(ctx, tx, &q, what); err != nil {
		return err
	}
	return s.putOutbox(ctx, tx, b.outbox)
}

// sendAll runs the queued statements and returns the first failure,
// named by what.
func sendAll(ctx context.Context, tx pgx.Tx, q *pgx.Batch, what []string) error {
	if q.Len() == 0 {
		return nil
	}
	res := tx.SendBatch(ctx, q)
	for _, desc := range what {
		if _, err := res.Exec(); err != nil {
			res.Close()
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.ConstraintName == "calls_active_number" {
				return fmt.Errorf("%s: its agent already has another active call to this number in the database "+
					"(did a gateway run on this database already?): %w", desc, err)
			}
			return fmt.Errorf("%s: %w", desc, err)
		}
	}
	return res.Close()
}
