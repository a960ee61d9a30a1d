package postgres

import (
	"context"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// A replica's heartbeat: every heartbeatEvery it stamps its row in
// replicas, and a lease whose owner has not stamped for goneAfter belongs
// to a replica that is gone (killed, its machine lost). Then its leased
// events and outbox items are due at once and its dialing calls are
// OrphanedDialing, so a live replica takes the work over in seconds
// instead of after the lease (the inbox's and the outbox's are minutes, a
// dialing attempt's half an hour).
const (
	heartbeatEvery = 2 * time.Second
	goneAfter      = 15 * time.Second
)

// liveOwners is the SQL of the owners seen since $2 (nanos): now less
// goneAfter.
const liveOwners = `SELECT owner FROM replicas WHERE seen_ns >= $2`

// heartbeat runs until stop closes: it stamps this store's row, takes back
// what gone replicas leased, and removes the row on the way out.
func (s *Store) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), heartbeatEvery)
		if err := s.beat(ctx, time.Now()); err != nil {
			s.log.Warn("replica heartbeat failed; retrying", "error", err)
		}
		cancel()
		select {
		case <-stop:
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s.pool.Exec(ctx, `DELETE FROM replicas WHERE owner = $1`, s.owner) //nolint:errcheck // a row left behind just ages out
			cancel()
			return
		case <-t.C:
		}
	}
}

// beat stamps this replica alive and makes what a gone replica had
// claimed, events and outbox items, due now (waking their workers).
func (s *Store) beat(ctx context.Context, now time.Time) error {
	n := nanos(now)
	if _, err := s.pool.Exec(ctx, `INSERT INTO replicas (owner, seen_ns) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET seen_ns = greatest(replicas.seen_ns, EXCLUDED.seen_ns)`, s.owner, n); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE events SET due_ns = $1, lease_owner = NULL, lease_ns = NULL
		WHERE lease_owner IS NOT NULL AND due_ns > $1 AND lease_owner NOT IN (`+liveOwners+`)`, n, n-int64(goneAfter))
	if err != nil {
		return err
	}
	if tag.RowsAffected() > 0 {
		s.log.Info("took back the events a gone replica had claimed", "events", tag.RowsAffected())
		if err := notify(ctx, s.pool, store.TopicInbox); err != nil {
			return err
		}
	}
	tag, err = s.pool.Exec(ctx, `UPDATE outbox SET next_ns = $1, lease_owner = NULL
		WHERE lease_owner IS NOT NULL AND next_ns > $1 AND lease_owner NOT IN (`+liveOwners+`)`, n, n-int64(goneAfter))
	if err != nil {
		return err
	}
	if tag.RowsAffected() > 0 {
		s.log.Info("took back the notifications a gone replica was delivering", "items", tag.RowsAffected())
		return notify(ctx, s.pool, store.TopicOutbox)
	}
	return nil
}
