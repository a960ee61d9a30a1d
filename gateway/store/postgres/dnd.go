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

// AddDND puts number (already E.164) on the do-not-call list; adding a
// listed number again updates its note and keeps its first AddedAt. One
// upsert, so two replicas adding a number at once keep one entry; a claim
// in flight for the number finishes before it (see dndLockSQL).
func (s *Store) AddDND(ctx context.Context, number, note string, now time.Time) error {
	if number == "" {
		return errors.New("store: add DND: empty number")
	}
	raw, err := json.Marshal(store.DNDEntry{Number: number, Note: note, AddedAt: now.UTC()})
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The number's lock, exclusive: a claim holding it shared (ClaimDue,
		// dndLockSQL) finishes first, and a later claim sees the entry.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('callgate:dnd:' || $1, 0))`, number); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
		INSERT INTO dnd (number, record) VALUES ($1, $2::json)
		ON CONFLICT (number) DO UPDATE SET record = json_build_object(
			'number', EXCLUDED.number,
			'note', EXCLUDED.record->'note',
			'added_at', coalesce(dnd.record->'added_at', EXCLUDED.record->'added_at'))`, number, string(raw))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add %s to DND: %w", number, err)
	}
	return nil
}

// RemoveDND takes number off the list; store.ErrNotFound if it was not on it.
func (s *Store) RemoveDND(ctx context.Context, number string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM dnd WHERE number = $1", number)
	if err != nil {
		return fmt.Errorf("store: remove %s from DND: %w", number, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("DND number %s: %w", number, store.ErrNotFound)
	}
	return nil
}

// ListDND returns the whole list, ordered by number.
func (s *Store) ListDND(ctx context.Context) ([]store.DNDEntry, error) {
	rows, err := s.pool.Query(ctx, "SELECT number, record FROM dnd ORDER BY number")
	if err != nil {
		return nil, fmt.Errorf("store: list DND: %w", err)
	}
	defer rows.Close()
	var out []store.DNDEntry
	for rows.Next() {
		var number string
		var raw []byte
		if err := rows.Scan(&number, &raw); err != nil {
			return nil, fmt.Errorf("store: list DND: %w", err)
		}
		var e store.DNDEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("DND entry %s: corrupt record: %w", number, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// IsDND reports whether number is on the list.
func (s *Store) IsDND(ctx context.Context, number string) (bool, error) {
	on, err := listedDND(ctx, s.pool, number)
	if err != nil {
		return false, fmt.Errorf("store: read DND: %w", err)
	}
	return on, nil
}

// listedDND reports whether number is on the list as q sees it: ClaimDue
// (schedule.go) asks inside its own transaction.
func listedDND(ctx context.Context, q querier, number string) (bool, error) {
	if number == "" {
		return false, nil
	}
	var on bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM dnd WHERE number = $1)", number).Scan(&on)
	return on, err
}
