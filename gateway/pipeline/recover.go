package pipeline

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// A panic on one event (a record or rule the code cannot handle) fails
// that event with a reason and is logged with its stack; the batch and
// the workers go on. These wrap the stages of process.

// try runs fn and returns what it panicked with, and where.
func try(fn func()) (v any, stack []byte) {
	defer func() {
		if v = recover(); v != nil {
			stack = debug.Stack()
		}
	}()
	fn()
	return nil, nil
}

// failPanicked fails j after stage panicked on it.
func (p *Pipeline) failPanicked(j *job, stage string, v any, stack []byte) {
	p.log.Error("processing an event panicked; the event fails, the pipeline goes on", "event", j.ev.ID,
		"agent", j.ev.AgentID, "stage", stage, "panic", fmt.Sprint(v), "stack", string(stack))
	p.finish(j, store.EventFailed, fmt.Sprintf("internal error while %s %s %s (%v): see the server log; replay the event once callgate is fixed",
		stage, j.ev.ObjectType, j.ev.ObjectID, v))
}

// prepareGuarded is prepare with a panic failing the event.
func (p *Pipeline) prepareGuarded(cfg *config.Config, j *job) bool {
	var ok bool
	if v, stack := try(func() { ok = p.prepare(cfg, j) }); v != nil {
		p.failPanicked(j, "preparing", v, stack)
		return false
	}
	return ok
}

// fetchGuarded is fetch; after a panic each job of the chunk is fetched on
// its own, so only the record that panics fails.
func (p *Pipeline) fetchGuarded(ctx context.Context, chunk []*job, fields []string) {
	v, stack := try(func() { p.fetch(ctx, chunk, fields) })
	if v == nil {
		return
	}
	if len(chunk) == 1 {
		p.failPanicked(chunk[0], "fetching", v, stack)
		return
	}
	p.log.Warn("fetching a batch panicked; fetching its records one by one", "events", len(chunk), "panic", fmt.Sprint(v))
	for _, j := range chunk {
		if !j.done {
			j.rec = nil
			p.fetchGuarded(ctx, []*job{j}, fields)
		}
	}
}

// decideGuarded is decide with a panic failing the event.
func (p *Pipeline) decideGuarded(ctx context.Context, cfg *config.Config, j *job) {
	if v, stack := try(func() { p.decide(ctx, cfg, j) }); v != nil {
		p.failPanicked(j, "deciding on", v, stack)
	}
}

// processOnceGuarded is ProcessOnce for Run: a panic outside any one
// event's stages (claiming, saving) is logged and reported as an error,
// so Run claims again instead of taking the process down. The claimed
// events come back when their lease ends.
func (p *Pipeline) processOnceGuarded(ctx context.Context) (n int, err error) {
	if v, stack := try(func() { n, err = p.ProcessOnce(ctx) }); v != nil {
		p.log.Error("processing a batch panicked", "panic", fmt.Sprint(v), "stack", string(stack))
		return 0, fmt.Errorf("internal error (%v)", v)
	}
	return n, err
}
