package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
)

// putOutbox stores items (new, or rewritten by id) in q, a transaction of
// any part: calls.go writes them with the call change they report. Empty
// IDs get a ULID; a zero CreatedAt takes NextAt. Every replica's
// deliverer is woken when q commits.
func (s *Store) putOutbox(ctx context.Context, q querier, items []store.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	n := len(items)
	ids, kinds, callIDs := make([]string, n), make([]string, n), make([]string, n)
	dead, nextAt, records := make([]bool, n), make([]int64, n), make([]string, n)
	for i := range items {
		it := &items[i]
		if it.ID == "" {
			it.ID = s.NewID(time.Now()) // ordered within a millisecond, as ListOutbox pages by id
		}
		if err := store.PrepareOutbox(it); err != nil {
			return err
		}
		raw, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, err)
		}
		ids[i], kinds[i], callIDs[i] = it.ID, it.Kind, it.CallID
		dead[i], nextAt[i], records[i] = it.Dead, nanos(it.NextAt), string(raw)
	}
	if _, err := q.Exec(ctx, `
		INSERT INTO outbox (id, kind, call_id, dead, next_ns, record)
		SELECT id, kind, call_id, dead, next_ns, record::json
		FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::text[])
		  AS t(id, kind, call_id, dead, next_ns, record)
		ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, call_id = EXCLUDED.call_id,
			dead = EXCLUDED.dead, next_ns = EXCLUDED.next_ns, record = EXCLUDED.record, lease_owner = NULL`,
		ids, kinds, callIDs, dead, nextAt, records); err != nil {
		return fmt.Errorf("outbox: store items: %w", err)
	}
	return notify(ctx, q, store.TopicOutbox)
}

// EnqueueOutbox stores items on their own (outside a call change).
func (s *Store) EnqueueOutbox(ctx context.Context, items ...store.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.putOutbox(ctx, tx, items) })
}

// UpdateOutbox rewrites an item after a delivery try (Attempts, NextAt,
// LastError, Dead). It returns store.ErrNotFound if the item is gone.
func (s *Store) UpdateOutbox(ctx context.Context, it store.OutboxItem) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE", it.ID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("outbox item %s: %w", it.ID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, err)
		}
		return s.putOutbox(ctx, tx, []store.OutboxItem{it})
	})
}

// DeleteOutbox removes a delivered (or discarded) item. Deleting a missing
// item is not an error: deliveries are at least once.
func (s *Store) DeleteOutbox(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM outbox WHERE id = $1", id); err != nil {
		return fmt.Errorf("outbox: delete item %s: %w", id, err)
	}
	return nil
}

// GetOutbox reads one item, or store.ErrNotFound.
func (s *Store) GetOutbox(ctx context.Context, id string) (store.OutboxItem, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM outbox WHERE id = $1", id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.OutboxItem{}, fmt.Errorf("outbox item %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("outbox: read item %s: %w", id, err)
	}
	var it store.OutboxItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return store.OutboxItem{}, fmt.Errorf("outbox item %s: corrupt record: %w", id, err)
	}
	return it, nil
}

// ClaimOutbox takes up to limit due items, earliest first, for this
// process until now+lease: their NextAt moves there in the same commit, so
// another replica sees them due again only if this one is gone by then.
// Rows another replica is claiming at this moment are skipped.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	var items []store.OutboxItem
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT record FROM outbox WHERE NOT dead AND next_ns <= $1
			ORDER BY next_ns, id LIMIT $2 FOR UPDATE SKIP LOCKED`, nanos(now), limit)
		if err != nil {
			return err
		}
		if items, err = decodeOutbox(rows); err != nil || len(items) == 0 {
			return err
		}
		until := now.Add(lease).UTC()
		ids, records := make([]string, len(items)), make([]string, len(items))
		for i := range items {
			items[i].NextAt = until
			raw, err := json.Marshal(items[i])
			if err != nil {
				return fmt.Errorf("outbox item %s: %w", items[i].ID, err)
			}
			ids[i], records[i] = items[i].ID, string(raw)
		}
		_, err = tx.Exec(ctx, `
			UPDATE outbox o SET next_ns = $1, record = t.record::json, lease_owner = $4
			FROM unnest($2::text[], $3::text[]) AS t(id, record) WHERE o.id = t.id`,
			nanos(until), ids, records, s.owner)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claim due items: %w", err)
	}
	return items, nil
}

// NextOutboxAt is when the earliest pending item falls due; ok is false
// when nothing is pending.
func (s *Store) NextOutboxAt(ctx context.Context) (time.Time, bool, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM outbox WHERE NOT dead ORDER BY next_ns, id LIMIT 1").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox: read the next due item: %w", err)
	}
	var it store.OutboxItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return time.Time{}, false, fmt.Errorf("outbox: corrupt record: %w", err)
	}
	return it.NextAt, true, nil
}

// ListOutbox lists items oldest first (by id), from f.Cursor on, with the
// cursor for the next page ("" when there is none).
func (s *Store) ListOutbox(ctx context.Context, f store.OutboxFilter) ([]store.OutboxItem, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		SELECT record FROM outbox
		WHERE id >= $1 AND ($2::boolean IS NULL OR dead = $2) AND ($3 = '' OR kind = $3) AND ($4 = '' OR call_id = $4)
		ORDER BY id LIMIT $5`, f.Cursor, f.Dead, f.Kind, f.CallID, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("outbox: list items: %w", err)
	}
	items, err := decodeOutbox(rows)
	if err != nil {
		return nil, "", fmt.Errorf("outbox: list items: %w", err)
	}
	next := ""
	if len(items) > f.Limit {
		next, items = items[f.Limit].ID, items[:f.Limit]
	}
	return items, next, nil
}

// RetryOutbox brings a dead letter back: tries reset, due at now.
func (s *Store) RetryOutbox(ctx context.Context, id string, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT record FROM outbox WHERE id = $1 FOR UPDATE", id)
		if err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		items, err := decodeOutbox(rows)
		if err != nil {
			return fmt.Errorf("outbox item %s: %w", id, err)
		}
		if len(items) == 0 {
			return fmt.Errorf("outbox item %s: %w", id, store.ErrNotFound)
		}
		it := items[0]
		store.Revive(&it, now)
		return s.putOutbox(ctx, tx, []store.OutboxItem{it})
	})
}

// OutboxDepth counts pending items and dead letters.
func (s *Store) OutboxDepth(ctx context.Context) (pending, dead int, err error) {
	err = s.pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE NOT dead), count(*) FILTER (WHERE dead) FROM outbox").
		Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: count items: %w", err)
	}
	return pending, dead, nil
}

func decodeOutbox(rows pgx.Rows) ([]store.OutboxItem, error) {
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, fmt.Errorf("outbox: corrupt record: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}
