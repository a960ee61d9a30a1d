package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
)

// expireBatch bounds how many dedupe keys one ExpireKeys commit deletes,
// so a sweep after a long stop does not hold one huge transaction.
const expireBatch = 10000

// PendingEvents counts the events waiting for a pipeline (leased or not),
// across every replica; a deep queue's count may be pendingFresh old.
func (s *Store) PendingEvents(ctx context.Context) (int, error) {
	return s.pending.get(func() (int, error) {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE due_ns IS NOT NULL").Scan(&n); err != nil {
			return 0, fmt.Errorf("inbox: count pending events: %w", err)
		}
		return n, nil
	})
}

// Ingest asks for the pending count on every webhook (the high-water
// mark). Webhooks asking while a count is being read share that count
// instead of each running their own (they would queue for one statement
// each, and feed the plugin one webhook at a time). A queue of deepQueue
// events or more, whose count is not free, is counted at most every
// pendingFresh: the mark needs no finer precision there.
const (
	deepQueue    = 10000
	pendingFresh = 250 * time.Millisecond
)

// pendingCount remembers the last count, when it was read, and the read
// in flight.
type pendingCount struct {
	mu     sync.Mutex
	n      int
	at     time.Time
	flight *pendingRead
}

type pendingRead struct {
	done chan struct{}
	n    int
	err  error
}

func (p *pendingCount) get(read func() (int, error)) (int, error) {
	p.mu.Lock()
	if p.n >= deepQueue && time.Since(p.at) < pendingFresh {
		n := p.n
		p.mu.Unlock()
		return n, nil
	}
	if f := p.flight; f != nil {
		p.mu.Unlock()
		<-f.done
		return f.n, f.err
	}
	f := &pendingRead{done: make(chan struct{})}
	p.flight = f
	p.mu.Unlock()

	f.n, f.err = read()
	p.mu.Lock()
	p.flight = nil
	if f.err == nil {
		p.n, p.at = f.n, time.Now()
	}
	p.mu.Unlock()
	close(f.done)
	return f.n, f.err
}

// PendingByAgent counts the pending events (leased or not) by agent and
// then by integration: what a config reload must not strand.
func (s *Store) PendingByAgent(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT agent_id, integration, count(*) FROM events WHERE due_ns IS NOT NULL
		GROUP BY agent_id, integration`)
	if err != nil {
		return nil, fmt.Errorf("inbox: count pending events: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var agent, integration string
		var n int
		if err := rows.Scan(&agent, &integration, &n); err != nil {
			return nil, fmt.Errorf("inbox: count pending events: %w", err)
		}
		if out[agent] == nil {
			out[agent] = map[string]int{}
		}
		out[agent][integration] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: count pending events: %w", err)
	}
	return out, nil
}

// WakeOrphans makes the pending events that wait for a missing agent or
// integration (OrphanedAt set, NotBefore after now) due at now when back
// says their agent and integration are in the config again. Leased events
// are left to their worker. It returns how many were woken.
func (s *Store) WakeOrphans(ctx context.Context, now time.Time, back func(agent, integration string) bool) (int, error) {
	// Only the agents and integrations with waiting events are asked
	// about; most reloads bring nobody back and write nothing.
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT agent_id, integration FROM events
		WHERE due_ns > $1 AND (lease_ns IS NULL OR lease_ns <= $1)
		  AND record->>'orphaned_at' IS NOT NULL`, nanos(now)) // omitempty: set only while orphaned
	if err != nil {
		return 0, fmt.Errorf("inbox: find events of returned agents: %w", err)
	}
	var agents, integrations []string
	for rows.Next() {
		var a, i string
		if err := rows.Scan(&a, &i); err != nil {
			rows.Close()
			return 0, fmt.Errorf("inbox: find events of returned agents: %w", err)
		}
		if back(a, i) {
			agents, integrations = append(agents, a), append(integrations, i)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("inbox: find events of returned agents: %w", err)
	}
	if len(agents) == 0 {
		return 0, nil
	}
	n := 0
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `
			SELECT e.record FROM events e
			JOIN unnest($2::text[], $3::text[]) AS b(agent_id, integration)
			  ON e.agent_id = b.agent_id AND e.integration = b.integration
			WHERE e.due_ns > $1 AND (e.lease_ns IS NULL OR e.lease_ns <= $1)
			FOR UPDATE OF e SKIP LOCKED`, nanos(now), agents, integrations)
		if err != nil {
			return err
		}
		evs, err := decodeEvents(rows)
		if err != nil {
			return err
		}
		var woken eventColumns
		for _, ev := range evs {
			if !store.WaitsForConfig(ev, now) {
				continue
			}
			store.Wake(&ev, now)
			if err := woken.add(&ev); err != nil {
				return err
			}
		}
		if len(woken.ids) == 0 {
			return nil
		}
		n = len(woken.ids)
		if _, err := updateEvents(ctx, tx, &woken); err != nil {
			return err
		}
		return notify(ctx, tx, store.TopicInbox)
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: wake events of returned agents: %w", err)
	}
	if n > 0 {
		s.wake.signal(store.TopicInbox)
	}
	return n, nil
}

// ExpireKeys forgets dedupe keys that expired by now and returns how many.
// Keys another replica is deleting at the same time are left to it.
func (s *Store) ExpireKeys(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, `
			DELETE FROM event_keys WHERE key IN (
				SELECT key FROM event_keys WHERE expires_ns <= $1
				LIMIT $2 FOR UPDATE SKIP LOCKED)`, nanos(now), expireBatch)
		if err != nil {
			return total, fmt.Errorf("inbox: expire dedupe keys: %w", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < expireBatch {
			return total, nil
		}
	}
}
