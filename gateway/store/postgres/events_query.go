package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/callgate/callgate/gateway/store"
)

// searchChunk is how many events a search reads per query.
const searchChunk = 500

// ListEvents returns matching events newest first and the cursor of the
// next page ("" when there is none), as the bolt backend pages them.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var out []store.Event
	next, err := s.scanEvents(ctx, f, func(ev *store.Event) bool {
		out = append(out, *ev)
		return len(out) < f.Limit
	})
	if err != nil {
		return nil, "", fmt.Errorf("inbox: list events: %w", err)
	}
	return out, next, nil
}

// scanEvents walks the events matching f newest first (strictly before
// f.Cursor) and calls yield with each until yield returns false. It
// returns the cursor of the next page: the last yielded id when another
// match follows, or (for a search) the last id read once MaxSearchScan
// events were read; "" at the end. The status, agent, type and time
// filters are the query's; a search is matched here, with the events'
// calls, as store.Search defines it.
func (s *Store) scanEvents(ctx context.Context, f store.EventFilter, yield func(ev *store.Event) bool) (string, error) {
	search := !f.Search.IsZero()
	chunk := f.Limit + 1
	if search {
		chunk = searchChunk
	}
	cursor, last, scanned, stopped := f.Cursor, "", 0, false
	for {
		evs, err := s.eventPage(ctx, f, cursor, chunk)
		if err != nil {
			return "", err
		}
		var calls map[string]*store.Call
		if search {
			if calls, err = s.eventCalls(ctx, evs); err != nil {
				return "", err
			}
		}
		for i := range evs {
			ev := &evs[i]
			if search && scanned == store.MaxSearchScan {
				return last, nil // the scan stops here; the next page resumes it
			}
			scanned++
			if !stopped {
				last = ev.ID
			}
			if search && !f.Search.MatchEvent(ev, calls[ev.CallID]) {
				continue
			}
			if stopped {
				return last, nil // another match follows the page
			}
			stopped = !yield(ev)
		}
		if len(evs) < chunk {
			return "", nil
		}
		cursor = evs[len(evs)-1].ID
	}
}

