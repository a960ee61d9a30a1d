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

// Erase removes what the database holds about one person (docs/privacy.md),
// redacting with store.Erasure as every backend does: their calls, the
// events about them, the notifications about their calls, and the
// per-contact dedupe entries keyed by their number. Ids, statuses, times
// and reasons' wording stay for the audit; the DND list is left alone.
//
// It is one transaction: the records it rewrites are locked, so a replica
// changing one of them at the same time either commits first (and is
// erased) or waits and finds it erased. Events and notifications are
// found by a scan, as with bbolt; calls by their source and number.
// PostgreSQL keeps a rewritten row's old version until VACUUM reclaims
// it, and in its WAL and backups until they are rotated.
func (s *Store) Erase(ctx context.Context, req store.EraseRequest) (store.EraseReport, error) {
	if err := req.Check(); err != nil {
		return store.EraseReport{}, err
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	now := req.Now.UTC()
	var rep store.EraseReport
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rep = store.EraseReport{}
		target, err := s.findPerson(ctx, tx, req)
		if err != nil {
			return fmt.Errorf("find the person's data: %w", err)
		}
		e := target.Erasure()
		for _, step := range []func(context.Context, pgx.Tx, *store.EraseTarget, *store.Erasure, time.Time, *store.EraseReport) error{
			s.eraseCalls, eraseEvents, s.eraseOutbox, eraseDedupeKeys,
		} {
			if err := step(ctx, tx, target, e, now, &rep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.EraseReport{}, fmt.Errorf("store: erase: %w", err)
	}
	return rep, nil
}

// findPerson gathers the person's calls: the contact's, then every call
// to each of their numbers.
func (s *Store) findPerson(ctx context.Context, tx pgx.Tx, req store.EraseRequest) (*store.EraseTarget, error) {
	target := store.NewEraseTarget(req)
	if req.Contact != nil {
		calls, err := sourceCalls(ctx, tx, *req.Contact)
		if err != nil {
			return nil, err
		}
		for _, c := range calls {
			target.AddCall(c)
		}
	}
	for i := 0; i < len(target.Numbers); i++ {
		calls, err := queryCalls(ctx, tx, `SELECT record FROM calls WHERE to_number = $1 ORDER BY created_ns, id`, target.Numbers[i])
		if err != nil {
			return nil, err
		}
		for _, c := range calls {
			target.AddCall(c)
		}
	}
	return target, nil
}

func (s *Store) eraseCalls(ctx context.Context, tx pgx.Tx, target *store.EraseTarget, e *store.Erasure, now time.Time, rep *store.EraseReport) error {
	for _, id := range target.Calls {
		old, err := getCall(ctx, tx, id, "FOR UPDATE")
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c := store.CloneCall(old)
		e.EraseCall(&c, now)
		if err := s.writeCall(ctx, tx, &old, &c); err != nil {
			return err
		}
		rep.Calls++
	}
	return nil
}

// eraseEvents redacts the person's events; a pending one is settled
// (ignored) rather than processed with its data gone.
func eraseEvents(ctx context.Context, tx pgx.Tx, target *store.EraseTarget, e *store.Erasure, now time.Time, rep *store.EraseReport) error {
	ids, err := scanRecords(ctx, tx, `SELECT id, record FROM events`, func(raw []byte) (bool, error) {
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return false, fmt.Errorf("event: corrupt record: %w", err)
		}
		return target.EventIsTheirs(e, ev, raw), nil
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	evs, err := lockEvents(ctx, tx, ids)
	if err != nil {
		return err
	}
	var cols eventColumns
	for i := range evs {
		ev := &evs[i]
		e.EraseEvent(ev, now)
		if ev.Status == store.EventPending {
			store.SettleErased(ev)
			rep.SettledEvents++
		}
		if err := cols.add(ev); err != nil {
			return err
		}
		rep.Events++
	}
	_, err = updateEvents(ctx, tx, &cols)
	return err
}

// eraseOutbox redacts the notifications, pending and dead, about the
// person's calls or holding their number.
func (s *Store) eraseOutbox(ctx context.Context, tx pgx.Tx, target *store.EraseTarget, e *store.Erasure, now time.Time, rep *store.EraseReport) error {
	ids, err := scanRecords(ctx, tx, `SELECT id, record FROM outbox`, func(raw []byte) (bool, error) {
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return false, fmt.Errorf("outbox item: corrupt record: %w", err)
		}
		return target.OutboxIsTheirs(e, it, raw), nil
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT record FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return err
	}
	items, err := decodeOutbox(rows)
	if err != nil {
		return err
	}
	for i := range items {
		e.EraseOutbox(&items[i], now)
		if items[i].Dead {
			rep.DeadLetters++
		} else {
			rep.Outbox++
		}
	}
	return s.putOutbox(ctx, tx, items)
}

// eraseDedupeKeys forgets the per-contact dedupe entries whose key holds
// one of the numbers (/call/outbound's "api:<number>").
func eraseDedupeKeys(ctx context.Context, tx pgx.Tx, _ *store.EraseTarget, e *store.Erasure, _ time.Time, rep *store.EraseReport) error {
	rows, err := tx.Query(ctx, `SELECT agent_id, contact_key FROM call_contacts`)
	if err != nil {
		return err
	}
	var agents, keys []string
	for rows.Next() {
		var agent, key string
		if err := rows.Scan(&agent, &key); err != nil {
			rows.Close()
			return err
		}
		if e.HoldsNumber([]byte(agent + "\x00" + key)) {
			agents, keys = append(agents, agent), append(keys, key)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(keys) == 0 {
		return err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM call_contacts c USING unnest($1::text[], $2::text[]) AS t(agent_id, contact_key)
		WHERE c.agent_id = t.agent_id AND c.contact_key = t.contact_key`, agents, keys)
	rep.DedupeKeys += int(tag.RowsAffected())
	return err
}

// scanRecords returns the ids of the rows (id, record) for which theirs
// is true.
func scanRecords(ctx context.Context, tx pgx.Tx, sql string, theirs func(raw []byte) (bool, error)) ([]string, error) {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, err
		}
		ok, err := theirs(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}
