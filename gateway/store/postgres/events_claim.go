package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
)

// ClaimEvents leases up to max pending events that are due (NotBefore ≤
// now, no unexpired lease), oldest due first, to this process until
// now+lease. Rows another replica is claiming at this moment are skipped
// (SKIP LOCKED), and a leased event is due again only when its lease ends:
// a live replica's claim is never taken, a gone one's is taken back once
// it expires.
func (s *Store) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, max int) ([]store.Event, error) {
	if max <= 0 {
		return nil, nil
	}
	until := nanos(now.Add(lease))
	rows, err := s.pool.Query(ctx, `
		WITH due AS (
			SELECT id, due_ns FROM events WHERE due_ns <= $1
			ORDER BY due_ns, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE events e SET lease_owner = $3, lease_ns = $4, due_ns = $4
		FROM due WHERE e.id = due.id
		RETURNING due.due_ns, e.record`, nanos(now), max, s.owner, until)
	if err != nil {
		return nil, fmt.Errorf("inbox: claim events: %w", err)
	}
	type claimed struct {
		due int64
		ev  store.Event
	}
	var out []claimed
	for rows.Next() {
		var c claimed
		var raw []byte
		if err := rows.Scan(&c.due, &raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox: claim events: %w", err)
		}
		if err := json.Unmarshal(raw, &c.ev); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox: claim events: decode an event: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: claim events: %w", err)
	}
	// RETURNING keeps no order: restore the queue's.
	slices.SortFunc(out, func(a, b claimed) int {
		return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.ev.ID, b.ev.ID))
	})
	evs := make([]store.Event, len(out))
	for i, c := range out {
		evs[i] = c.ev
	}
	return evs, nil
}

// SaveEvents stores what became of events (found by ID) in one commit and
// releases their leases. A pending event becomes due at its NotBefore; any
// other status leaves the queue. An unknown id fails the whole commit with
// store.ErrNotFound.
func (s *Store) SaveEvents(ctx context.Context, evs []store.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var c eventColumns
	now := time.Now().UTC()
	for _, ev := range evs {
		if ev.UpdatedAt.IsZero() {
			ev.UpdatedAt = now
		}
		if err := c.add(&ev); err != nil {
			return fmt.Errorf("inbox: save events: %w", err)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		found, err := updateEvents(ctx, tx, &c)
		if err != nil {
			return err
		}
		for _, id := range c.ids {
			if !slices.Contains(found, id) {
				return fmt.Errorf("event %s: %w", id, store.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: save events: %w", err)
	}
	return nil
}

// GetEvent returns the event with id, or store.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, id string) (store.Event, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM events WHERE id = $1", id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Event{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Event{}, fmt.Errorf("inbox: read event %s: %w", id, err)
	}
	var ev store.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return store.Event{}, fmt.Errorf("event %s: corrupt record: %w", id, err)
	}
	return ev, nil
}

// decodeEvents reads rows of one record column.
func decodeEvents(rows pgx.Rows) ([]store.Event, error) {
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode an event: %w", err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// updateEvents rewrites the events of c (every column, the lease
// released) and returns the ids it found.
func updateEvents(ctx context.Context, q querier, c *eventColumns) ([]string, error) {
	rows, err := q.Query(ctx, `
		UPDATE events e SET agent_id = t.agent_id, integration = t.integration, type = t.type,
			object_type = t.object_type, object_id = t.object_id, status = t.status,
			received_at = t.received_at, due_ns = t.due_ns, record = t.record::json,
			lease_owner = NULL, lease_ns = NULL
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		            $8::timestamptz[], $9::bigint[], $10::text[])
		  AS t(id, agent_id, integration, type, object_type, object_id, status, received_at, due_ns, record)
		WHERE e.id = t.id
		RETURNING e.id`, c.args()...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
