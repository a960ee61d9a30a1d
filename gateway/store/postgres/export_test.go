package postgres

import (
	"context"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// URLOf is the URL s was opened with, for tests that look at its tables.
func URLOf(s *Store) string { return s.pool.Config().ConnString() }

// AppendOneCommit stores evs in a transaction of their own, bypassing the
// group commit: the baseline of BenchmarkAppendEvents.
func (s *Store) AppendOneCommit(ctx context.Context, evs []store.Event, now time.Time) (store.AppendResult, error) {
	r := &appendReq{ctx: ctx, evs: evs, now: now.UTC()}
	err := s.writeBatch(ctx, []*appendReq{r})
	return r.res, err
}
