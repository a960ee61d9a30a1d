package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/store"
)

// What gateway/reconcile remembers: its checkpoints and the records it
// listed (migrations/0002_calls.sql), and what it asks of the inbox (the
// events table and its events_object index). Event ids are ULIDs, digits
// and upper-case letters, which every collation orders as bytes: the
// events' own indexes give bbolt's order.

// EventsForObject returns the ids of the events (any agent, any status,
// oldest first) that came through integration for one CRM record.
func (s *Store) EventsForObject(ctx context.Context, integration, objectType, objectID string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM events
		WHERE integration = $1 AND object_type = $2 AND object_id = $3 AND object_id <> ''
		ORDER BY id`, integration, objectType, objectID)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s %s %s: %w", integration, objectType, objectID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: events of %s %s %s: %w", integration, objectType, objectID, err)
	}
	return ids, nil
}

// LatestEvents returns, for each object id of one integration and object
// type that any event came through for, when the newest of them was
// received (its ULID's time, as the bbolt backend reads it). Ids without
// an event are absent.
func (s *Store) LatestEvents(ctx context.Context, integration, objectType string, objectIDs []string) (map[string]time.Time, error) {
	latest := make(map[string]time.Time, len(objectIDs))
	rows, err := s.pool.Query(ctx, `SELECT object_id, max(id) FROM events
		WHERE integration = $1 AND object_type = $2 AND object_id = ANY($3) AND object_id <> ''
		GROUP BY object_id`, integration, objectType, objectIDs)
	if err != nil {
		return nil, fmt.Errorf("store: latest events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var objectID, id string
		if err := rows.Scan(&objectID, &id); err != nil {
			return nil, fmt.Errorf("store: latest events: %w", err)
		}
		u, err := ulid.ParseStrict(id)
		if err != nil {
			return nil, fmt.Errorf("store: latest events: bad event id %q: %w", id, err)
		}
		latest[objectID] = ulid.Time(u.Time()).UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest events: %w", err)
	}
	return latest, nil
}

// Checkpoint is how far reconciliation of integration has listed (by
// creation, or by modification); zero if it never has.
func (s *Store) Checkpoint(ctx context.Context, integration, listing string) (time.Time, error) {
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT at_ns FROM reconcile_checkpoints WHERE integration = $1 AND listing = $2`,
		integration, listing).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: reconciliation checkpoint of %s (%s): %w", integration, listing, err)
	}
	return fromNanos(at), nil
}

// pruneBatch bounds how many listed records one RecordListing forgets (a
// later page prunes the rest).
const pruneBatch = 10000

// RecordListing commits, in one transaction, the records a page of a
// listing found and the checkpoint it reached. The checkpoint never moves
// back, also when two replicas record pages at once. Records created
// before prune are forgotten.
func (s *Store) RecordListing(ctx context.Context, integration, listing string, checkpoint time.Time, recs []store.ListedRecord, prune time.Time) error {
	var ins, types, ids []string
	var created []int64
	for _, r := range recs {
		if r.CreatedAt.IsZero() || r.CreatedAt.Before(prune) {
			continue
		}
		ins, types, ids = append(ins, r.Integration), append(types, r.ObjectType), append(ids, r.ObjectID)
		created = append(created, nanos(r.CreatedAt))
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if len(ins) > 0 {
			_, err := tx.Exec(ctx, `INSERT INTO reconcile_listed (integration, created_ns, object_type, object_id)
				SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
				ins, created, types, ids)
			if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO reconcile_checkpoints (integration, listing, at_ns) VALUES ($1, $2, $3)
			ON CONFLICT (integration, listing) DO UPDATE SET at_ns = greatest(reconcile_checkpoints.at_ns, EXCLUDED.at_ns)`,
			integration, listing, checkpoint.UnixNano())
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM reconcile_listed WHERE (integration, created_ns, object_type, object_id) IN (
			SELECT integration, created_ns, object_type, object_id FROM reconcile_listed
			WHERE integration = $1 AND created_ns < $2 ORDER BY created_ns LIMIT $3)`, integration, nanos(prune), pruneBatch)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record a listing of %s (%s): %w", integration, listing, err)
	}
	return nil
}

// ListedRecords returns the records reconciliation listed for integration
// that were created in the CRM in [since, until), by integration and then
// oldest first; all integrations when integration is "".
func (s *Store) ListedRecords(ctx context.Context, integration string, since, until time.Time) ([]store.ListedRecord, error) {
	var out []store.ListedRecord
	err := s.listed(ctx, s.pool, integrationList(integration), since, until, func(r store.ListedRecord, _ bool) {
		out = append(out, r)
	})
	if err != nil {
		return nil, fmt.Errorf("store: listed records: %w", err)
	}
	return out, nil
}

// integrationList is the integrations filter of one name: nil (all) for "".
func integrationList(integration string) []string {
	if integration == "" {
		return nil
	}
	return []string{integration}
}

// listed calls fn with each listed record of integrations (nil: all)
// created in [since, until), in order, and whether any event came for it.
func (s *Store) listed(ctx context.Context, q querier, integrations []string, since, until time.Time, fn func(r store.ListedRecord, covered bool)) error {
	rows, err := q.Query(ctx, `SELECT l.integration, l.created_ns, l.object_type, l.object_id,
			EXISTS (SELECT 1 FROM events e WHERE e.integration = l.integration AND e.object_type = l.object_type
				AND e.object_id = l.object_id AND e.object_id <> '')
		FROM reconcile_listed l
		WHERE l.created_ns >= $1 AND l.created_ns < $2 AND ($3::text[] IS NULL OR l.integration = ANY($3))
		ORDER BY l.integration, l.created_ns, l.object_type, l.object_id`, nanos(since), nanos(until), integrations)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r store.ListedRecord
		var created int64
		var covered bool
		if err := rows.Scan(&r.Integration, &created, &r.ObjectType, &r.ObjectID, &covered); err != nil {
			return err
		}
		r.CreatedAt = fromNanos(created)
		fn(r, covered)
	}
	return rows.Err()
}

// accountScan bounds how many of the newest events RecentAccount reads.
const accountScan = 5000

// RecentAccount is the CRM account (HubSpot's portal id) of the newest of
// integration's events that names one, among the newest accountScan
// events; "" if none does.
func (s *Store) RecentAccount(ctx context.Context, integration string) (string, error) {
	var account string
	err := s.pool.QueryRow(ctx, `SELECT record->>'account' FROM (
			SELECT id, integration, record FROM events ORDER BY id DESC LIMIT $2) newest
		WHERE integration = $1 AND coalesce(record->>'account', '') <> ''
		ORDER BY id DESC LIMIT 1`, integration, accountScan).Scan(&account)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: recent account of %s: %w", integration, err)
	}
	return account, nil
}
