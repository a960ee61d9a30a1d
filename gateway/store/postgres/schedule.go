package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
)

// The schedule is two partial indexes of the calls table: calls_due
// (dialer, next_attempt_ns) over waiting attempts, and calls_leases
// (lease_until_ns) over attempts being dialed, whose lease_owner says
// which replica dials them. Every replica sees every lane; a claim locks
// the rows it takes, so two replicas never dial one attempt.

// dndLockSQL takes the transaction-scoped shared lock ClaimDue holds on
// each number while it reads the DND list and commits its decision. The
// DND part's AddDND takes the same key exclusively
// (pg_advisory_xact_lock(hashtextextended('callgate:dnd:' || number, 0))),
// so a number listed while a claim is in flight is either seen by the
// claim or listed after the attempt was dialed: never listed, committed
// and then dialed.
const dndLockSQL = `SELECT pg_advisory_xact_lock_shared(hashtextextended('callgate:dnd:' || n, 0))
	FROM unnest($1::text[]) AS t(n)`

// NextDue returns the earliest due time of a waiting attempt on dialer.
func (s *Store) NextDue(ctx context.Context, dialer string) (time.Time, bool, error) {
	return s.earliest(ctx, `SELECT min(next_attempt_ns) FROM calls WHERE dialer = $1 AND next_attempt_ns IS NOT NULL`, dialer)
}

// NextLease returns the earliest lease expiry of an attempt being dialed,
// by any replica.
func (s *Store) NextLease(ctx context.Context) (time.Time, bool, error) {
	return s.earliest(ctx, `SELECT min(lease_until_ns) FROM calls WHERE lease_until_ns IS NOT NULL`)
}

func (s *Store) earliest(ctx context.Context, sql string, args ...any) (time.Time, bool, error) {
	var n *int64
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return time.Time{}, false, fmt.Errorf("store: read the schedule: %w", err)
	}
	if n == nil {
		return time.Time{}, false, nil
	}
	return fromNanos(*n), true, nil
}

const dueSQL = `SELECT record FROM calls WHERE dialer = $1 AND next_attempt_ns <= $2
	ORDER BY next_attempt_ns, id LIMIT $3`

// DueCalls returns up to limit calls waiting on dialer whose attempt is
// due at or before now, earliest first.
func (s *Store) DueCalls(ctx context.Context, dialer string, now time.Time, limit int) ([]store.Call, error) {
	calls, err := queryCalls(ctx, s.pool, dueSQL, dialer, nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due calls on dialer %s: %w", dialer, err)
	}
	return calls, nil
}

// ClaimDue takes up to limit attempts due on dialer at now, earliest
// first, skipping those another replica has locked, and hands each call to
// fn in one transaction with whether its number is on the DND list as of
// that transaction (see dndLockSQL). fn moves the call on and reports
// whether it claimed it for dialing; what it made of each call, and the
// outbox items it returned, commit together; ErrNoChange leaves a call
// untouched. ClaimDue returns the claimed calls as written.
func (s *Store) ClaimDue(ctx context.Context, dialer string, now time.Time, limit int,
	fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error) {
	return s.claimDue(ctx, dialer, now, limit, 0, fn)
}

// ClaimDueCapped is ClaimDue that also keeps the dialer's attempts in
// flight, every replica's, at or under maxInFlight: claims of one dialer
// take turns on a transaction-scoped advisory lock, and each counts the
// dialing calls before it takes any.
func (s *Store) ClaimDueCapped(ctx context.Context, dialer string, now time.Time, limit, maxInFlight int,
	fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error) {
	return s.claimDue(ctx, dialer, now, limit, maxInFlight, fn)
}

func (s *Store) claimDue(ctx context.Context, dialer string, now time.Time, limit, maxInFlight int,
	fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error) {
	var claimed []store.Call
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		claimed = nil
		if maxInFlight > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('callgate:claim:' || $1, 0))`, dialer); err != nil {
				return err
			}
			var dialing int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM calls WHERE dialer = $1 AND status = 'dialing'`, dialer).Scan(&dialing); err != nil {
				return err
			}
			if limit = min(limit, maxInFlight-dialing); limit <= 0 {
				return nil
			}
		}
		due, err := queryCalls(ctx, tx, dueSQL+` FOR UPDATE SKIP LOCKED`, dialer, nanos(now), limit)
		if err != nil || len(due) == 0 {
			return err
		}
		listed, err := listedNumbers(ctx, tx, due)
		if err != nil {
			return err
		}
		for _, old := range due {
			c := store.CloneCall(old)
			ok, items, err := fn(&c, listed[c.ToNumber])
			if errors.Is(err, store.ErrNoChange) {
				continue
			}
			if err != nil {
				return fmt.Errorf("%w: %w", errClaimFunc, err)
			}
			if err := s.writeCall(ctx, tx, &old, &c); err != nil {
				return err
			}
			if err := s.putOutbox(ctx, tx, items); err != nil {
				return err
			}
			if ok {
				claimed = append(claimed, c)
			}
		}
		return nil
	})
	if err != nil && len(claimed) > 0 && !errors.Is(err, errClaimFunc) && ctx.Err() == nil && s.claimCommitted(ctx, claimed) {
		// The connection broke around the commit, and the commit held:
		// the calls are ours and must be dialed, not left dialing.
		return claimed, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim due calls on dialer %s: %w", dialer, err)
	}
	return claimed, nil
}

