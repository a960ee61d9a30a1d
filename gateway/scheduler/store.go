package scheduler

import (
	"context"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// Store is what the scheduler needs of the store (store.Store has it
// all): calls, their schedule and leases, and the wake-ups of its lanes.
//
// Writes that record what a voice platform did (an outcome, a placed or
// uncertain dial) run under a context that is never canceled: a shutdown
// starting meanwhile must not drop them.
type Store interface {
	NewID(t time.Time) string
	CreateCall(ctx context.Context, c store.Call, o store.CreateOptions) (store.Call, bool, error)
	GetCall(ctx context.Context, id string) (store.Call, error)
	MutateCall(ctx context.Context, id string, fn func(c *store.Call) ([]store.OutboxItem, error)) (store.Call, error)
	ActiveCalls(ctx context.Context, agentID, number string) ([]store.Call, error)
	SourceCalls(ctx context.Context, f store.SourceFilter) ([]store.Call, error)
	Erase(ctx context.Context, req store.EraseRequest) (store.EraseReport, error)

	NextDue(ctx context.Context, dialer string) (time.Time, bool, error)
	ClaimDue(ctx context.Context, dialer string, now time.Time, limit int, fn func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error)) ([]store.Call, error)
	DueDialers(ctx context.Context) ([]string, error)
	NextLease(ctx context.Context) (time.Time, bool, error)
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]string, error)
	InFlight(ctx context.Context, dialer string) (int, error)
	OrphanedDialing(ctx context.Context, now time.Time) ([]store.Call, error)

	store.Wakeups
}
