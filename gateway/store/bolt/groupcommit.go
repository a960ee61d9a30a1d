package bolt

import (
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// groupMax bounds one group's transaction (bbolt's MaxBatchSize default).
const groupMax = 1000

// groupCommit commits the call writes (CreateCall, UpdateCall, MutateCall)
// that arrive while a commit is in progress together, in the next
// transaction. bbolt's db.Batch groups them too, but holds each group
// open for MaxBatchDelay (10 ms) waiting for company, which paced the
// pipeline's creations and the scheduler's outcomes at one group per
// 10 ms (docs/performance.md). Here nobody waits for company: a write that
// finds no commit running commits at once, alone; those that arrive
// during it are committed by the first of them as soon as it ends, so
// each commit's fsync is shared by everything that queued behind the last.
//
// No goroutine of its own: the caller whose write heads a group runs its
// transaction, then hands the next group to that group's first writer and
// returns.
type groupCommit struct {
	mu    sync.Mutex
	busy  bool
	queue []*groupJob
}

type groupJob struct {
	fn  func(*bbolt.Tx) error
	res chan groupResult // buffered: one message, never blocks the sender
}

// groupResult is either a job's outcome or, with lead set, the group the
// job now heads and must commit (the job is its first member).
type groupResult struct {
	err  error
	lead []*groupJob
}

// run commits fn in a group transaction. fn may run more than once (a
// group whose transaction fails is retried one writer at a time), so it
// must only change the transaction and its own results.
func (g *groupCommit) run(db *bbolt.DB, fn func(*bbolt.Tx) error) error {
	j := &groupJob{fn: fn, res: make(chan groupResult, 1)}
	g.mu.Lock()
	if g.busy {
		g.queue = append(g.queue, j)
		g.mu.Unlock()
		r := <-j.res
		if r.lead == nil {
			return r.err
		}
		g.commit(db, r.lead)
	} else {
		g.busy = true
		g.mu.Unlock()
		g.commit(db, []*groupJob{j})
	}
	g.handOff()
	return (<-j.res).err
}

// handOff gives the writes queued during the last commit to the first of
// them to commit, or marks the committer idle.
func (g *groupCommit) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.busy = false
		return
	}
	n := min(len(g.queue), groupMax)
	next := g.queue[:n:n]
	g.queue = append([]*groupJob(nil), g.queue[n:]...)
	next[0].res <- groupResult{lead: next}
}

// commit runs every job's fn in one transaction and answers each. If the
// transaction fails, each job is retried in a transaction of its own, so
// one writer's error (a duplicate, a missing call) fails only that writer.
func (g *groupCommit) commit(db *bbolt.DB, jobs []*groupJob) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, j := range jobs {
			if err := guarded(j.fn, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(jobs) == 1 {
		for _, j := range jobs {
			j.res <- groupResult{err: err}
		}
		return
	}
	for _, j := range jobs {
		j.res <- groupResult{err: db.Update(func(tx *bbolt.Tx) error { return guarded(j.fn, tx) })}
	}
}

// guarded runs fn, turning a panic into an error for that writer alone:
// the committer is some other writer's goroutine, which must go on.
func guarded(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a call write: %v", p)
		}
	}()
	return fn(tx)
}
