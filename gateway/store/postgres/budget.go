package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeDials takes up to want tokens from dialer's bucket, refilled for the
// time since it was last taken from. The row lock makes replicas take in
// turn, so the sum of their dials keeps the rate.
func (s *Store) TakeDials(ctx context.Context, dialer string, want int, perSecond float64, burst int, now time.Time) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	var granted int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO dial_budget (dialer, tokens, updated_at) VALUES ($1, $2, $3) ON CONFLICT (dialer) DO NOTHING`,
			dialer, float64(burst), now); err != nil {
			return err
		}
		var tokens float64
		var updated time.Time
		if err := tx.QueryRow(ctx, `SELECT tokens, updated_at FROM dial_budget WHERE dialer = $1 FOR UPDATE`, dialer).Scan(&tokens, &updated); err != nil {
			return err
		}
		tokens = refill(tokens, updated, now, perSecond, burst)
		granted = min(want, int(math.Floor(tokens)))
		_, err := tx.Exec(ctx, `UPDATE dial_budget SET tokens = $2, updated_at = GREATEST(updated_at, $3) WHERE dialer = $1`,
			dialer, tokens-float64(granted), now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: dial budget of %s: %w", dialer, err)
	}
	return granted, nil
}

// refill adds what perSecond earned since updated, up to burst. A clock
// behind the stored time earns nothing.
func refill(tokens float64, updated, now time.Time, perSecond float64, burst int) float64 {
	if d := now.Sub(updated); d > 0 {
		tokens += d.Seconds() * perSecond
	}
	return math.Min(tokens, float64(burst))
}
