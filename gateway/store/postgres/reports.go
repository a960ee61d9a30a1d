package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
)

// CallStats sums up the calls created between consecutive bounds, one
// PeriodStats per pair (bounds ascending, at least two). It reads the
// calls created in [first bound, last bound) by the created index, and of
// each only its status and its attempts' ends and durations.
func (s *Store) CallStats(ctx context.Context, bounds []time.Time) ([]store.PeriodStats, error) {
	out, err := store.NewPeriods(bounds)
	if err != nil {
		return nil, err
	}
	keys := make([]int64, len(bounds))
	for i, b := range bounds {
		keys[i] = nanos(b)
	}
	rows, err := s.pool.Query(ctx, `SELECT created_ns, status, record->'attempts' FROM calls
		WHERE created_ns >= $1 AND created_ns < $2`, keys[0], keys[len(keys)-1])
	if err != nil {
		return nil, fmt.Errorf("store: call stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var created int64
		var status string
		var raw []byte
		if err := rows.Scan(&created, &status, &raw); err != nil {
			return nil, fmt.Errorf("store: call stats: %w", err)
		}
		// The period whose bounds hold created: the last bound at or before it.
		p, found := slices.BinarySearch(keys, created)
		if !found {
			p--
		}
		if p < 0 || p >= len(out) {
			continue
		}
		c := store.StatsCall{Status: status}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &c.Attempts); err != nil {
				return nil, fmt.Errorf("store: call stats: corrupt call attempts: %w", err)
			}
		}
		out[p].Add(c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: call stats: %w", err)
	}
	return out, nil
}

// Audit computes the figures of f's period from one snapshot of the
// database (a repeatable-read transaction), so its counts agree with each
// other while replicas keep writing.
func (s *Store) Audit(ctx context.Context, f store.AuditFilter) (store.Audit, error) {
	a := store.NewAudit(f)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := auditEvents(ctx, tx, f, a); err != nil {
			return err
		}
		return s.listed(ctx, tx, f.Integrations, f.Since, f.Until, a.AddRecord)
	})
	if err != nil {
		return store.Audit{}, fmt.Errorf("audit: %w", err)
	}
	return a.Finish(), nil
}

// auditEvents counts the events received in f's period (of f's agent):
// how they came, their statuses, the calls they became with those calls'
// statuses now, and the reasons of those that became none.
func auditEvents(ctx context.Context, tx pgx.Tx, f store.AuditFilter, a *store.Audit) error {
	where, args := "TRUE", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	// The column is microseconds; the record's nanoseconds decide below.
	if !f.Since.IsZero() {
		add("e.received_at >= $%d", f.Since.Add(-time.Microsecond))
	}
	if !f.Until.IsZero() {
		add("e.received_at < $%d", f.Until.Add(time.Microsecond))
	}
	if f.AgentID != "" {
		add("e.agent_id = $%d", f.AgentID)
	}
	rows, err := tx.Query(ctx, `SELECT e.record, c.status FROM events e
		LEFT JOIN calls c ON c.id = e.record->>'call_id' WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		var callStatus *string
		if err := rows.Scan(&raw, &callStatus); err != nil {
			return err
		}
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("corrupt event record: %w", err)
		}
		if (!f.Since.IsZero() && ev.ReceivedAt.Before(f.Since)) || (!f.Until.IsZero() && !ev.ReceivedAt.Before(f.Until)) {
			continue
		}
		status := "unknown"
		if callStatus != nil {
			status = *callStatus
		}
		a.AddEvent(&ev, status)
	}
	return rows.Err()
}

// Unaccounted counts integration's listed records created in [since,
// until) that have no event.
func (s *Store) Unaccounted(ctx context.Context, integration string, since, until time.Time) (int, error) {
	n := 0
	err := s.listed(ctx, s.pool, []string{integration}, since, until, func(_ store.ListedRecord, covered bool) {
		if !covered {
			n++
		}
	})
	if err != nil {
		return 0, fmt.Errorf("store: unaccounted records of %s: %w", integration, err)
	}
	return n, nil
}