// neverPlacedAfter is how long an attempt may be dialing without having
// reached the platform before it counts as orphaned: far longer than a
// dial request takes. Recovering one a live replica is still sending is
// safe (re-sent with the same idempotency key, or marked for an operator).
const neverPlacedAfter = 5 * time.Minute

// errClaimFunc marks an error of the claim func itself: the transaction
// was rolled back on purpose.
var errClaimFunc = errors.New("claim func failed")

// confirmFor bounds how long a claim whose commit went unanswered waits
// for the database to say whether it committed.
const confirmFor = 30 * time.Second

// claimCommitted tells, once the database answers again, whether a claim
// whose commit returned an error committed after all (its calls dialing
// under this owner at the attempt it made). A claim whose fate stays
// unknown is left to OrphanedDialing's rule for attempts never placed.
func (s *Store) claimCommitted(ctx context.Context, claimed []store.Call) bool {
	ids, attempts := make([]string, len(claimed)), make([]int32, len(claimed))
	for i, c := range claimed {
		ids[i], attempts[i] = c.ID, int32(len(c.Attempts))
	}
	deadline := time.Now().Add(confirmFor)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		var owned int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[], $3::int[]) AS t(id, n) JOIN calls c ON c.id = t.id
			WHERE c.status = 'dialing' AND c.lease_owner = $2 AND json_array_length(c.record->'attempts') = t.n`,
			ids, s.owner, attempts).Scan(&owned)
		if err == nil {
			return owned == len(claimed)
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// listedNumbers locks the calls' numbers against a concurrent AddDND and
// returns which of them are on the DND list.
func listedNumbers(ctx context.Context, tx pgx.Tx, calls []store.Call) (map[string]bool, error) {
	var numbers []string
	for _, c := range calls {
		if c.ToNumber != "" {
			numbers = append(numbers, c.ToNumber)
		}
	}
	slices.Sort(numbers)
	numbers = slices.Compact(numbers)
	if _, err := tx.Exec(ctx, dndLockSQL, numbers); err != nil {
		return nil, fmt.Errorf("lock the numbers against the DND list: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT number FROM dnd WHERE number = ANY($1)`, numbers)
	if err != nil {
		return nil, fmt.Errorf("read the DND list: %w", err)
	}
	on, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the DND list: %w", err)
	}
	listed := make(map[string]bool, len(on))
	for _, n := range on {
		listed[n] = true
	}
	return listed, nil
}

// DueDialers lists the dialers that have waiting attempts.
func (s *Store) DueDialers(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT dialer COLLATE "C" FROM calls WHERE next_attempt_ns IS NOT NULL ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store: due dialers: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: due dialers: %w", err)
	}
	return names, nil
}

// ExpiredLeases returns the ids of up to limit calls in dialing whose
// lease ran out at or before now, earliest first, whichever replica
// dialed them.
func (s *Store) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM calls WHERE lease_until_ns <= $1 ORDER BY lease_until_ns, id LIMIT $2`,
		nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expired leases: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: expired leases: %w", err)
	}
	return ids, nil
}

// InFlight counts the calls dialing on dialer, on every replica.
func (s *Store) InFlight(ctx context.Context, dialer string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE status = $1 AND dialer = $2`, store.CallDialing, dialer).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: calls in flight on dialer %s: %w", dialer, err)
	}
	return n, nil
}

// OrphanedDialing returns the calls left dialing by a replica that is
// gone: those whose lease expired at or before now, whoever set it, and
// those whose owner stopped its heartbeat (replicas.go; wall-clock time,
// as the heartbeat is), and those whose attempt was started
// neverPlacedAfter ago and never placed (a claim whose commit went
// unanswered and could not be confirmed: see claimCommitted). A live replica's calls keep their lease until
// their outcome or its expiry, so they are not taken from it.
func (s *Store) OrphanedDialing(ctx context.Context, now time.Time) ([]store.Call, error) {
	calls, err := queryCalls(ctx, s.pool, `SELECT record FROM calls WHERE lease_until_ns IS NOT NULL
		AND (lease_until_ns <= $1 OR lease_owner NOT IN (`+liveOwners+`)
		  OR (record->'attempts'->-1->>'placed_at' IS NULL AND record->'attempts'->-1->>'needs_operator' IS NULL
		      AND (record->'attempts'->-1->>'started_at')::timestamptz < $3))
		ORDER BY lease_until_ns, id`, nanos(now), nanos(time.Now().Add(-goneAfter)), now.Add(-neverPlacedAfter))
	if err != nil {
		return nil, fmt.Errorf("store: orphaned dialing calls: %w", err)
	}
	return calls, nil
}