// eventPage reads up to n events matching f's columns, newest first,
// before cursor.
func (s *Store) eventPage(ctx context.Context, f store.EventFilter, cursor string, n int) ([]store.Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT record FROM events
		WHERE ($1 = '' OR id < $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR agent_id = $3)
		  AND ($4 = '' OR type = $4)
		  AND ($5::timestamptz IS NULL OR received_at >= $5) AND ($6::timestamptz IS NULL OR received_at < $6)
		ORDER BY id DESC LIMIT $7`,
		cursor, f.Status, f.AgentID, f.Type, optTime(f.Since), optTime(f.Until), n)
	if err != nil {
		return nil, err
	}
	return decodeEvents(rows)
}

// optTime is t as a nullable timestamp: NULL for the zero time.
func optTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// eventCalls reads the calls evs became, by id.
func (s *Store) eventCalls(ctx context.Context, evs []store.Event) (map[string]*store.Call, error) {
	var ids []string
	for _, ev := range evs {
		if ev.CallID != "" {
			ids = append(ids, ev.CallID)
		}
	}
	calls := map[string]*store.Call{}
	if len(ids) == 0 {
		return calls, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT id, record FROM calls WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, fmt.Errorf("read the events' calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("read the events' calls: %w", err)
		}
		c := new(store.Call)
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("call %s: corrupt record: %w", id, err)
		}
		calls[id] = c
	}
	return calls, rows.Err()
}

// ViewEvents joins each event with its call's current status, in one
// read. An event whose call is gone (or that has none) keeps its own.
func (s *Store) ViewEvents(ctx context.Context, evs []store.Event) ([]store.EventView, error) {
	calls, err := s.eventCalls(ctx, evs)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	out := make([]store.EventView, len(evs))
	for i, ev := range evs {
		out[i] = store.EventView{Event: ev}
		if c := calls[ev.CallID]; c != nil {
			out[i].CallStatus, out[i].CallReason, out[i].CallTimezone = c.Status, c.Reason, c.Policy.Timezone
		}
	}
	return out, nil
}

// ReplayEvent puts a failed, skipped, ignored or blocked event back in the
// queue: status pending, reason and tries cleared, the old outcome kept in
// History. Pending and called events give store.ErrNotReplayable.
func (s *Store) ReplayEvent(ctx context.Context, id string, now time.Time) (store.Event, error) {
	var ev store.Event
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		evs, err := lockEvents(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return fmt.Errorf("event %s: %w", id, store.ErrNotFound)
		}
		ev = evs[0]
		if err := store.Replay(&ev, now); err != nil {
			return err
		}
		var c eventColumns
		if err := c.add(&ev); err != nil {
			return err
		}
		if _, err := updateEvents(ctx, tx, &c); err != nil {
			return err
		}
		return notify(ctx, tx, store.TopicInbox)
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("inbox: replay: %w", err)
	}
	s.wake.signal(store.TopicInbox)
	return ev, nil
}

// lockEvents reads the events with ids and locks them until tx ends.
func lockEvents(ctx context.Context, tx pgx.Tx, ids []string) ([]store.Event, error) {
	rows, err := tx.Query(ctx, "SELECT record FROM events WHERE id = ANY($1) ORDER BY id FOR UPDATE", ids)
	if err != nil {
		return nil, err
	}
	return decodeEvents(rows)
}

// bulkReplayBatch is how many replays share one transaction.
const bulkReplayBatch = 500

// ReplayEvents replays every event matching f (Limit and Cursor are
// ignored), as ReplayEvent does one by one, up to store.MaxBulkReplay.
// With dryRun nothing changes and the result says what would happen.
func (s *Store) ReplayEvents(ctx context.Context, f store.EventFilter, now time.Time, dryRun bool) (store.BulkReplay, error) {
	f.Cursor, f.Limit = "", 1000
	var res store.BulkReplay
	var ids []string
	for {
		next, err := s.scanEvents(ctx, f, func(ev *store.Event) bool {
			if len(ids) == store.MaxBulkReplay {
				res.Truncated = true
				return false
			}
			if ev.ErasedAt != nil || !store.Replayable(ev.Status) {
				res.Skipped++
			} else {
				ids = append(ids, ev.ID)
			}
			return true
		})
		if err != nil {
			return store.BulkReplay{}, fmt.Errorf("inbox: bulk replay: %w", err)
		}
		if next == "" || res.Truncated {
			break
		}
		f.Cursor = next // a search stopped at its scan bound: go on
	}
	if dryRun {
		res.Replayed = len(ids)
		return res, nil
	}
	for len(ids) > 0 {
		batch := ids[:min(bulkReplayBatch, len(ids))]
		ids = ids[len(batch):]
		done, err := s.replayBatch(ctx, batch, now)
		if err != nil {
			return res, fmt.Errorf("inbox: bulk replay: %w (%d events replayed before)", err, res.Replayed)
		}
		res.Replayed += done
		res.Skipped += len(batch) - done
	}
	if res.Replayed > 0 {
		s.wake.signal(store.TopicInbox)
	}
	return res, nil
}

// replayBatch replays the events with ids that are still replayable, in
// one transaction, and returns how many.
func (s *Store) replayBatch(ctx context.Context, ids []string, now time.Time) (int, error) {
	done := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		evs, err := lockEvents(ctx, tx, ids)
		if err != nil {
			return err
		}
		var c eventColumns
		for _, ev := range evs {
			if err := store.Replay(&ev, now); errors.Is(err, store.ErrNotReplayable) {
				continue // changed since the scan (a worker, another replay)
			}
			if err := c.add(&ev); err != nil {
				return err
			}
		}
		done = len(c.ids)
		if done == 0 {
			return nil
		}
		if _, err := updateEvents(ctx, tx, &c); err != nil {
			return err
		}
		return notify(ctx, tx, store.TopicInbox)
	})
	return done, err
}
